import type { Store } from '../store/store.js';
import type { BlobStore } from './blob-store.js';

export interface GcResult {
  /** Blobs no manifest and no repository link references any more. */
  removed: { digest: string; size: number }[];
  /** Unreferenced but younger than the grace period: an upload may be about to link them. */
  spared: number;
  kept: number;
  abandonedUploads: number;
}

/**
 * Mark and sweep: everything the store references (manifests, what they
 * point at, blobs linked into repositories) is kept. The rest goes, except
 * blobs stored within `graceMs`: a push stores a blob before it links it, so
 * a collection running beside a live server must not take a blob in between.
 */
export async function collectGarbage(
  store: Store,
  blobs: BlobStore,
  options: { now: Date; graceMs: number; uploadTimeoutMs: number; dryRun: boolean },
): Promise<GcResult> {
  const referenced = await store.referencedDigests();
  const result: GcResult = { removed: [], spared: 0, kept: 0, abandonedUploads: 0 };
  const cutoff = options.now.getTime() - options.graceMs;
  for await (const digest of blobs.listDigests()) {
    if (referenced.has(digest)) {
      result.kept++;
      continue;
    }
    const st = await blobs.stat(digest);
    if (!st) continue;
    if (st.storedAt.getTime() > cutoff) {
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
