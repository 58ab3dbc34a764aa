import type { AccessEntry } from '../core/access.js';
import { decide, type Decision, type Principal, type RegistryAction } from '../core/decide.js';
import { digestClosure, type Closure, type RepositoryGraph } from '../core/digest-closure.js';
import type { Token } from '../core/model.js';
import type { GraphSource } from './graph-source.js';

/** Who is asking, as the /v2 hook established it. */
export interface RegistryCaller {
  token: Token;
  principal: Principal;
  /** Set when the caller came with one of our JWTs: its grant bounds the request too. */
  jwtAccess?: AccessEntry[];
  /** The client's address when the request arrived (a socket closed later no longer knows it). */
  ip: string;
}

export type AccessVerdict = { allow: true } | { allow: false; status: 401 | 403; reason: string };

/**
 * Every /v2 decision in one place: decide() on the live principal (so a revoke
 * or suspension applies to the next request), bounded by the JWT's own grant,
 * and for customers by the digest closure of the tags they may pull.
 */
export class RegistryAccess {
  /** Closures by the set of tags a caller may pull, per graph: a graph that changes is a new object, and its closures go with it. */
  private readonly closures = new WeakMap<RepositoryGraph, Map<string, Closure>>();

  constructor(
    readonly graphs: GraphSource,
    private readonly now: () => Date,
  ) {}

  check(caller: RegistryCaller, action: RegistryAction, repository: string, tag?: string): AccessVerdict {
    if (caller.jwtAccess !== undefined) {
      const granted = caller.jwtAccess.some((e) => e.type === 'repository' && e.name === repository && (e.actions.includes(action) || e.actions.includes('*')));
      if (!granted) return { allow: false, status: 401, reason: `the token does not grant ${action} on ${repository}` };
    }
    const d: Decision = decide(caller.principal, action, repository, tag === undefined ? undefined : { tag }, this.now());
    return d.allow ? { allow: true } : { allow: false, status: 403, reason: d.reason };
  }

  /** May the caller pull this tag? decide() alone, for filtering lists. */
  mayPullTag(caller: RegistryCaller, repository: string, tag: string): boolean {
    return decide(caller.principal, 'pull', repository, { tag }, this.now()).allow;
  }

  /**
   * What a caller may fetch by digest in a repository: everything for a vendor
   * token (its namespace was checked already); for a customer, only what a tag
   * it may pull reaches.
   */
  async reachable(caller: RegistryCaller, repository: string): Promise<Closure | 'all'> {
    if (caller.principal.kind === 'vendor') return 'all';
    const graph = await this.graphs.graph(repository);
    // Customers of one license pull the same tags: one walk serves them all until the graph changes.
    const allowed = graph.tags.filter((t) => this.mayPullTag(caller, repository, t.tag));
    const key = allowed.map((t) => t.tag).join('\u0000');
    let byTags = this.closures.get(graph);
    if (!byTags) {
      byTags = new Map();
      this.closures.set(graph, byTags);
    }
    let closure = byTags.get(key);
    if (!closure) {
      const tags = new Set(allowed.map((t) => t.tag));
      closure = digestClosure(graph, (tag) => tags.has(tag));
      if (byTags.size >= 1_000) byTags.clear();
      byTags.set(key, closure);
    }
    return closure;
  }

  async mayFetchDigest(caller: RegistryCaller, repository: string, digest: string, kind: 'manifest' | 'blob'): Promise<AccessVerdict> {
    const repoLevel = this.check(caller, 'pull', repository);
    if (!repoLevel.allow) return repoLevel;
    const reach = await this.reachable(caller, repository);
    if (reach === 'all') return { allow: true };
    const set = kind === 'manifest' ? reach.manifests : reach.blobs;
    // A blob may also be a manifest fetched through /blobs/ (clients do that).
    if (set.has(digest) || (kind === 'blob' && reach.manifests.has(digest))) return { allow: true };
    return { allow: false, status: 403, reason: `${digest} is not reachable from a tag of ${repository} you may pull` };
  }
}
