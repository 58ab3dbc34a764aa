import { markRegistry } from '../core/registry-mark.js';
import type { Store } from '../store/store.js';
import type { BlobFile, BlobStore } from './blob-store.js';

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
 *
 * gc runs beside `serve` in another process, with no lock between them. A
 * push is {store the file, record the reference (link or manifest), look at
 * the file again, answer}; removing a blob is {stat, check the store, trash,
 * look at the trashed file, check the store again, discard or restore}. The
 * invariants that make every interleaving safe:
 * 1. Storing puts a new file at the blob's path, stamped "stored now"
 *    (BlobStore.install), and trash moves whatever file is there at that
 *    instant. A file a push stored after gc's first stat and before the
 *    trash is the one trashed, and it is not the one judged (other `fileId`,
 *    young mtime, either suffices): it goes back whatever the store says.
 *    One stored before the first stat is young and spared (unless the push
 *    took longer than the grace period to link it: see 3). One stored after
 *    the trash is a new file gc never touches.
 * 2. The trashed file goes only if nothing references the digest when gc
 *    looks after the trash (isDigestReferenced). A reference recorded before
 *    that look keeps it.
 * 3. A reference recorded after that look, to a file gc already trashed, is
 *    what 1 and 2 leave open (a mount of an old blob, a push slower than the
 *    grace period): the push looks at the file after recording the reference
 *    and does not acknowledge a file that is not there (linkStoredBlob; a
 *    manifest, whose bytes are in hand, stores them again instead). Once the
 *    reference exists and the file is seen there, every later trash of it
 *    meets the reference in 2 and is restored.
 * A restore never replaces a copy stored since (same bytes, newer mtime),
 * and a gc killed between trash and its decision leaves the file in the trash,
 * which recoverTrash puts back at the next gc or serve start.
 */
export async function collectGarbage(
  store: Store,
  blobs: BlobStore,
  options: { now: Date; graceMs: number; uploadTimeoutMs: number; dryRun: boolean },
): Promise<GcResult> {
  const cutoff = new Date(options.now.getTime() - options.graceMs);
  const young = (file: BlobFile) => file.storedAt.getTime() > cutoff.getTime();
  if (!options.dryRun) await blobs.recoverTrash();
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
    const judged = await blobs.stat(digest);
    if (!judged) continue;
    if (young(judged)) {
      result.spared++;
      continue;
    }
    if (options.dryRun) {
      result.removed.push({ digest, size: judged.size });
      continue;
    }
    // Look again before touching it: a push may have linked it since the mark.
    if (await store.isDigestReferenced(digest)) {
      result.kept++;
      continue;
    }
    const trashed = await blobs.trash(digest);
    if (!trashed) continue;
    if (trashed.fileId !== judged.fileId || young(trashed)) {
      await blobs.restore(trashed);
      result.spared++;
    } else if (await store.isDigestReferenced(digest)) {
      await blobs.restore(trashed);
      result.kept++;
    } else if (await blobs.discard(trashed)) {
      result.removed.push({ digest, size: trashed.size });
    }
  }
  if (!options.dryRun) result.abandonedUploads = await blobs.pruneUploads(options.uploadTimeoutMs);
  return result;
}

/**
 * A push's side of invariant 3 above: records the link, then checks the file
 * is (still) there. False means garbage collection took it in between: the
 * caller must not acknowledge the blob (the client pushes it again).
 */
export async function linkStoredBlob(
  store: Store,
  blobs: BlobStore,
  repository: string,
  stored: { digest: string; size: number },
  at: Date,
): Promise<boolean> {
  await store.linkBlob(repository, stored.digest, stored.size, at);
  return (await blobs.stat(stored.digest)) !== undefined;
}
