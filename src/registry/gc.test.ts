import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/open.js';
import type { Store } from '../store/store.js';
import { BlobStore } from './blob-store.js';
import { collectGarbage } from './gc.js';

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
});
