/**
 * The built-in registry against Debian's docker-registry, both real servers
 * on loopback, in the same run: manifest HEAD latency (Portcullis checks the
 * token, the license and the tag on every request; the baseline registry runs
 * without auth), blob pull throughput, and Portcullis' peak RSS while it
 * streams a large blob (BENCH_BLOB_MB, default 1024).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

export const BLOB_MB = Number(process.env.BENCH_BLOB_MB ?? 1024);
const HEADS = Number(process.env.BENCH_HEADS ?? 2000);
export const PULLS = 3;
export const CLI = resolve('dist/cli/main.js');
/** The V8 flags `npm start`, the installed `portcullis` command and the systemd unit run `serve` with. */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=8'];
/** One bench token sends far more than the default 1000 requests an hour: the limit is counted, never reached. */
export const BENCH_ENV = { PORTCULLIS_TOKENS_DEFAULT_RATE_LIMIT: '100000000' };

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

export async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not come up`);
}

/** Peak resident set of a process, from /proc (VmHWM), in MiB. */
export function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/** Starts a new peak: the kernel resets VmHWM to the current RSS. */
export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}

export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

export async function makeBlob(file: string, mb: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < mb; i++) {
    chunk.fill(i % 251);
    chunk.writeUInt32BE(i, 0);
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
  return `sha256:${hash.digest('hex')}`;
}

type Body = NonNullable<RequestInit['body']>;
export const signedMs = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(3)} ms`;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function push(base: string, auth: Record<string, string>, repo: string, blobFile: string, blobDigest: string, size: number): Promise<string> {
  // POST then PUT with the body: the upload both registries support (distribution 2.8 has no single-POST upload).
  // No Content-Length of our own: the stream goes chunked, which both accept.
  const up = async (digest: string, body: Body) => {
    const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: auth });
    if (start.status !== 202) throw new Error(`upload start at ${base}: ${start.status} ${await start.text()}`);
    const url = new URL(start.headers.get('location')!, base);
    url.searchParams.set('digest', digest);
    const res = await fetch(url, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    } as RequestInit);
    if (res.status !== 201) throw new Error(`upload to ${base}: ${res.status} ${await res.text()}`);
  };
  await up(blobDigest, Readable.toWeb(createReadStream(blobFile)) as unknown as Body);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  await up(sha(config), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: blobDigest, size }],
    }),
  );
  const res = await fetch(`${base}/v2/${repo}/manifests/bench`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
  if (res.status !== 201) throw new Error(`manifest to ${base}: ${res.status} ${await res.text()}`);
  return sha(manifest);
}

export async function headLatency(url: string, headers: Record<string, string>) {
  const times: number[] = [];
  for (let i = 0; i < HEADS; i++) {
    const t = performance.now();
    const res = await fetch(url, { method: 'HEAD', headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`HEAD ${url}: ${res.status}`);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

/**
 * Node's http client and 'data' events: the least client overhead, so the
 * servers are what is measured. A redirect to storage is followed once,
 * without the credentials, as registry clients do.
 */
export function download(url: string, headers: Record<string, string>, redirects = 1): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const location = res.headers.location;
      if (redirects > 0 && (res.statusCode === 307 || res.statusCode === 302) && location) {
        res.resume();
        download(new URL(location, url).toString(), {}, redirects - 1).then(resolve, reject);
        return;
      }
      if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode}`));
      let n = 0;
      res.on('data', (chunk: Buffer) => (n += chunk.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    }).on('error', reject);
  });
}

export async function pullThroughput(url: string, headers: Record<string, string>, size: number, pulls = PULLS): Promise<number> {
  let best = 0;
  for (let i = 0; i < pulls; i++) {
    const t = performance.now();
    const n = await download(url, headers);
    if (n !== size) throw new Error(`GET ${url}: ${n} of ${size} bytes`);
    best = Math.max(best, size / 1024 / 1024 / ((performance.now() - t) / 1000));
  }
  return best;
}

export async function benchRegistry(): Promise<Record<string, unknown>[]> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-registry-'));
  const children: ChildProcess[] = [];
  try {
    const dataDir = join(work, 'data');
    const init = spawnSync(process.execPath, [CLI, '--data-dir', dataDir, 'init', '--json'], { encoding: 'utf8' });
    const { bootstrap } = JSON.parse(init.stdout) as { bootstrap: { username: string; secret: string } };
    const pPort = await freePort();
    const serve = spawn(process.execPath, [...SERVE_NODE_FLAGS, CLI, '--data-dir', dataDir, 'serve', '--port', String(pPort)], { stdio: 'ignore', env: { ...process.env, ...BENCH_ENV, PORTCULLIS_LOG_LEVEL: 'warn' } });
    children.push(serve);
    const rPort = await freePort();
    mkdirSync(join(work, 'reg'));
    writeFileSync(join(work, 'reg.yml'), JSON.stringify({ version: 0.1, log: { level: 'error', accesslog: { disabled: true } }, storage: { filesystem: { rootdirectory: join(work, 'reg') } }, http: { addr: `127.0.0.1:${rPort}`, secret: 'bench' } }));
    children.push(spawn('docker-registry', ['serve', join(work, 'reg.yml')], { stdio: 'ignore' }));
    const portcullis = `http://127.0.0.1:${pPort}`;
    const direct = `http://127.0.0.1:${rPort}`;
    await Promise.all([waitFor(`${portcullis}/healthz`), waitFor(`${direct}/v2/`)]);

    const blobFile = join(work, 'blob');
    const size = BLOB_MB * 1024 * 1024;
    const digest = await makeBlob(blobFile, BLOB_MB);
    const auth = { authorization: `Basic ${Buffer.from(`${bootstrap.username}:${bootstrap.secret}`).toString('base64')}` };
    const manifestP = await push(portcullis, auth, 'acme/app', blobFile, digest, size);
    const pushRss = peakRssMb(serve.pid!);
    const manifestD = await push(direct, {}, 'acme/app', blobFile, digest, size);
    if (manifestP !== manifestD) throw new Error('the two registries stored different manifests');
    rmSync(blobFile);

    const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
    const headD = await headLatency(`${direct}/v2/acme/app/manifests/bench`, accept);
    const headP = await headLatency(`${portcullis}/v2/acme/app/manifests/bench`, { ...accept, ...auth });
    const pullD = await pullThroughput(`${direct}/v2/acme/app/blobs/${digest}`, {}, size);
    const restRss = rssMb(serve.pid!);
    resetPeakRss(serve.pid!);
    const pullP = await pullThroughput(`${portcullis}/v2/acme/app/blobs/${digest}`, auth, size);
    const pullRss = peakRssMb(serve.pid!);
    return [
      { case: 'manifest HEAD p50 ms', 'docker-registry (baseline)': headD.p50.toFixed(3), portcullis: headP.p50.toFixed(3), 'ratio / delta': signedMs(headP.p50 - headD.p50) },
      { case: 'manifest HEAD p99 ms', 'docker-registry (baseline)': headD.p99.toFixed(3), portcullis: headP.p99.toFixed(3), 'ratio / delta': signedMs(headP.p99 - headD.p99) },
      { case: `blob pull MiB/s (${BLOB_MB} MiB)`, 'docker-registry (baseline)': pullD.toFixed(0), portcullis: pullP.toFixed(0), 'ratio / delta': `${(pullP / pullD).toFixed(2)}x` },
      { case: `portcullis peak RSS MiB, pushing ${BLOB_MB} MiB`, 'docker-registry (baseline)': '-', portcullis: pushRss.toFixed(0), 'ratio / delta': '-' },
      { case: 'portcullis RSS MiB before the pulls', 'docker-registry (baseline)': '-', portcullis: restRss.toFixed(0), 'ratio / delta': '-' },
      { case: `portcullis peak RSS MiB, ${PULLS} pulls of ${BLOB_MB} MiB`, 'docker-registry (baseline)': '-', portcullis: pullRss.toFixed(0), 'ratio / delta': '-' },
    ];
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    rmSync(work, { recursive: true, force: true });
  }
}
