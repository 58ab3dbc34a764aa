import { PortcullisError } from '../core/errors.js';
import { forEachLimited } from '../core/for-each-limited.js';
import type { GraphManifest, RepositoryGraph } from '../core/digest-closure.js';
import { children, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, MAX_MANIFEST_BYTES, OCI_INDEX, OCI_MANIFEST, parseManifest } from '../core/oci-manifest.js';
import type { AccessCache, CacheCounts } from '../auth/access-cache.js';
import type { Store } from '../store/store.js';
import { sha256Digest } from './blob-store.js';
import { repositoryAccess, type Upstream } from './upstream.js';

/** A repository's tags and manifests, which the digest closure walks. */
export interface GraphSource {
  graph(repository: string): Promise<RepositoryGraph>;
  /** A push or delete went through Portcullis: what was known of the repository is stale. */
  changed(repository: string): void;
  /** Hits and misses of caches the source keeps itself, for the metrics. */
  cacheCounts?(): Readonly<Record<string, CacheCounts>>;
  /** Repositories whose graph the source holds itself, for tests. */
  cachedRepositories?(): string[];
}

/** The built-in registry: the store's rows, cached until the store's change marker moves. */
export function storeGraphs(store: Store, cache: AccessCache): GraphSource {
  return {
    graph: (repository) =>
      cache.value('repository_graph', repository, async () => {
        const [tags, manifests] = await Promise.all([store.listTags(repository), store.listManifests(repository)]);
        return {
          tags,
          manifests: manifests.map((m) => ({ digest: m.digest, children: m.children, ...(m.subject === null ? {} : { subject: m.subject }) })),
        };
      }),
    // Every write moves the store's change marker, which drops the cache by itself.
    changed: () => undefined,
  };
}

const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].join(', ');
const PARALLEL_FETCHES = 8;
const MAX_CACHED_MANIFESTS = 50_000;


/**
 * Gateway mode: the graph read from the upstream. A tag's digest comes from a
 * HEAD; a manifest is fetched only the first time its digest is seen, since
 * what a digest names never changes. A repository's graph is kept until a
 * notification or a push through Portcullis says it changed, or `ttlMs` passes
 * (a safety net for a missed notification).
 */
export class UpstreamGraphs implements GraphSource {
  private readonly graphs = new Map<string, { loadedAt: number; graph: Promise<RepositoryGraph> }>();
  private readonly manifests = new Map<string, GraphManifest | null>();
  private readonly counts = { upstream_graph: { hits: 0, misses: 0 }, upstream_manifest: { hits: 0, misses: 0 } };

  constructor(
    private readonly upstream: Upstream,
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  graph(repository: string): Promise<RepositoryGraph> {
    const cached = this.graphs.get(repository);
    if (cached && this.clock() - cached.loadedAt < this.ttlMs) {
      this.counts.upstream_graph.hits++;
      return cached.graph;
    }
    this.counts.upstream_graph.misses++;
    const entry = { loadedAt: this.clock(), graph: this.load(repository) };
    this.graphs.set(repository, entry);
    // A failed load is not kept: the next request tries again.
    entry.graph.catch(() => {
      if (this.graphs.get(repository) === entry) this.graphs.delete(repository);
    });
    return entry.graph;
  }

  changed(repository: string): void {
    this.graphs.delete(repository);
  }

  cacheCounts(): Readonly<Record<string, CacheCounts>> {
    return this.counts;
  }

  /** Repositories whose graph is held, for tests and metrics. */
  cachedRepositories(): string[] {
    return [...this.graphs.keys()];
  }

  private async load(repository: string): Promise<RepositoryGraph> {
    const access = [repositoryAccess(repository, 'pull')];
    const tagNames = (await this.upstream.list(`/v2/${repository}/tags/list`, 'tags', access)) ?? [];
    const tags: { tag: string; digest: string }[] = [];
    await forEachLimited(tagNames, PARALLEL_FETCHES, async (tag) => {
      const res = await this.upstream.fetch({ method: 'HEAD', path: `/v2/${repository}/manifests/${encodeURIComponent(tag)}`, access, headers: { accept: MANIFEST_ACCEPT } }, 0);
      const digest = res.headers['docker-content-digest'];
      // Deleted between the list and the HEAD: the tag reaches nothing.
      if (res.status === 200 && typeof digest === 'string') tags.push({ tag, digest });
    });

    const manifests = new Map<string, GraphManifest>();
    let pending = [...new Set(tags.map((t) => t.digest))];
    while (pending.length > 0) {
      const found: GraphManifest[] = [];
      await forEachLimited(pending, PARALLEL_FETCHES, async (digest) => {
        const m = await this.manifest(repository, digest);
        if (m) found.push(m);
      });
      for (const m of found) manifests.set(m.digest, m);
      pending = [...new Set(found.flatMap((m) => m.children.filter((c) => c.kind === 'manifest' && !manifests.has(c.digest)).map((c) => c.digest)))];
    }
    tags.sort((a, b) => (a.tag < b.tag ? -1 : 1));
    return { tags, manifests: [...manifests.values()] };
  }

  /** One manifest's edges, from the cache or the upstream; null when it is missing or not a manifest Portcullis reads. */
  private async manifest(repository: string, digest: string): Promise<GraphManifest | null> {
    const key = `${repository}@${digest}`;
    const cached = this.manifests.get(key);
    if (cached !== undefined) {
      this.counts.upstream_manifest.hits++;
      return cached;
    }
    this.counts.upstream_manifest.misses++;
    const res = await this.upstream.fetch(
      { method: 'GET', path: `/v2/${repository}/manifests/${digest}`, access: [repositoryAccess(repository, 'pull')], headers: { accept: MANIFEST_ACCEPT } },
      MAX_MANIFEST_BYTES,
    );
    // Not cached: a digest missing now may be pushed later.
    if (res.status !== 200) return null;
    let edges: GraphManifest | null = null;
    // The digest is the content's: an upstream that answered other bytes does not get them believed.
    if (sha256Digest(res.body) === digest) {
      try {
        const parsed = parseManifest(res.body, res.headers['content-type'] as string | undefined);
        edges = {
          digest,
          children: children(parsed).map((c) => ({ digest: c.digest, kind: c.kind })),
          ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
        };
      } catch (err) {
        if (!(err instanceof PortcullisError)) throw err;
      }
    }
    if (this.manifests.size >= MAX_CACHED_MANIFESTS) this.manifests.clear();
    this.manifests.set(key, edges);
    return edges;
  }
}
