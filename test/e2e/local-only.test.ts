/**
 * Local-only mode (auth.enabled = false) through a real `portcullis serve`:
 * skopeo pushes and pulls over loopback with no credentials, a connection from
 * one of this machine's non-loopback addresses is refused with 403, there is
 * no /token and no admin API, and the start-up warning is printed. `serve`
 * refuses to bind anything but loopback in this mode, so the non-loopback
 * caller connects to the loopback listener from another source address: the
 * per-request check is what stops it. Run `npm run build` first.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectCliError, makeDataDir, removeDataDir, runCliWithAsync, startServe, type ServeProcess } from '../helpers/cli.js';
import { buildImageLayout, type BuiltImage } from '../helpers/oci-layout.js';
import { copyToRegistry, inspect, skopeo } from '../helpers/skopeo.js';
import { describeE2E } from '../helpers/system-tools.js';

// TEST-NET-2 (RFC 5737): never routed, so adding it to this machine disturbs nothing.
const EXTRA_ADDRESS = '198.51.100.77';

interface Source {
  address: string;
  cleanup(): void;
}

/**
 * A non-loopback IPv4 address of this machine to connect from: eth0's as a
 * rule, else one added to `lo` for the test (as root; an address outside
 * 127/8 is not loopback whatever device holds it, and dummy interfaces are not
 * available in every container). Under CI a machine with neither fails the
 * test rather than skipping it.
 */
function nonLoopbackSource(): Source | undefined {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
  if (found) return { address: found.address, cleanup: () => undefined };
  try {
    execFileSync('ip', ['addr', 'add', `${EXTRA_ADDRESS}/32`, 'dev', 'lo'], { stdio: 'pipe' });
    return { address: EXTRA_ADDRESS, cleanup: () => execFileSync('ip', ['addr', 'del', `${EXTRA_ADDRESS}/32`, 'dev', 'lo'], { stdio: 'pipe' }) };
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`no non-loopback address on this machine and none can be added: ${(err as Error).message}`);
    return undefined;
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request over a real socket, optionally from a given source address. */
function get(port: number, path: string, localAddress?: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describeE2E('local-only mode through a real serve and skopeo', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let port: number;
  let host: string;
  let work: string;
  let image: BuiltImage;
  let source: Source | undefined;

  beforeAll(async () => {
    dataDir = makeDataDir();
    // serve runs in the data dir, where it finds this file.
    writeFileSync(join(dataDir, 'portcullis.toml'), '[auth]\nenabled = false\n\n[bootstrap]\nnamespaces = ["acme/**"]\n');
    serve = startServe(dataDir, '--port', '0');
    const line = await serve.waitForLine(/portcullis listening/);
    port = (JSON.parse(line) as { port: number }).port;
    host = `127.0.0.1:${port}`;
    work = mkdtempSync(join(tmpdir(), 'portcullis-local-only-'));
    image = await buildImageLayout(join(work, 'layout'), { ref: '1.0', content: 'local-only e2e' });
    source = nonLoopbackSource();
  });

  afterAll(async () => {
    source?.cleanup();
    await serve?.stop();
    removeDataDir(dataDir);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('warns loudly on stderr and in the log at start-up', () => {
    expect(serve.stderr()).toMatch(/WARNING: AUTHENTICATION IS DISABLED \(auth\.enabled = false\): local-only mode/);
    expect(serve.stderr()).toMatch(/never put a reverse proxy/i);
    const logged = serve
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(logged).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringMatching(/authentication disabled: local-only mode/) }));
  });

  it('lets skopeo push to and pull from loopback with no credentials, outside the operator namespaces', async () => {
    const pushed = await copyToRegistry(join(work, 'layout'), '1.0', `${host}/elsewhere/app:1.0`);
    expect(pushed.code, pushed.stderr).toBe(0);
    const seen = await inspect<{ Digest: string }>(`${host}/elsewhere/app:1.0`, undefined, ['--raw']);
    expect(seen.ok, seen.ok ? '' : seen.result.stderr).toBe(true);
    const pulled = await skopeo(['--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${host}/elsewhere/app:1.0`, `oci:${join(work, 'pulled')}:1.0`]);
    expect(pulled.code, pulled.stderr).toBe(0);
    const direct = await get(port, `/v2/elsewhere/app/manifests/${image.digest}`, undefined, 'HEAD');
    expect(direct.status).toBe(200);
  });

  it('refuses a caller from a non-loopback address with 403, never a challenge', async (ctx) => {
    if (!source) return ctx.skip('no non-loopback address on this machine (and not root to add one)');
    for (const path of ['/v2/', '/v2/elsewhere/app/tags/list', `/v2/elsewhere/app/manifests/1.0`]) {
      const res = await get(port, path, source.address);
      expect(res.status, `${path} from ${source.address}: ${res.body}`).toBe(403);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(JSON.parse(res.body)).toEqual({ errors: [{ code: 'DENIED', message: expect.stringMatching(/local-only mode.*loopback/), detail: null }] });
    }
    // The same path from loopback, to show it is the address and nothing else that decides.
    expect((await get(port, '/v2/elsewhere/app/tags/list')).status).toBe(200);
  });

  it('has no admin API and no /token, but keeps /healthz', async () => {
    for (const path of ['/api/v1/customers', '/api/v1/tokens', '/api/v1/openapi.json']) {
      const res = await get(port, path);
      expect(res.status, `${path}: ${res.body}`).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const token = await get(port, '/token?service=portcullis&scope=repository:elsewhere/app:pull');
    expect(token.status).toBe(404);
    expect(JSON.parse(token.body)).toMatchObject({ detail: expect.stringMatching(/no \/token in local-only mode/) });
    expect((await get(port, '/healthz')).status).toBe(200);
  });

  it('refuses to start on a non-loopback address, exit code 2', async () => {
    const other = makeDataDir();
    try {
      writeFileSync(join(other, 'portcullis.toml'), '[auth]\nenabled = false\n');
      for (const bind of ['0.0.0.0', '::', source?.address ?? '192.0.2.2']) {
        const r = await runCliWithAsync(other, { cwd: other }, 'serve', '--host', bind, '--port', '0');
        expectCliError(r, 2, /local-only mode.*server\.host must be a loopback address/);
      }
    } finally {
      removeDataDir(other);
    }
  });

  it('starts on ::1 as well as on 127.0.0.1', async () => {
    const other = makeDataDir();
    writeFileSync(join(other, 'portcullis.toml'), '[auth]\nenabled = false\n');
    const six = startServe(other, '--host', '::1', '--port', '0');
    try {
      await six.waitForLine(/portcullis listening/);
    } finally {
      await six.stop();
      removeDataDir(other);
    }
  });
});
