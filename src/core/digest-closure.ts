/**
 * What a tag entitlement reaches by digest (DESIGN §4): a customer who may pull
 * a tag may also pull, by digest, everything that tag needs — the index, its
 * platform manifests, their configs and layers — and the referrers hanging off
 * any of those (signatures, SBOMs), with their own children. `portcullis gc`
 * uses the same walk from every tag to find what must be kept.
 */

export interface GraphChild {
  digest: string;
  kind: 'manifest' | 'blob';
}

export interface GraphManifest {
  digest: string;
  children: readonly GraphChild[];
  /** The manifest this one refers to (OCI 1.1 `subject`). */
  subject?: string;
}

export interface RepositoryGraph {
  tags: readonly { tag: string; digest: string }[];
  manifests: readonly GraphManifest[];
}

export interface Closure {
  manifests: Set<string>;
  blobs: Set<string>;
}

/**
 * Everything reachable from the roots. A digest the graph does not hold (a
 * dangling child, a tag whose manifest is gone) is skipped, and reaches nothing.
 * Each manifest is expanded once, so cycles end; referrers join when their
 * subject does, which is the fixed point without a second pass.
 */
export function reachableFrom(graph: RepositoryGraph, rootDigests: Iterable<string>): Closure {
  const byDigest = new Map<string, GraphManifest>();
  const referrers = new Map<string, string[]>();
  for (const m of graph.manifests) {
    byDigest.set(m.digest, m);
    if (m.subject !== undefined) referrers.set(m.subject, [...(referrers.get(m.subject) ?? []), m.digest]);
  }

  const manifests = new Set<string>();
  const blobs = new Set<string>();
  const pending = [...rootDigests];
  for (let digest = pending.pop(); digest !== undefined; digest = pending.pop()) {
    const manifest = byDigest.get(digest);
    if (manifest === undefined || manifests.has(digest)) continue;
    manifests.add(digest);
    for (const child of manifest.children) {
      if (child.kind === 'blob') blobs.add(child.digest);
      else pending.push(child.digest);
    }
    pending.push(...(referrers.get(digest) ?? []));
  }
  return { manifests, blobs };
}

/** The digests a caller may pull: the closure of the tags `mayPullTag` admits. */
export function digestClosure(graph: RepositoryGraph, mayPullTag: (tag: string) => boolean): Closure {
  return reachableFrom(
    graph,
    graph.tags.filter((t) => mayPullTag(t.tag)).map((t) => t.digest),
  );
}
