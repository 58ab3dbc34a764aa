import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/open.js';
import type { Store } from '../store/store.js';
import { BlobStore, type TrashedBlob } from './blob-store.js';
import { collectGarbage, linkStoredBlob } from './gc.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const HOUR = 3_600_000;

describe('collectGarbage', () => {
  let dir: string;
  let store: Store;
  let blobs: BlobStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-gc-'));
    store = openSqliteStore(join(dir, 'db.sqlite'));
    await store.migrate();
    blobs = new BlobStore({ root: join(dir, 'registry'), maxBlobBytes: 1 << 20 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stores a blob and backdates its file, as if pushed `ageMs` ago. */
  async function put(content: string, ageMs: number): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    await blobs.putVerified(digest, Readable.from([Buffer.from(content)]));
    const at = new Date(NOW.getTime() - ageMs);
    utimesSync(join(dir, 'registry', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7)), at, at);
    return digest;
  }

  it('keeps what manifests and repository links reference, spares young blobs, removes the rest', async () => {
    const manifest = await put('manifest', 2 * HOUR);
    const layer = await put('layer', 2 * HOUR);
    const linked = await put('linked only', 2 * HOUR);
    const orphan = await put('orphan', 2 * HOUR);
    const young = await put('young orphan', 60_000);
    await store.putManifest({ repository: 'acme/app', digest: manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 8, subject: null, artifactType: null, annotations: null, children: [{ digest: layer, kind: 'blob' }], createdAt: NOW });
    await store.linkBlob('acme/other', linked, 11, NOW);

    const dry = await collectGarbage(store, blobs, { now: NOW, graceMs: HOUR, uploadTimeoutMs: HOUR, dryRun: true });
    expect(dry.removed.map((r) => r.digest)).toEqual([orphan]);
    expect(await blobs.stat(orphan)).toBeDefined();

    const run = await collectGarbage(store, blobs, { now: NOW, graceMs: HOUR, uploadTimeoutMs: HOUR, dryRun: false });
    expect(run).toMatchObject({ removed: [{ digest: orphan, size: 6 }], unlinked: [], spared: 1, kept: 3 });
    expect(await blobs.stat(orphan)).toBeUndefined();
    for (const d of [manifest, layer, linked, young]) expect(await blobs.stat(d)).toBeDefined();

    // Once its manifest is deleted, the layer it alone referenced goes too.
    await store.deleteManifest('acme/app', manifest);
    const after = await collectGarbage(store, blobs, { now: NOW, graceMs: HOUR, uploadTimeoutMs: HOUR, dryRun: false });
    expect(after.removed.map((r) => r.digest).sort()).toEqual([layer, manifest].sort());
  });

  it('after the last manifest of a repository goes, drops its stale links and frees their blobs, but not a layer another repository uses', async () => {
    const manifest = await put('app manifest', 3 * HOUR);
    const config = await put('app config', 3 * HOUR);
    const layer = await put('app layer', 3 * HOUR);
    const shared = await put('shared base layer', 3 * HOUR);
    const otherManifest = await put('other manifest', 3 * HOUR);
    const linkedAt = new Date(NOW.getTime() - 3 * HOUR);
    for (const [d, n] of [[config, 10], [layer, 9], [shared, 17]] as const) await store.linkBlob('acme/app', d, n, linkedAt);
    await store.linkBlob('acme/other', shared, 17, linkedAt);
    const image = (repository: string, digest: string, children: string[]) =>
      store.putManifest({ repository, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 12, subject: null, artifactType: null, annotations: null, children: children.map((c) => ({ digest: c, kind: 'blob' as const })), createdAt: linkedAt });
    await image('acme/app', manifest, [config, layer, shared]);
    await image('acme/other', otherManifest, [shared]);

    // While the manifest lives, everything stays.
    const live = await collectGarbage(store, blobs, { now: NOW, graceMs: HOUR, uploadTimeoutMs: HOUR, dryRun: false });
    expect(live).toMatchObject({ removed: [], unlinked: [] });

    await store.deleteManifest('acme/app', manifest);
    const dry = await collectGarbage(store, blobs, { now: NOW, graceMs: HOUR, uploadTimeoutMs: HOUR, dryRun: true });
    expect(dry.removed.map((r) => r.digest).sort()).toEqual([config, layer, manifest].sort());
    expect(await store.getBlobLink('acme/app', layer)).toBeDefined();

    const run = await collectGarbage(store, blobs, { now: NOW, graceMs: HOUR, uploadTimeoutMs: HOUR, dryRun: false });
    expect(run.removed.map((r) => r.digest).sort()).toEqual([config, layer, manifest].sort());
    expect(run.unlinked.map((u) => `${u.repository} ${u.digest}`).sort()).toEqual([`acme/app ${config}`, `acme/app ${layer}`, `acme/app ${shared}`].sort());
    for (const d of [config, layer, manifest]) expect(await blobs.stat(d)).toBeUndefined();
    // acme/other's image still uses the shared layer: its link and its file stay.
    expect(await blobs.stat(shared)).toBeDefined();
    expect(await store.getBlobLink('acme/other', shared)).toBeDefined();
  });

  it('leaves the links of a push in flight (younger than the grace period) and their blobs', async () => {
    const layer = await put('layer of a push in flight', 3 * HOUR);
    // The blob file is old (uploaded before), but the link was made again a minute ago by a mount.
    await store.linkBlob('acme/app', layer, 26, new Date(NOW.getTime() - 60_000));
    const run = await collectGarbage(store, blobs, { now: NOW, graceMs: HOUR, uploadTimeoutMs: HOUR, dryRun: false });
    expect(run).toMatchObject({ removed: [], unlinked: [], kept: 1 });
    expect(await blobs.stat(layer)).toBeDefined();
  });

  describe('beside a push of the same blob (another process, no lock)', () => {
    const content = 'a layer pushed again while gc runs';
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const options = { now: NOW, graceMs: HOUR, uploadTimeoutMs: HOUR, dryRun: false };

    /** The store as gc sees it: `between[i]` runs after gc's i-th "is it referenced?" has its answer, before gc acts on it. */
    function gcStore(between: (() => Promise<unknown>)[]): Store {
      const seen = Object.create(store) as Store;
      seen.isDigestReferenced = async (d) => {
        const answer = await store.isDigestReferenced(d);
        await between.shift()?.();
        return answer;
      };
      return seen;
    }

    /** The blob store as gc sees it: `afterTrash` runs once gc has moved the file away, before it decides. */
    function gcBlobs(afterTrash: () => Promise<unknown>): BlobStore {
      const seen = Object.create(blobs) as BlobStore;
      seen.trash = async (d): Promise<TrashedBlob | undefined> => {
        const trashed = await blobs.trash(d);
        await afterTrash();
        return trashed;
      };
      return seen;
    }

    /** What the upload route does: store, then link and look (false: it answers 503, not 201). */
    const store_ = (via: BlobStore = blobs) => via.putVerified(digest, Readable.from([Buffer.from(content)]));
    const link = (via: BlobStore = blobs) => linkStoredBlob(store, via, 'acme/app', { digest, size: content.length }, NOW);
    const readable = async () => {
      const opened = await blobs.open(digest);
      if (!opened) return undefined;
      const chunks: Buffer[] = [];
      for await (const c of opened.stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString();
    };
    const trashEntries = () => (existsSync(join(dir, 'registry', 'gc-trash')) ? readdirSync(join(dir, 'registry', 'gc-trash')) : []);

    beforeEach(async () => {
      // Pushed two hours ago, then unlinked (DELETE of the blob): an old file nothing references.
      await put(content, 2 * HOUR);
    });

    it('a push storing and linking it between gc’s check and its removal keeps it, and a pull meanwhile gets it (the reported race)', async () => {
      let acknowledged: boolean | undefined;
      let pulled: string | undefined;
      const run = await collectGarbage(
        gcStore([async () => { await store_(); acknowledged = await link(); }]),
        gcBlobs(async () => (pulled = await readable())),
        options,
      );
      expect(acknowledged).toBe(true);
      expect(pulled).toBe(content);
      expect(await readable()).toBe(content);
      expect(run.removed).toEqual([]);
      expect(trashEntries()).toEqual([]);
    });

    // A push whose stamp gc would call old (clock skew, or slower than the grace period): the file's identity still tells.
    it.each([
      ['stamped now', () => blobs],
      ['stamped two hours ago', () => new BlobStore({ root: join(dir, 'registry'), maxBlobBytes: 1 << 20, now: () => new Date(NOW.getTime() - 2 * HOUR) })],
    ])('a push that stores it before the trash but links only after gc has decided gets it back (%s)', async (_, pushing) => {
      const via = pushing();
      const run = await collectGarbage(gcStore([() => store_(via)]), blobs, options);
      expect(await link(via)).toBe(true);
      expect(await readable()).toBe(content);
      expect(run).toMatchObject({ removed: [], spared: 1 });
      expect(trashEntries()).toEqual([]);
    });

    it('a push storing it after the trash keeps its own new file; gc puts the old copy back only if referenced, never over the new one', async () => {
      let acknowledged: boolean | undefined;
      const run = await collectGarbage(store, gcBlobs(async () => { await store_(); acknowledged = await link(); }), options);
      expect(acknowledged).toBe(true);
      expect(run).toMatchObject({ removed: [], kept: 1 });
      expect(await readable()).toBe(content);
      // The push's copy, stamped when it was stored (the old file had a two-hour-old mtime).
      expect((await blobs.stat(digest))!.storedAt.getTime()).toBeGreaterThan(NOW.getTime() - HOUR);
      expect(trashEntries()).toEqual([]);
    });

    it('a reference recorded after gc’s last look (a mount of the old file) is not acknowledged once the file is gone', async () => {
      let acknowledged: boolean | undefined;
      const run = await collectGarbage(gcStore([async () => undefined, async () => (acknowledged = await link())]), blobs, options);
      expect(run.removed.map((r) => r.digest)).toEqual([digest]);
      expect(acknowledged).toBe(false);
      expect(await readable()).toBeUndefined();
      // The client pushes it again, and that one holds.
      await store_();
      expect(await link()).toBe(true);
      expect(await readable()).toBe(content);
    });

    it('with nothing racing, the old unreferenced blob goes and the trash is left empty; a dry run moves nothing', async () => {
      const before = (await blobs.stat(digest))!;
      const dry = await collectGarbage(store, blobs, { ...options, dryRun: true });
      expect(dry.removed).toEqual([{ digest, size: content.length }]);
      expect(await blobs.stat(digest)).toEqual(before);
      expect(existsSync(join(dir, 'registry', 'gc-trash'))).toBe(false);

      const run = await collectGarbage(store, blobs, options);
      expect(run.removed).toEqual([{ digest, size: content.length }]);
      expect(await blobs.stat(digest)).toBeUndefined();
      expect(trashEntries()).toEqual([]);
    });

    it('what a gc killed between trash and decision left goes back at the next gc (not at a dry run), and is kept if referenced', async () => {
      expect(await blobs.trash(digest)).toBeDefined();
      await store.linkBlob('acme/app', digest, content.length, NOW);
      expect(await blobs.stat(digest)).toBeUndefined();

      await collectGarbage(store, blobs, { ...options, dryRun: true });
      expect(trashEntries()).toHaveLength(1);
      expect(await blobs.stat(digest)).toBeUndefined();

      const run = await collectGarbage(store, blobs, options);
      expect(run).toMatchObject({ removed: [], kept: 1 });
      expect(await blobs.stat(digest)).toBeDefined();
      expect(await readable()).toBe(content);
      expect(trashEntries()).toEqual([]);
    });

    it('a loop pushing the blob again never gets an acknowledged blob that is missing, against a gc loop', async () => {
      // Real time on both sides, as two processes would have it. In one process the steps
      // would run in lockstep: a few event-loop turns of seeded random length between them
      // let the two loops meet in every order (the old sweep lost a blob within 300 rounds).
      let seed = 0x5eed;
      const random = (n: number) => {
        seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
        return seed % n;
      };
      const jitter = async () => {
        for (let turns = random(12); turns > 0; turns--) await new Promise((r) => setImmediate(r));
      };
      const live = new BlobStore({ root: join(dir, 'registry'), maxBlobBytes: 1 << 20 });
      const gcSide = Object.create(live) as BlobStore;
      gcSide.stat = async (d) => (await Promise.all([live.stat(d), jitter()]))[0];
      gcSide.trash = async (d) => (await Promise.all([live.trash(d), jitter()]))[0];
      const gcStoreSide = Object.create(store) as Store;
      gcStoreSide.isDigestReferenced = async (d) => (await Promise.all([store.isDigestReferenced(d), jitter()]))[0];

      const file = join(dir, 'registry', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
      const rounds = 300;
      let acknowledged = 0;
      let gcRuns = 0;
      let removed = 0;
      const missing: number[] = [];
      let done = false;
      // Resolves once a gc run that started after the call has finished: by then every run that could
      // have been deciding on the blob at the acknowledgement is done with it.
      let runsStarted = 0;
      const waiting: { after: number; resolve: () => void }[] = [];
      const nextWholeRun = () => new Promise<void>((resolve) => waiting.push({ after: runsStarted, resolve }));
      const pusher = (async () => {
        try {
          for (let round = 0; round < rounds; round++) {
            // As race2.py: unlink it and make the file look old, so gc wants it, then push it again.
            await store.unlinkBlob('acme/app', digest);
            const old = new Date(Date.now() - 2 * HOUR);
            await utimes(file, old, old).catch(() => undefined);
            await jitter();
            const stored = await live.putVerified(digest, Readable.from([Buffer.from(content)]));
            await jitter();
            if (!(await linkStoredBlob(store, live, 'acme/app', stored, new Date()))) continue;
            acknowledged++;
            // What a pull sees right away, and what is on disk once gc has had its say.
            const opened = await live.open(digest);
            if (!opened) missing.push(round);
            else opened.stream.destroy();
            await nextWholeRun();
            if (!(await live.stat(digest))) missing.push(round);
          }
        } finally {
          done = true;
        }
      })();
      while (!done) {
        const id = ++runsStarted;
        const run = await collectGarbage(gcStoreSide, gcSide, { now: new Date(), graceMs: HOUR, uploadTimeoutMs: HOUR, dryRun: false });
        removed += run.removed.length;
        gcRuns++;
        for (const w of waiting.filter((w) => w.after < id)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve();
        }
      }
      await pusher;
      expect(missing).toEqual([]);
      // The loops did meet: gc removed the unlinked, old-looking blob between pushes, and most pushes held.
      expect(gcRuns).toBeGreaterThan(10);
      expect(removed).toBeGreaterThan(0);
      expect(acknowledged).toBeGreaterThan(rounds / 2);
    });
  });
});
