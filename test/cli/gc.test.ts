/**
 * `portcullis gc` beside a running serve: once every manifest of a repository
 * is deleted, its layers and config go from disk too (mark and sweep over the
 * repository's blob links), while a layer another repository's image still
 * uses stays. Images are pushed over HTTP to the real server.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir, parseBanner, removeDataDir, runCliJsonAsync, startServe, type ServeProcess } from '../helpers/cli.js';
import { basic, blob, imageConfig, imageManifest, type Content } from '../helpers/oci-http.js';

const LISTENING = /"msg":"portcullis listening"/;

interface GcJson {
  dry_run: boolean;
  removed: { digest: string; size: number }[];
  removed_bytes: number;
  unlinked: { repository: string; digest: string }[];
  spared: number;
  kept: number;
}

const appConfig = imageConfig('gc app');
const appLayer = blob(randomBytes(300 * 1024));
const sharedLayer = blob(randomBytes(200 * 1024));
const app = imageManifest({ config: appConfig, layers: [sharedLayer, appLayer] });
const otherConfig = imageConfig('gc other');
const other = imageManifest({ config: otherConfig, layers: [sharedLayer] });

describe('portcullis gc after a repository lost its last manifest', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let base: string;
  let authorization: string;

  const blobFile = (c: Content) => join(dataDir, 'registry', 'blobs', 'sha256', c.digest.slice(7, 9), c.digest.slice(7));
  const v2 = (path: string, init: RequestInit = {}) => fetch(`${base}/v2/${path}`, { ...init, headers: { authorization, ...(init.headers as Record<string, string>) } });

  async function push(repository: string, tag: string, manifest: Content, blobs: Content[]): Promise<void> {
    for (const b of blobs) {
      const res = await v2(`${repository}/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: b.bytes, headers: { 'content-type': 'application/octet-stream' } });
      expect(res.status, await res.text()).toBe(201);
    }
    const res = await v2(`${repository}/manifests/${tag}`, { method: 'PUT', body: manifest.bytes, headers: { 'content-type': manifest.mediaType } });
    expect(res.status, await res.text()).toBe(201);
  }

  const gc = (...args: string[]) => runCliJsonAsync<GcJson>(dataDir, 'gc', '--grace', '0', ...args);

  beforeAll(async () => {
    dataDir = makeDataDir();
    serve = startServe(dataDir, '--port', '0');
    const { port } = JSON.parse(await serve.waitForLine(LISTENING)) as { port: number };
    base = `http://127.0.0.1:${port}`;
    const banner = parseBanner(serve.stdout())!;
    authorization = basic(banner.username, banner.secret);
    await push('ops/app', '1.0', app, [appConfig, sharedLayer, appLayer]);
    await push('ops/other', '1.0', other, [otherConfig, sharedLayer]);
  });
  afterAll(async () => {
    await serve?.stop('SIGTERM').catch(() => undefined);
    removeDataDir(dataDir);
  });

  it('removes nothing while the manifests live', async () => {
    const result = await gc();
    expect(result).toMatchObject({ removed: [], removed_bytes: 0, unlinked: [] });
    for (const c of [app, appConfig, appLayer, sharedLayer, other, otherConfig]) expect(existsSync(blobFile(c)), c.digest).toBe(true);
  });

  it('frees the layers and config of the deleted image, and keeps the layer the other repository still uses', async () => {
    const deleted = await v2(`ops/app/manifests/${app.digest}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    const gone = [app, appConfig, appLayer];
    const expectedBytes = gone.reduce((n, c) => n + c.size, 0);

    const dry = await gc('--dry-run');
    expect(dry.removed.map((r) => r.digest).sort()).toEqual(gone.map((c) => c.digest).sort());
    expect(dry.removed_bytes).toBe(expectedBytes);
    for (const c of gone) expect(existsSync(blobFile(c)), c.digest).toBe(true);

    const result = await gc();
    expect(result.dry_run).toBe(false);
    expect(result.removed.map((r) => r.digest).sort()).toEqual(gone.map((c) => c.digest).sort());
    expect(result.removed_bytes).toBe(expectedBytes);
    expect(result.removed_bytes).toBeGreaterThan(300 * 1024);
    expect(result.unlinked.map((u) => `${u.repository} ${u.digest}`).sort()).toEqual(
      [appConfig, appLayer, sharedLayer].map((c) => `ops/app ${c.digest}`).sort(),
    );
    for (const c of gone) expect(existsSync(blobFile(c)), c.digest).toBe(false);
    for (const c of [sharedLayer, other, otherConfig]) expect(existsSync(blobFile(c)), c.digest).toBe(true);

    // ops/other still pulls whole; ops/app no longer has the blobs.
    expect((await v2('ops/other/manifests/1.0', { headers: { accept: other.mediaType } })).status).toBe(200);
    const shared = await v2(`ops/other/blobs/${sharedLayer.digest}`);
    expect(shared.status).toBe(200);
    expect(Buffer.from(await shared.arrayBuffer()).equals(sharedLayer.bytes)).toBe(true);
    expect((await v2(`ops/app/blobs/${appLayer.digest}`, { method: 'HEAD' })).status).toBe(404);

    // A second run finds nothing more.
    expect(await gc()).toMatchObject({ removed: [], unlinked: [] });
  });

  it('the repository takes the same image again afterwards', async () => {
    await push('ops/app', '1.0', app, [appConfig, sharedLayer, appLayer]);
    expect((await v2('ops/app/manifests/1.0', { headers: { accept: app.mediaType } })).status).toBe(200);
    for (const c of [app, appConfig, appLayer]) expect(existsSync(blobFile(c)), c.digest).toBe(true);
  });
});
