import { markRegistry } from '../core/registry-mark.js';
import type { Store } from '../store/store.js';
import type { BlobStore } from './blob-store.js';

export interface GcResult {
  /** Blobs no manifest and no repository link references any more. */
  removed: { digest: string; size: number }[];
  /** Repository links to blobs that no manifest of the repository references any more (see markRegistry). */
  unlinked: { repository: string; digest: string }[];
  /** Unreferenced but younger than the grace period: an upload may be about to link them. */
  spared: number;
  kept: number;
  abandonedUploads: number;
}

/**
 * Mark and sweep. Mark: what the manifests reference is kept; a repository's
 * blob link keeps its blob only while a manifest of that repository
 * references it, or while it is younger than `graceMs` (a push links its
 * blobs before it sends the manifest). Stale links are dropped, so the layers
 * and configs of deleted images become collectable. Sweep: every blob nothing
 * references goes, except blobs stored within `graceMs`, for the same reason.
 * Each deletion checks the store again first, so a push running beside the
 * collection keeps what it links or references in the meantime.
 */
export async function collectGarbage(
  store: Store,
  blobs: BlobStore,
  options: { now: Date; graceMs: number; uploadTimeoutMs: number; dryRun: boolean },
): Promise<GcResult> {
  const cutoff = new Date(options.now.getTime() - options.graceMs);
  const { manifests, links } = await store.registryReferences();
  const { referenced, staleLinks } = markRegistry(manifests, links, cutoff);
  const result: GcResult = { removed: [], unlinked: [], spared: 0, kept: 0, abandonedUploads: 0 };
  for (const link of staleLinks) {
    if (options.dryRun || (await store.dropStaleBlobLink(link.repository, link.digest, cutoff))) {
      result.unlinked.push({ repository: link.repository, digest: link.digest });
    } else {
      referenced.add(link.digest);
    }
  }
  for await (const digest of blobs.listDigests()) {
    if (referenced.has(digest)) {
      result.kept++;
      continue;
    }
    const st = await blobs.stat(digest);
    if (!st) continue;
    if (st.storedAt.getTime() > cutoff.getTime()) {
      result.spared++;
      continue;
    }
    // Look again right before deleting: a push may have linked it since the mark.
    if (!options.dryRun && (await store.isDigestReferenced(digest))) {
      result.kept++;
      continue;
    }
    if (!options.dryRun) await blobs.delete(digest);
    result.removed.push({ digest, size: st.size });
  }
  if (!options.dryRun) result.abandonedUploads = await blobs.pruneUploads(options.uploadTimeoutMs);
  return result;
}
