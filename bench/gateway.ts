/**
 * Gateway mode against its own upstream, in the same run: a `portcullis serve`
 * process proxies /v2 to Debian's docker-registry, which trusts only the
 * instance's key. The baseline is the same registry asked directly, with a
 * service token signed by the same key, so both paths pay the registry's own
 * token check and only the gateway's work differs: manifest HEAD latency, blob
 * pull throughput, and the gateway's peak RSS while it streams a large blob
 * (BENCH_BLOB_MB, default 1024) in and out.
 *
 * A third path measures the ceiling of any proxy that copies bytes through a
 * second process: socat, a C relay with 1 MiB buffers that does no HTTP and
 * no authorization, in front of the same registry. On a small machine the
 * extra hop's copies, not the gateway's work, set the pull ratio; the
 * gateway's figure beside socat's shows which.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { repositoryAccess } from '../src/registry/upstream.js';
import { openRuntime } from '../src/runtime.js';
import { BENCH_ENV, BLOB_MB, CLI, freePort, headLatency, makeBlob, peakRssMb, PULLS, pullThroughput, push, resetPeakRss, rssMb, SERVE_NODE_FLAGS, signedMs, waitFor } from './registry.js';

export async function benchGateway(): Promise<Record<string, unknown>[]> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-gateway-'));
  const children: ChildProcess[] = [];
  try {
    const dataDir = join(work, 'data');
    const uPort = await freePort();
    const gPort = await freePort();
    const env = { ...process.env, ...BENCH_ENV, PORTCULLIS_REGISTRY_UPSTREAM: `http://127.0.0.1:${uPort}`, PORTCULLIS_LOG_LEVEL: 'warn' };
    const init = spawnSync(process.execPath, [CLI, '--data-dir', dataDir, 'init', '--json'], { encoding: 'utf8', env });
    const { bootstrap } = JSON.parse(init.stdout) as { bootstrap: { username: string; secret: string } };
    const bundle = join(work, 'bundle.pem');
    const cert = spawnSync(process.execPath, [CLI, '--data-dir', dataDir, 'keys', 'cert', '--out', bundle], { encoding: 'utf8', env });
    if (cert.status !== 0) throw new Error(`keys cert: ${cert.stderr}`);

    children.push(startUpstream(work, uPort, `http://127.0.0.1:${gPort}/token`, bundle));
    const serve = spawn(process.execPath, [...SERVE_NODE_FLAGS, CLI, '--data-dir', dataDir, 'serve', '--port', String(gPort)], { stdio: 'ignore', env });
    children.push(serve);
    const gateway = `http://127.0.0.1:${gPort}`;
    const direct = `http://127.0.0.1:${uPort}`;
    await Promise.all([waitFor(`${gateway}/healthz`), waitFor(`${direct}/v2/`)]);

    // The direct client signs with the instance's key, as the gateway does.
    const { runtime } = await openRuntime(loadConfig({ env, flags: { data_dir: dataDir } }), { initialize: false });
    const directAuth = async () => ({ authorization: `Bearer ${await runtime.upstream!.serviceToken([repositoryAccess('acme/app', 'pull')])}` });

    const blobFile = join(work, 'blob');
    const size = BLOB_MB * 1024 * 1024;
    const digest = await makeBlob(blobFile, BLOB_MB);
    const auth = { authorization: `Basic ${Buffer.from(`${bootstrap.username}:${bootstrap.secret}`).toString('base64')}` };
    await push(gateway, auth, 'acme/app', blobFile, digest, size);
    const pushRss = peakRssMb(serve.pid!);
    rmSync(blobFile);

    const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
    const headD = await headLatency(`${direct}/v2/acme/app/manifests/bench`, { ...accept, ...(await directAuth()) });
    const headG = await headLatency(`${gateway}/v2/acme/app/manifests/bench`, { ...accept, ...auth });
    const relay = await startRelay(uPort, children);
    let pullD = 0;
    let pullG = 0;
    let pullR = 0;
    const restRss = rssMb(serve.pid!);
    resetPeakRss(serve.pid!);
    // Alternate, so a slow moment of the machine does not fall on one side only.
    for (let i = 0; i < PULLS; i++) {
      pullD = Math.max(pullD, await pullThroughput(`${direct}/v2/acme/app/blobs/${digest}`, await directAuth(), size, 1));
      pullG = Math.max(pullG, await pullThroughput(`${gateway}/v2/acme/app/blobs/${digest}`, auth, size, 1));
      if (relay) pullR = Math.max(pullR, await pullThroughput(`${relay}/v2/acme/app/blobs/${digest}`, await directAuth(), size, 1));
    }
    const pullRss = peakRssMb(serve.pid!);

    // The S3 set-up: the upstream answers blob GETs with a redirect to storage, which both sides follow.
    const upstream = children[0]!;
    const stopped = new Promise((r) => upstream.once('exit', r));
    upstream.kill('SIGTERM');
    await stopped;
    const storage = await startStorage(join(work, 'reg'));
    children[0] = startUpstream(work, uPort, `http://127.0.0.1:${gPort}/token`, bundle, storage.url);
    await waitFor(`${direct}/v2/`);
    let redirectD = 0;
    let redirectG = 0;
    for (let i = 0; i < PULLS; i++) {
      redirectD = Math.max(redirectD, await pullThroughput(`${direct}/v2/acme/app/blobs/${digest}`, await directAuth(), size, 1));
      redirectG = Math.max(redirectG, await pullThroughput(`${gateway}/v2/acme/app/blobs/${digest}`, auth, size, 1));
    }
    storage.close();
    await runtime.close();
    return [
      { case: 'manifest HEAD p50 ms', 'upstream direct (baseline)': headD.p50.toFixed(3), gateway: headG.p50.toFixed(3), 'ratio / delta': signedMs(headG.p50 - headD.p50) },
      { case: 'manifest HEAD p99 ms', 'upstream direct (baseline)': headD.p99.toFixed(3), gateway: headG.p99.toFixed(3), 'ratio / delta': signedMs(headG.p99 - headD.p99) },
      { case: `blob pull MiB/s (${BLOB_MB} MiB)`, 'upstream direct (baseline)': pullD.toFixed(0), gateway: pullG.toFixed(0), 'ratio / delta': `${(pullG / pullD).toFixed(2)}x` },
      { case: `blob pull MiB/s, storage redirect (S3 set-up)`, 'upstream direct (baseline)': redirectD.toFixed(0), gateway: redirectG.toFixed(0), 'ratio / delta': `${(redirectG / redirectD).toFixed(2)}x` },
      relay
        ? { case: `socat relay MiB/s (ceiling of a proxy hop)`, 'upstream direct (baseline)': pullD.toFixed(0), gateway: pullR.toFixed(0), 'ratio / delta': `${(pullR / pullD).toFixed(2)}x; gateway/socat ${(pullG / pullR).toFixed(2)}x` }
        : { case: 'socat relay: not installed (apt-get install socat)', 'upstream direct (baseline)': '-', gateway: '-', 'ratio / delta': '-' },
      { case: `gateway peak RSS MiB, pushing ${BLOB_MB} MiB`, 'upstream direct (baseline)': '-', gateway: pushRss.toFixed(0), 'ratio / delta': '-' },
      { case: 'gateway RSS MiB before the pulls', 'upstream direct (baseline)': '-', gateway: restRss.toFixed(0), 'ratio / delta': '-' },
      { case: `gateway peak RSS MiB, ${PULLS} pulls of ${BLOB_MB} MiB`, 'upstream direct (baseline)': '-', gateway: pullRss.toFixed(0), 'ratio / delta': '-' },
    ];
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    rmSync(work, { recursive: true, force: true });
  }
}

/** socat relaying to the upstream, or undefined where socat is not installed. */
async function startRelay(upstreamPort: number, children: ChildProcess[]): Promise<string | undefined> {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const port = await freePort();
  children.push(spawn('socat', ['-b', '1048576', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${upstreamPort}`], { stdio: 'ignore' }));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/v2/`);
  return url;
}

/**
 * docker-registry on `port`, storing under work/reg, trusting only the keys in
 * `bundle`; with `redirectBaseUrl`, blob GETs are redirected there (its
 * `redirect` storage middleware), as S3 storage would answer.
 */
export function startUpstream(work: string, port: number, realm: string, bundle: string, redirectBaseUrl?: string): ChildProcess {
  mkdirSync(join(work, 'reg'), { recursive: true });
  writeFileSync(
    join(work, 'reg.yml'),
    JSON.stringify({
      version: 0.1,
      log: { level: 'error', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(work, 'reg') } },
      http: { addr: `127.0.0.1:${port}`, secret: 'bench' },
      auth: { token: { realm, service: 'portcullis-upstream', issuer: 'portcullis', rootcertbundle: bundle } },
      ...(redirectBaseUrl ? { middleware: { storage: [{ name: 'redirect', options: { baseurl: redirectBaseUrl } }] } } : {}),
    }),
  );
  return spawn('docker-registry', ['serve', join(work, 'reg.yml')], { stdio: 'ignore' });
}

/** The registry's storage served read-only over HTTP, standing in for S3: what both sides download from after the redirect. */
async function startStorage(root: string): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!path.startsWith(root)) return void res.writeHead(400).end();
    const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
    file.on('error', () => res.writeHead(404).end());
    file.once('open', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      file.pipe(res);
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}
