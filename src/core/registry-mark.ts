/**
 * The mark phase of the built-in registry's garbage collection, as
 * distribution's mark-and-sweep has it: what the live manifests reference is
 * kept, in every repository. A repository's blob link keeps its blob only
 * while a manifest of that repository references it, or while it is young
 * enough to belong to a push whose manifest has not arrived yet.
 */

/** A manifest as marking sees it: its own digest and the digests it points at (config, layers, child manifests). */
export interface MarkManifest {
  repository: string;
  digest: string;
  children: readonly string[];
}

/** A blob linked into a repository by an upload or a mount; `linkedAt` moves when it is linked or referenced again. */
export interface MarkLink {
  repository: string;
  digest: string;
  size: number;
  linkedAt: Date;
}

export interface Marked {
  /** Digests to keep, whichever repository holds them. */
  referenced: Set<string>;
  /** Links that nothing keeps any more: dropping them is what lets their blobs go. */
  staleLinks: MarkLink[];
}

/** Links made at or after `linkCutoff` are kept whatever references them (the grace period of in-flight pushes). */
export function markRegistry(manifests: readonly MarkManifest[], links: readonly MarkLink[], linkCutoff: Date): Marked {
  const referenced = new Set<string>();
  const byRepository = new Map<string, Set<string>>();
  for (const m of manifests) {
    let inRepository = byRepository.get(m.repository);
    if (!inRepository) byRepository.set(m.repository, (inRepository = new Set()));
    for (const d of [m.digest, ...m.children]) {
      referenced.add(d);
      inRepository.add(d);
    }
  }
  const staleLinks: MarkLink[] = [];
  for (const link of links) {
    const live = link.linkedAt.getTime() >= linkCutoff.getTime() || byRepository.get(link.repository)?.has(link.digest) === true;
    if (live) referenced.add(link.digest);
    else staleLinks.push(link);
  }
  return { referenced, staleLinks };
}
