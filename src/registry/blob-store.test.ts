import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { BlobStore, BlobStoreError, parseDigest, requireDigest } from './blob-store.js';

const MiB = 1024 * 1024;
const base = mkdtempSync(join(tmpdir(), 'portcullis-blobs-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
function newStore(opts: Partial<ConstructorParameters<typeof BlobStore>[0]> = {}) {
  const root = join(base, `r${n++}`, 'registry');
  return { root, store: new BlobStore({ root, maxBlobBytes: 16 * MiB, ...opts }) };
}

const digestOf = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return `sha256:${h.digest('hex')}`;
};
const body = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function errorOf(p: Promise<unknown>): Promise<BlobStoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BlobStoreError);
  return err as BlobStoreError;
}

const leftovers = (root: string) => [
  ...(existsSync(join(root, 'tmp')) ? readdirSync(join(root, 'tmp')) : []),
  ...(existsSync(join(root, 'uploads')) ? readdirSync(join(root, 'uploads')) : []),
];

async function listed(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const d of store.listDigests()) out.push(d);
  return out.sort();
}

describe('digests', () => {
  it('accepts only sha256 with 64 lower-case hex digits', () => {
    const hex = 'a'.repeat(64);
    expect(parseDigest(`sha256:${hex}`)).toEqual({ algorithm: 'sha256', hex });
    expect(BlobStore.parseDigest(`sha256:${hex}`)).toEqual({ algorithm: 'sha256', hex });
    for (const bad of [`sha256:${'A'.repeat(64)}`, `sha256:${hex}0`, `sha256:${hex.slice(1)}`, hex, `sha512:${'a'.repeat(128)}`, '']) {
      expect(parseDigest(bad)).toBeNull();
    }
  });

  it('tells an unsupported algorithm from a malformed digest', () => {
    expect(() => requireDigest(`sha512:${'a'.repeat(128)}`)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(() => requireDigest('sha256:../../etc/passwd')).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    expect(() => requireDigest('nonsense')).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
  });

  it('refuses a malformed digest before touching the filesystem', async () => {
    const { store } = newStore();
    expect((await errorOf(store.stat('sha256:../../x'))).code).toBe('DIGEST_INVALID');
    expect((await errorOf(store.open('sha256:../../x'))).code).toBe('DIGEST_INVALID');
    expect((await errorOf(store.trash('sha256:../../x'))).code).toBe('DIGEST_INVALID');
  });
});

describe('monolithic put', () => {
  it('stores content under its digest', async () => {
    const { root, store } = newStore();
    const d = digestOf('hello ', 'world');
    expect(await store.putVerified(d, body('hello ', 'world'), 11)).toEqual({ digest: d, size: 11 });
    expect(await store.stat(d)).toMatchObject({ size: 11, storedAt: expect.any(Date) });
    const hex = d.slice(7);
    expect(existsSync(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex))).toBe(true);
    expect(await readAll((await store.open(d))!.stream)).toBe('hello world');
    expect(leftovers(root)).toEqual([]);
  });

  it('stores nothing when the content does not match the digest', async () => {
    const { root, store } = newStore();
    const d = digestOf('expected');
    const err = await errorOf(store.putVerified(d, body('something else')));
    expect(err.code).toBe('DIGEST_INVALID');
    expect(await store.stat(d)).toBeUndefined();
    expect(await store.stat(digestOf('something else'))).toBeUndefined();
    expect(await listed(store)).toEqual([]);
    expect(leftovers(root)).toEqual([]);
  });

  it('stops reading a stream as soon as it passes the size limit', async () => {
    const { root, store } = newStore({ maxBlobBytes: MiB });
    let yielded = 0;
    const endless = Readable.from(
      (function* () {
        for (;;) {
          yielded++;
          yield Buffer.alloc(64 * 1024, 1);
        }
      })(),
    );
    const err = await errorOf(store.putVerified(digestOf('x'), endless));
    expect(err.code).toBe('SIZE_INVALID');
    expect(err.detail).toEqual({ limit: MiB });
    expect(err.message).not.toContain(root);
    // 16 chunks fit; the rest is what stream buffers read ahead.
    expect(yielded).toBeLessThan(48);
    expect(leftovers(root)).toEqual([]);
  });

  it('refuses a declared length over the limit without reading, and a body that differs from its declared length', async () => {
    const { store } = newStore({ maxBlobBytes: 10 });
    const untouched = body('0123456789ab');
    expect((await errorOf(store.putVerified(digestOf('0123456789ab'), untouched, 12))).detail).toEqual({ limit: 10 });
    expect(untouched.readableDidRead).toBe(false);
    const short = await errorOf(store.putVerified(digestOf('abc'), body('abc'), 4));
    expect([short.code, short.detail]).toEqual(['SIZE_INVALID', undefined]);
    const long = await errorOf(store.putVerified(digestOf('abcde'), body('abcde'), 4));
    expect([long.code, long.detail]).toEqual(['SIZE_INVALID', undefined]);
  });

  it('lets concurrent puts of one blob all succeed and leave one correct file', async () => {
    const { root, store } = newStore();
    const data = randomBytes(3 * MiB);
    const d = digestOf(data);
    const slowly = () =>
      Readable.from(
        (async function* () {
          for (let i = 0; i < data.length; i += 256 * 1024) {
            await sleep(1);
            yield data.subarray(i, i + 256 * 1024);
          }
        })(),
      );
    const results = await Promise.all(Array.from({ length: 5 }, () => store.putVerified(d, slowly())));
    expect(results).toEqual(Array(5).fill({ digest: d, size: data.length }));
    expect(await listed(store)).toEqual([d]);
    const opened = (await store.open(d))!;
    expect(digestOf(Buffer.from(await opened.stream.toArray().then((c) => Buffer.concat(c))))).toBe(d);
    expect(leftovers(root)).toEqual([]);
    // Storing an existing blob again is verified just the same.
    expect((await errorOf(store.putVerified(d, body('not it')))).code).toBe('DIGEST_INVALID');
    expect(await store.stat(d)).toMatchObject({ size: data.length });
  });

  it('streams a 64 MiB blob in and out without holding it in memory', async () => {
    const { store } = newStore({ maxBlobBytes: 128 * MiB });
    // 64 distinct chunks cycled: unique content over 4 MiB, nothing allocated per chunk.
    const palette = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
    const count = (64 * MiB) / (64 * 1024);
    const expected = createHash('sha256');
    for (let i = 0; i < count; i++) expected.update(palette[i % palette.length]!);
    const d = `sha256:${expected.digest('hex')}`;

    // Collecting as we go makes rss show what is held, not garbage V8 has yet
    // to collect (fs streams allocate a fresh buffer per read).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = () => {
      gc();
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < count; i++) {
          if (i % 64 === 0) sample();
          yield palette[i % palette.length]!;
        }
      })(),
    );
    expect(await store.putVerified(d, source)).toEqual({ digest: d, size: 64 * MiB });

    const readBack = createHash('sha256');
    let i = 0;
    for await (const chunk of (await store.open(d))!.stream) {
      readBack.update(chunk as Buffer);
      if (i++ % 64 === 0) sample();
    }
    sample();
    expect(`sha256:${readBack.digest('hex')}`).toBe(d);
    expect(peak - before).toBeLessThan(40 * MiB);
  });
});

describe('range reads', () => {
  it('serves a start, a start-end, clamps an end past the blob and refuses what lies outside it', async () => {
    const { store } = newStore();
    const d = digestOf('0123456789');
    await store.putVerified(d, body('0123456789'));
    const from7 = (await store.open(d, { start: 7 }))!;
    expect([from7.size, from7.range, await readAll(from7.stream)]).toEqual([10, { start: 7, end: 9 }, '789']);
    const mid = (await store.open(d, { start: 2, end: 4 }))!;
    expect([mid.range, await readAll(mid.stream)]).toEqual([{ start: 2, end: 4 }, '234']);
    expect(await readAll((await store.open(d, { start: 8, end: 100 }))!.stream)).toBe('89');
    for (const range of [{ start: 10 }, { start: 5, end: 4 }, { start: -1 }]) {
      const err = await errorOf(store.open(d, range));
      expect([err.code, err.detail]).toEqual(['RANGE_INVALID', { size: 10 }]);
    }
    expect(await store.open(digestOf('absent'), { start: 0 })).toBeUndefined();
  });
});

describe('upload sessions', () => {
  it('assembles three PATCH chunks and stores them on finish', async () => {
    const { root, store } = newStore();
    const { id } = await store.startUpload();
    expect(await store.uploadStatus(id)).toMatchObject({ size: 0 });
    expect(await store.appendUpload(id, body('abc'), { start: 0, end: 2 })).toEqual({ size: 3 });
    expect(await store.appendUpload(id, body('de', 'f'), { start: 3, end: 5 })).toEqual({ size: 6 });
    expect(await store.appendUpload(id, body('ghij'))).toEqual({ size: 10 });
    expect(await store.uploadStatus(id)).toMatchObject({ size: 10 });
    const d = digestOf('abcdefghij');
    expect(await store.finishUpload(id, d)).toEqual({ digest: d, size: 10 });
    expect(await readAll((await store.open(d))!.stream)).toBe('abcdefghij');
    expect(await store.uploadStatus(id)).toBeUndefined();
    expect(leftovers(root)).toEqual([]);
  });

  it('takes the last chunk with the finishing PUT', async () => {
    const { store } = newStore();
    const { id } = await store.startUpload();
    await store.appendUpload(id, body('head-'));
    const d = digestOf('head-tail');
    expect(await store.finishUpload(id, d, body('tail'))).toEqual({ digest: d, size: 9 });
  });

  it('answers a chunk out of order with RANGE_INVALID and the size the upload has', async () => {
    const { store } = newStore();
    const { id } = await store.startUpload();
    await store.appendUpload(id, body('abcd'), { start: 0, end: 3 });
    for (const range of [{ start: 2, end: 5 }, { start: 5, end: 6 }, { start: 4, end: 3 }]) {
      const err = await errorOf(store.appendUpload(id, body('xx'), range));
      expect([err.code, err.detail]).toEqual(['RANGE_INVALID', { size: 4 }]);
    }
    expect(await store.uploadStatus(id)).toMatchObject({ size: 4 });
  });

  it('drops a chunk whose body does not fill its Content-Range, keeping the session as it was', async () => {
    const { store } = newStore();
    const { id } = await store.startUpload();
    await store.appendUpload(id, body('ab'));
    expect((await errorOf(store.appendUpload(id, body('cd'), { start: 2, end: 4 }))).code).toBe('BLOB_UPLOAD_INVALID');
    expect((await errorOf(store.appendUpload(id, body('cdefgh'), { start: 2, end: 4 }))).code).toBe('BLOB_UPLOAD_INVALID');
    expect(await store.uploadStatus(id)).toMatchObject({ size: 2 });
    let reads = 0;
    const broken = new Readable({
      read() {
        if (reads++ === 0) this.push(Buffer.from('cd'));
        else this.destroy(new Error('client went away'));
      },
    });
    await expect(store.appendUpload(id, broken)).rejects.toThrow('client went away');
    expect(await store.uploadStatus(id)).toMatchObject({ size: 2 });
    // A client hanging up while its PATCH waits behind another must not go unhandled.
    const slow = Readable.from(
      (async function* () {
        await sleep(30);
        yield Buffer.from('cd');
      })(),
    );
    const waiting = new Readable({ read() {} });
    const [first, second] = await Promise.allSettled([
      store.appendUpload(id, slow),
      store.appendUpload(id, waiting),
      sleep(5).then(() => waiting.destroy(new Error('hung up while queued'))),
    ]);
    expect(first).toEqual({ status: 'fulfilled', value: { size: 4 } });
    expect(second.status).toBe('rejected');
    expect(await store.uploadStatus(id)).toMatchObject({ size: 4 });
  });

  it('enforces the size limit across chunks', async () => {
    const { store } = newStore({ maxBlobBytes: 10 });
    const { id } = await store.startUpload();
    await store.appendUpload(id, body('12345678'));
    expect((await errorOf(store.appendUpload(id, body('9abc')))).detail).toEqual({ limit: 10 });
    expect((await errorOf(store.appendUpload(id, body('9abc'), { start: 8, end: 11 }))).detail).toEqual({ limit: 10 });
    expect(await store.uploadStatus(id)).toMatchObject({ size: 8 });
    expect((await errorOf(store.finishUpload(id, digestOf('12345678abc'), body('abc')))).code).toBe('SIZE_INVALID');
    expect(await store.appendUpload(id, body('90'))).toEqual({ size: 10 });
  });

  it('stores nothing and forgets the session when the finishing digest is wrong', async () => {
    const { root, store } = newStore();
    const { id } = await store.startUpload();
    await store.appendUpload(id, body('content'));
    const err = await errorOf(store.finishUpload(id, digestOf('other content')));
    expect(err.code).toBe('DIGEST_INVALID');
    expect(await store.uploadStatus(id)).toBeUndefined();
    expect(await listed(store)).toEqual([]);
    expect(leftovers(root)).toEqual([]);
    expect((await errorOf(store.finishUpload(id, digestOf('content')))).code).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  it('makes a finish wait for a PATCH still writing to the same session', async () => {
    const { store } = newStore();
    const { id } = await store.startUpload();
    const slow = Readable.from(
      (async function* () {
        for (const part of ['one ', 'two ', 'three']) {
          await sleep(20);
          yield Buffer.from(part);
        }
      })(),
    );
    const patch = store.appendUpload(id, slow);
    const d = digestOf('one two three');
    expect(await store.finishUpload(id, d)).toEqual({ digest: d, size: 13 });
    expect(await patch).toEqual({ size: 13 });
  });

  it('never lets an upload id that is not a UUID reach a path', async () => {
    const { root, store } = newStore();
    await store.startUpload();
    const outside = join(root, '..');
    const before = readdirSync(outside);
    for (const id of ['../../x', '../blobs', 'x/../../y', '', '.', '..', 'ABCDEF00-0000-4000-8000-000000000000', `${'0'.repeat(8)}-0000-4000-8000-000000000000/..`]) {
      expect(await store.uploadStatus(id)).toBeUndefined();
      expect((await errorOf(store.appendUpload(id, body('x')))).code).toBe('BLOB_UPLOAD_UNKNOWN');
      expect((await errorOf(store.finishUpload(id, digestOf('x'), body('x')))).code).toBe('BLOB_UPLOAD_UNKNOWN');
      expect(await store.cancelUpload(id)).toBe(false);
    }
    expect(readdirSync(outside)).toEqual(before);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await errorOf(store.appendUpload(unknown, body('x')))).code).toBe('BLOB_UPLOAD_UNKNOWN');
    expect(existsSync(join(root, 'uploads', unknown))).toBe(false);
  });

  it('cancels a session once', async () => {
    const { store } = newStore();
    const { id } = await store.startUpload();
    await store.appendUpload(id, body('abc'));
    expect(await store.cancelUpload(id)).toBe(true);
    expect(await store.cancelUpload(id)).toBe(false);
    expect(await store.uploadStatus(id)).toBeUndefined();
  });

  it('prunes sessions and stray temp files nothing wrote to for the given age', async () => {
    let now = new Date();
    const { root, store } = newStore({ now: () => now });
    const stale = await store.startUpload();
    const fresh = await store.startUpload();
    await store.appendUpload(stale.id, body('abandoned'));
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(root, 'uploads', stale.id, 'data'), old, old);
    utimesSync(join(root, 'uploads', stale.id), old, old);
    mkdirSync(join(root, 'tmp'), { recursive: true });
    writeFileSync(join(root, 'tmp', 'crashed-half-blob'), 'half');
    utimesSync(join(root, 'tmp', 'crashed-half-blob'), old, old);

    expect(await store.pruneUploads(3600_000)).toBe(2);
    expect(await store.uploadStatus(stale.id)).toBeUndefined();
    expect(await store.uploadStatus(fresh.id)).toMatchObject({ size: 0 });
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);

    now = new Date(Date.now() + 2 * 3600_000);
    expect(await store.pruneUploads(3 * 3600_000)).toBe(0);
    expect(await store.pruneUploads(3600_000)).toBe(1);
    expect(await store.uploadStatus(fresh.id)).toBeUndefined();
  });
});

describe('removeCrashLeftovers', () => {
  it('removes every temp file and upload session, whatever its age, and counts files and bytes', async () => {
    const { root, store } = newStore();
    const kept = await store.putVerified(digestOf('kept'), body('kept'));
    const session = await store.startUpload('acme/app');
    await store.appendUpload(session.id, body('0123456789'));
    mkdirSync(join(root, 'tmp'), { recursive: true });
    writeFileSync(join(root, 'tmp', 'half-written'), Buffer.alloc(1000));
    expect(leftovers(root)).toHaveLength(2);

    expect(await store.removeCrashLeftovers()).toEqual({ files: 2, bytes: 1010, restored: 0 });
    expect(leftovers(root)).toEqual([]);
    expect(await store.uploadStatus(session.id)).toBeUndefined();
    expect(await store.stat(kept.digest)).toMatchObject({ size: 4 });
    expect(await store.removeCrashLeftovers()).toEqual({ files: 0, bytes: 0, restored: 0 });
  });

  it('puts back what a gc killed mid-sweep left in its trash (it may be referenced by now), and clears strays there', async () => {
    const { root, store } = newStore();
    const { digest } = await store.putVerified(digestOf('trashed by a killed gc'), body('trashed by a killed gc'));
    const trashed = await store.trash(digest);
    expect(trashed).toBeDefined();
    writeFileSync(join(root, 'gc-trash', 'stray'), 'x');
    expect(await store.stat(digest)).toBeUndefined();

    expect(await store.removeCrashLeftovers()).toEqual({ files: 0, bytes: 0, restored: 1 });
    expect(await readAll((await store.open(digest))!.stream)).toBe('trashed by a killed gc');
    expect(readdirSync(join(root, 'gc-trash'))).toEqual([]);
  });

  it('finds nothing in a store that has never been written', async () => {
    expect(await newStore().store.removeCrashLeftovers()).toEqual({ files: 0, bytes: 0, restored: 0 });
  });
});

describe('garbage collection support', () => {
  it('lists every stored digest; trash then discard removes one, trash then restore puts it back', async () => {
    const { root, store } = newStore();
    const digests = await Promise.all(['a', 'b', 'c'].map(async (s) => (await store.putVerified(digestOf(s), body(s))).digest));
    // Strays in blobs/ are not blobs.
    writeFileSync(join(root, 'blobs', 'sha256', 'README'), 'x');
    expect(await listed(store)).toEqual([...digests].sort());

    const gone = (await store.trash(digests[0]!))!;
    expect(gone).toMatchObject({ digest: digests[0], size: 1 });
    expect(await store.trash(digests[0]!)).toBeUndefined();
    expect(await store.stat(digests[0]!)).toBeUndefined();
    // While gc decides, a read still gets the bytes; stat (what a push looks at) does not see them.
    expect(await readAll((await store.open(digests[0]!, { start: 0 }))!.stream)).toBe('a');
    expect(await store.discard(gone)).toBe(true);
    expect(await store.open(digests[0]!)).toBeUndefined();
    expect(await store.discard(gone)).toBe(false);
    expect(await listed(store)).toEqual(digests.slice(1).sort());

    const judged = (await store.stat(digests[1]!))!;
    const back = (await store.trash(digests[1]!))!;
    expect(back.fileId).toBe(judged.fileId);
    await store.restore(back);
    expect(await store.stat(digests[1]!)).toEqual(judged);
    expect(await listed(store)).toEqual(digests.slice(1).sort());
    expect(readdirSync(join(root, 'gc-trash'))).toEqual([]);
  });

  it('storing a blob again puts a new file there, stamped with the time; a restore never replaces that copy', async () => {
    let now = new Date('2026-11-24T12:00:00Z');
    const { root, store } = newStore({ now: () => now });
    const { digest } = await store.putVerified(digestOf('stored twice'), body('stored twice'));
    const first = (await store.stat(digest))!;
    expect(first.storedAt).toEqual(now);

    const trashed = (await store.trash(digest))!;
    now = new Date(now.getTime() + 60_000);
    await store.putVerified(digest, body('stored twice'));
    const second = (await store.stat(digest))!;
    expect(second.storedAt).toEqual(now);
    expect(second.fileId).not.toBe(first.fileId);

    await store.restore(trashed);
    expect(await store.stat(digest)).toEqual(second);
    expect(readdirSync(join(root, 'gc-trash'))).toEqual([]);
    expect(await readAll((await store.open(digest))!.stream)).toBe('stored twice');
  });

  it('lists nothing for a store that has never held a blob', async () => {
    const { store } = newStore();
    expect(await listed(store)).toEqual([]);
    expect(await store.pruneUploads(0)).toBe(0);
  });
});
