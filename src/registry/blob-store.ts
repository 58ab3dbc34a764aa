/**
 * Content-addressed blob storage of the built-in OCI registry (DESIGN §2, mode 1).
 *
 *   <root>/blobs/sha256/<2 hex>/<64 hex>   immutable, verified content
 *   <root>/uploads/<uuid>/data             upload sessions in progress
 *   <root>/tmp/<uuid>                      files on their way into blobs/
 *   <root>/gc-trash/<64 hex>.<uuid>        blobs garbage collection is deciding on
 *
 * A blob only ever appears under its digest by rename(2) of a temp file on the
 * same filesystem, after its hash was checked and its data fsynced, so a crash
 * leaves either no blob or the whole verified blob; leftovers in tmp/ and
 * uploads/ go at the next start (removeCrashLeftovers) or with pruneUploads.
 * Everything streams with backpressure: blobs can be larger than the memory
 * we have.
 *
 * One process per root serves uploads (`serve` holds the data dir's lock):
 * appends, finish and cancel of a session are serialized by an in-process lock
 * (that is what keeps a PATCH racing the final PUT from changing bytes after
 * they were hashed).
 *
 * `gc` runs as another process beside it, without a lock, so the two meet only
 * through the filesystem and the store. What makes that safe (the argument is
 * in gc.ts):
 * - storing a blob always puts a new file at its path, even when one is there
 *   (same bytes), stamped with the time it was stored: the file's identity
 *   (stat's `fileId`) and mtime say "stored again since you looked";
 * - gc never unlinks a blob's path: it renames the file into gc-trash/ (trash),
 *   looks at what it moved, and either puts it back (restore) or deletes that
 *   file (discard). Whatever a push stores after the rename is a new file that
 *   gc never touches;
 * - a read that misses the file looks in gc-trash/ too (the same bytes), so
 *   a pull racing that moment does not see the blob vanish;
 * - a trashed file of a gc that was killed is put back, never deleted
 *   (recoverTrash): it may be a blob a push referenced meanwhile.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, truncate, unlink, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isValidDigest } from '../core/oci-manifest.js';

export type BlobStoreErrorCode =
  | 'DIGEST_INVALID'
  | 'SIZE_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'RANGE_INVALID'
  | 'UNSUPPORTED';

export interface BlobStoreErrorDetail {
  /** RANGE_INVALID: bytes the upload (or blob) holds, for a 416 `Range: 0-<size-1>` / `Content-Range: bytes * /<size>`. */
  size?: number;
  /** SIZE_INVALID because of maxBlobBytes (answer 413); absent when a declared length was not met. */
  limit?: number;
}

/** Messages are meant for the client: they never name a path. */
export class BlobStoreError extends Error {
  override readonly name = 'BlobStoreError';
  constructor(
    readonly code: BlobStoreErrorCode,
    message: string,
    readonly detail?: BlobStoreErrorDetail,
  ) {
    super(message);
  }
}

export interface ParsedDigest {
  algorithm: 'sha256';
  hex: string;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end?: number;
}

/** What stat tells about a blob's file. */
export interface BlobFile {
  size: number;
  /** When it was last stored (pushed or pushed again). */
  storedAt: Date;
  /** This file, not the blob: storing the blob again gives another value, so gc can tell a file it judged from a new one. */
  fileId: string;
}

/** A blob gc moved out of the way (BlobStore.trash): it goes back (restore) or for good (discard). */
export interface TrashedBlob extends BlobFile {
  digest: string;
  path: string;
}

export interface BlobStoreOptions {
  root: string;
  maxBlobBytes: number;
  now?: () => Date;
}

/** The OCI image-spec digest grammar: well-formed, whatever the algorithm. */
const ANY_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX64 = /^[0-9a-f]{64}$/;
/** Larger reads than the 64 KiB default: fewer syscalls and writes per GiB served, still bounded memory. */
const READ_CHUNK = 1024 * 1024;
const PREFIX = /^[0-9a-f]{2}$/;
const TRASH_ENTRY = /^([0-9a-f]{64})\.[0-9a-f-]{36}$/;

/** The digest of bytes in hand (a manifest), as the OCI spec writes it. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** `sha256:` and 64 lower-case hex digits, the only algorithm we store; anything else is null. */
export function parseDigest(d: string): ParsedDigest | null {
  return typeof d === 'string' && isValidDigest(d) ? { algorithm: 'sha256', hex: d.slice('sha256:'.length) } : null;
}

/** parseDigest, or the error to send: UNSUPPORTED for a well-formed digest of another algorithm. */
export function requireDigest(d: string): ParsedDigest {
  const parsed = parseDigest(d);
  if (parsed) return parsed;
  if (typeof d === 'string' && ANY_DIGEST.test(d) && !d.startsWith('sha256:')) {
    throw new BlobStoreError('UNSUPPORTED', 'digest algorithm not supported: only sha256 is accepted');
  }
  throw new BlobStoreError('DIGEST_INVALID', 'invalid digest: expected sha256: followed by 64 lower-case hex digits');
}

export class BlobStore {
  static readonly parseDigest = parseDigest;

  readonly root: string;
  private readonly blobsDir: string;
  private readonly uploadsDir: string;
  private readonly tmpDir: string;
  private readonly trashDir: string;
  private readonly maxBlobBytes: number;
  private readonly now: () => Date;

  constructor(opts: BlobStoreOptions) {
    if (!Number.isSafeInteger(opts.maxBlobBytes) || opts.maxBlobBytes <= 0) {
      throw new RangeError('maxBlobBytes must be a positive integer');
    }
    this.root = resolve(opts.root);
    this.blobsDir = join(this.root, 'blobs', 'sha256');
    this.uploadsDir = join(this.root, 'uploads');
    this.tmpDir = join(this.root, 'tmp');
    this.trashDir = join(this.root, 'gc-trash');
    this.maxBlobBytes = opts.maxBlobBytes;
    this.now = opts.now ?? (() => new Date());
  }

  /** `storedAt` lets garbage collection spare blobs too young to have been linked yet. */
  async stat(digest: string): Promise<BlobFile | undefined> {
    const st = await statOrUndefined(this.blobPath(requireDigest(digest).hex));
    return st?.isFile() ? blobFile(st) : undefined;
  }

  /**
   * The blob, or the inclusive `range` of it (end clamped to the last byte, as
   * HTTP does). `size` is always the whole blob's; `range` is what the stream
   * holds. The caller must consume or destroy the stream: it holds a descriptor.
   */
  async open(
    digest: string,
    range?: ByteRange,
  ): Promise<{ size: number; stream: Readable; range?: { start: number; end: number } } | undefined> {
    const { hex } = requireDigest(digest);
    // One descriptor for size and data, so a gc delete in between cannot split them.
    const fh = (await openOrUndefined(this.blobPath(hex))) ?? (await this.openTrashed(hex));
    if (!fh) return undefined;
    try {
      const { size } = await fh.stat();
      if (!range) return { size, stream: fh.createReadStream({ highWaterMark: READ_CHUNK }) };
      const { start } = range;
      const end = Math.min(range.end ?? size - 1, size - 1);
      if (!Number.isSafeInteger(start) || start < 0 || start >= size || !Number.isSafeInteger(range.end ?? 0) || end < start) {
        throw new BlobStoreError('RANGE_INVALID', `requested range not satisfiable for a blob of ${size} bytes`, { size });
      }
      return { size, stream: fh.createReadStream({ start, end, highWaterMark: READ_CHUNK }), range: { start, end } };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /**
   * A read that finds the file in gc's trash (gc.ts) reads it there: the
   * bytes are the blob's all the same, and gc may be about to put it back
   * because a push referenced it. Only reads may: stat must not see it, or a
   * push would acknowledge a file gc is about to discard.
   */
  private async openTrashed(hex: string): Promise<FileHandle | undefined> {
    for (const name of await readdirOrEmpty(this.trashDir)) {
      if (!name.startsWith(`${hex}.`)) continue;
      const fh = await openOrUndefined(join(this.trashDir, name));
      if (fh) return fh;
    }
    return undefined;
  }

  /**
   * Monolithic upload. The whole body is hashed while it is written to a temp
   * file; it is stored only when it matches. Storing an existing blob again
   * is allowed and verified the same way.
   */
  async putVerified(expectedDigest: string, source: Readable, declaredLength?: number): Promise<{ digest: string; size: number }> {
    return guarded(source, () => this.put(expectedDigest, source, declaredLength));
  }

  private async put(expectedDigest: string, source: Readable, declaredLength?: number): Promise<{ digest: string; size: number }> {
    const { hex } = requireDigest(expectedDigest);
    if (declaredLength !== undefined) {
      if (!Number.isSafeInteger(declaredLength) || declaredLength < 0) {
        throw new BlobStoreError('SIZE_INVALID', 'invalid content length');
      }
      if (declaredLength > this.maxBlobBytes) throw this.tooLarge();
    }
    const tmp = await this.tempPath();
    try {
      const hash = createHash('sha256');
      const meter = new Meter(declaredLength ?? this.maxBlobBytes, hash, () =>
        declaredLength === undefined ? this.tooLarge() : lengthMismatch(),
      );
      await pipeline(source, meter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
      if (declaredLength !== undefined && meter.bytes !== declaredLength) throw lengthMismatch();
      if (hash.digest('hex') !== hex) throw digestMismatch();
      await fsyncFile(tmp);
      await this.install(tmp, hex);
      return { digest: expectedDigest, size: meter.bytes };
    } finally {
      activeTemps.delete(tmp);
      await rm(tmp, { force: true });
    }
  }

  /**
   * `owner` (the repository) is kept with the session: an upload id seen in a
   * Location header must not let anyone continue it under another repository.
   */
  async startUpload(owner = ''): Promise<{ id: string }> {
    const id = randomUUID();
    const dir = join(this.uploadsDir, id);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await writeFile(join(dir, 'owner'), owner, { mode: 0o644 });
    await (await open(join(dir, 'data'), 'wx', 0o644)).close();
    return { id };
  }

  /**
   * PATCH: append a chunk. With a Content-Range its start must be the current
   * size (else RANGE_INVALID carrying that size) and its length the body's.
   * A chunk that fails for any reason is cut off again, so the session keeps
   * the size it had and the client can retry from there.
   */
  async appendUpload(id: string, source: Readable, contentRange?: { start: number; end: number }): Promise<{ size: number }> {
    const dir = this.sessionDir(id);
    return guarded(source, () => sessionLocks.run(dir, () => this.appendLocked(dir, source, contentRange)));
  }

  async uploadStatus(id: string): Promise<{ size: number; owner: string } | undefined> {
    if (!UPLOAD_ID.test(id)) return undefined;
    const st = await statOrUndefined(join(this.uploadsDir, id, 'data'));
    if (!st) return undefined;
    const owner = await readFile(join(this.uploadsDir, id, 'owner'), 'utf8').catch(() => '');
    return { size: st.size, owner };
  }

  /**
   * PUT closing a session: append the last chunk, hash the whole data file
   * again (a hash state would not survive a restart) and store it if it
   * matches. Past the last chunk the session is gone whatever the outcome.
   */
  async finishUpload(id: string, expectedDigest: string, lastChunk?: Readable): Promise<{ digest: string; size: number }> {
    const { hex } = requireDigest(expectedDigest);
    const dir = this.sessionDir(id);
    const finish = () => sessionLocks.run(dir, async () => {
      if (lastChunk) await this.appendLocked(dir, lastChunk);
      const tmp = await this.tempPath();
      try {
        // Moved out first, so that nothing appended later can reach what we hash.
        await rename(join(dir, 'data'), tmp).catch((err: unknown) => Promise.reject(isNotFound(err) ? unknownUpload() : err));
        await rm(dir, { recursive: true, force: true });
        const { digest, size } = await hashFile(tmp);
        if (digest !== hex) throw digestMismatch();
        await fsyncFile(tmp);
        await this.install(tmp, hex);
        return { digest: expectedDigest, size };
      } finally {
        activeTemps.delete(tmp);
        await rm(tmp, { force: true });
      }
    });
    return lastChunk ? guarded(lastChunk, finish) : finish();
  }

  async cancelUpload(id: string): Promise<boolean> {
    if (!UPLOAD_ID.test(id)) return false;
    const dir = join(this.uploadsDir, id);
    return sessionLocks.run(dir, async () => {
      if (!(await statOrUndefined(dir))) return false;
      await rm(dir, { recursive: true, force: true });
      return true;
    });
  }

  /**
   * Removes upload sessions, and stray temp files a crash left behind, that
   * nothing has written to for `olderThanMs`. Sessions busy in this process
   * are spared whatever their age. Returns how many of both were removed.
   */
  async pruneUploads(olderThanMs: number): Promise<number> {
    const cutoff = this.now().getTime() - olderThanMs;
    let removed = 0;
    for (const name of await readdirOrEmpty(this.uploadsDir)) {
      const dir = join(this.uploadsDir, name);
      if (!UPLOAD_ID.test(name) || sessionLocks.busy(dir)) continue;
      const gone = await sessionLocks.run(dir, async () => {
        const [d, f] = await Promise.all([statOrUndefined(dir), statOrUndefined(join(dir, 'data'))]);
        if (!d || Math.max(d.mtimeMs, f?.mtimeMs ?? 0) >= cutoff) return false;
        await rm(dir, { recursive: true, force: true });
        return true;
      });
      if (gone) removed++;
    }
    for (const name of await readdirOrEmpty(this.tmpDir)) {
      const file = join(this.tmpDir, name);
      if (activeTemps.has(file)) continue;
      const st = await statOrUndefined(file);
      if (!st || st.mtimeMs >= cutoff) continue;
      await rm(file, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Everything under tmp/ and uploads/: what a killed process was writing.
   * Only for the holder of the data dir's lock at start (lockDataDir), before
   * it serves: then no upload can be in flight, whatever the files' age. A
   * client whose session is gone gets BLOB_UPLOAD_UNKNOWN and starts again,
   * as clients do after any failed upload. Blobs a killed gc left in its
   * trash go back (recoverTrash): `restored` counts them.
   */
  async removeCrashLeftovers(): Promise<{ files: number; bytes: number; restored: number }> {
    let files = 0;
    let bytes = 0;
    const take = async (path: string, sizeOf: string) => {
      const st = await statOrUndefined(sizeOf);
      await rm(path, { recursive: true, force: true });
      files++;
      bytes += st?.isFile() ? st.size : 0;
    };
    for (const name of await readdirOrEmpty(this.tmpDir)) {
      const file = join(this.tmpDir, name);
      if (!activeTemps.has(file)) await take(file, file);
    }
    for (const name of await readdirOrEmpty(this.uploadsDir)) {
      const dir = join(this.uploadsDir, name);
      if (!sessionLocks.busy(dir)) await take(dir, join(dir, 'data'));
    }
    return { files, bytes, restored: await this.recoverTrash() };
  }

  /**
   * For garbage collection only, its first step to remove a blob: moves the
   * file out of blobs/ and tells what was moved, or undefined when there was
   * none. From here on a push of the digest stores a new file, which this
   * one can no longer affect; gc then decides on the moved file alone.
   */
  async trash(digest: string): Promise<TrashedBlob | undefined> {
    const { hex } = requireDigest(digest);
    await mkdir(this.trashDir, { recursive: true, mode: 0o755 });
    const path = join(this.trashDir, `${hex}.${randomUUID()}`);
    try {
      await rename(this.blobPath(hex), path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    // Gone again only if a starting serve put it back meanwhile (recoverTrash).
    const st = await statOrUndefined(path);
    return st ? { digest, path, ...blobFile(st) } : undefined;
  }

  /**
   * Puts a trashed blob back. A copy stored since wins (same bytes, and its
   * mtime must stay that of its push): link(2) never replaces one. Where the
   * filesystem has no hard links, rename unless a copy is there.
   */
  async restore(trashed: TrashedBlob): Promise<void> {
    const target = this.blobPath(requireDigest(trashed.digest).hex);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    try {
      await link(trashed.path, target);
      await fsyncDir(dirname(target));
    } catch (err) {
      // Someone else put it back already (recoverTrash of a starting serve, another gc).
      if (isNotFound(err)) return;
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        if (!(await statOrUndefined(target))) {
          await rename(trashed.path, target).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
          return;
        }
      }
    }
    await rm(trashed.path, { force: true });
  }

  /** The last step of removing a blob: false when the trashed file was put back meanwhile (recoverTrash). */
  async discard(trashed: TrashedBlob): Promise<boolean> {
    try {
      await unlink(trashed.path);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Puts back every blob a gc left in its trash when it was killed between
   * trash and restore or discard. Deleting them instead could lose a blob a
   * push referenced meanwhile; one kept by mistake goes at the next gc.
   * Safe beside a running gc: it copes with its files going back under it.
   */
  async recoverTrash(): Promise<number> {
    let restored = 0;
    for (const name of await readdirOrEmpty(this.trashDir)) {
      const path = join(this.trashDir, name);
      const hex = TRASH_ENTRY.exec(name)?.[1];
      const st = hex === undefined ? undefined : await statOrUndefined(path);
      if (hex === undefined || !st?.isFile()) {
        await rm(path, { recursive: true, force: true });
        continue;
      }
      await this.restore({ digest: `sha256:${hex}`, path, ...blobFile(st) });
      restored++;
    }
    return restored;
  }

  async *listDigests(): AsyncGenerator<string> {
    for (const prefix of await readdirOrEmpty(this.blobsDir)) {
      if (!PREFIX.test(prefix)) continue;
      const entries = await readdir(join(this.blobsDir, prefix), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (e.isFile() && HEX64.test(e.name) && e.name.startsWith(prefix)) yield `sha256:${e.name}`;
      }
    }
  }

  private async appendLocked(dir: string, source: Readable, range?: { start: number; end: number }): Promise<{ size: number }> {
    const data = join(dir, 'data');
    const st = await statOrUndefined(data);
    if (!st) throw unknownUpload();
    const size = st.size;
    let limit = this.maxBlobBytes - size;
    let tooMuch = () => this.tooLarge();
    if (range) {
      const { start, end } = range;
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start !== size || end < start) {
        throw new BlobStoreError('RANGE_INVALID', `chunk out of order: the upload holds ${size} bytes`, { size });
      }
      const length = end - start + 1;
      if (length > limit) throw this.tooLarge();
      limit = length;
      tooMuch = chunkMismatch;
    }
    const meter = new Meter(limit, undefined, tooMuch);
    const out = createWriteStream(data, { flags: 'a' });
    try {
      await pipeline(source, meter, out);
      if (range && meter.bytes !== range.end - range.start + 1) throw chunkMismatch();
      return { size: size + meter.bytes };
    } catch (err) {
      // A write still in flight would land after the truncate.
      await closed(out);
      await truncate(data, size);
      throw err;
    }
  }

  /**
   * rename(2) is atomic and replaces an identical file in place, so concurrent
   * stores of one digest are fine. Replacing (not keeping the file there) and
   * stamping the time are what gc relies on: see the module comment.
   */
  private async install(tmp: string, hex: string): Promise<void> {
    const dir = join(this.blobsDir, hex.slice(0, 2));
    const created = await mkdir(dir, { recursive: true, mode: 0o755 });
    const now = this.now();
    await utimes(tmp, now, now);
    await rename(tmp, join(dir, hex));
    // The rename must be durable before the client is told the blob exists.
    await fsyncDir(dir);
    if (created) await fsyncDir(dirname(created));
  }

  private blobPath(hex: string): string {
    return join(this.blobsDir, hex.slice(0, 2), hex);
  }

  /** The only way from an id to a path: a client-chosen id never reaches the filesystem unchecked. */
  private sessionDir(id: string): string {
    if (typeof id !== 'string' || !UPLOAD_ID.test(id)) throw unknownUpload();
    return join(this.uploadsDir, id);
  }

  private async tempPath(): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true, mode: 0o755 });
    const tmp = join(this.tmpDir, randomUUID());
    activeTemps.add(tmp);
    return tmp;
  }

  private tooLarge(): BlobStoreError {
    return new BlobStoreError('SIZE_INVALID', `blob exceeds the maximum size of ${this.maxBlobBytes} bytes`, {
      limit: this.maxBlobBytes,
    });
  }
}

/** Counts (and optionally hashes) what passes, failing as soon as more than `limit` bytes came. */
class Meter extends Transform {
  bytes = 0;
  constructor(
    private readonly limit: number,
    private readonly hash: Hash | undefined,
    private readonly tooMuch: () => BlobStoreError,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return cb(this.tooMuch());
    this.hash?.update(chunk);
    cb(null, chunk);
  }
}

/** Runs async work one at a time per key, in arrival order. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const tail = prev.then(() => new Promise<void>((r) => (release = r)));
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  busy(key: string): boolean {
    return this.tails.has(key);
  }
}

// Sessions being written and temp files in use here, which pruneUploads must
// not take away. Module-wide rather than per instance, so that two BlobStores
// on one root still agree.
const sessionLocks = new KeyedLock();
const activeTemps = new Set<string>();

function blobFile(st: Stats): BlobFile {
  return { size: st.size, storedAt: st.mtime, fileId: `${st.dev}:${st.ino}:${st.mtimeMs}` };
}

async function hashFile(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(createReadStream(path), async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
    }
  });
  return { digest: hash.digest('hex'), size };
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Best effort: not every platform lets a directory be fsynced, and the data itself already is. */
async function fsyncDir(path: string): Promise<void> {
  try {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* durability of the name only */
  }
}

/**
 * Until pipeline listens, an 'error' of the client's stream (it hung up while
 * we waited for the lock) would be unhandled and take the process down;
 * pipeline still sees the stream errored and rejects.
 */
async function guarded<T>(source: Readable, fn: () => Promise<T>): Promise<T> {
  const ignore = () => {};
  source.on('error', ignore);
  try {
    return await fn();
  } finally {
    source.off('error', ignore);
  }
}

function closed(stream: Writable): Promise<void> {
  return stream.closed ? Promise.resolve() : new Promise((r) => stream.once('close', () => r()));
}

async function openOrUndefined(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function readdirOrEmpty(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function digestMismatch(): BlobStoreError {
  return new BlobStoreError('DIGEST_INVALID', 'provided digest did not match uploaded content');
}

function lengthMismatch(): BlobStoreError {
  return new BlobStoreError('SIZE_INVALID', 'provided length did not match content length');
}

function chunkMismatch(): BlobStoreError {
  return new BlobStoreError('BLOB_UPLOAD_INVALID', 'chunk length did not match its Content-Range');
}

function unknownUpload(): BlobStoreError {
  return new BlobStoreError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
}
