/**
 * Many instances on PostgreSQL and Redis, over real HTTP with autocannon:
 * `portcullis serve` processes in gateway mode over one docker-registry, the
 * load spread evenly across them. The baseline is one instance on the same
 * PostgreSQL and Redis; beside it, one instance on PostgreSQL without Redis
 * shows what the change feed saves (without it every cached lookup reads the
 * store's change counter), and two instances show what a second process adds
 * on this machine. The load generator shares the machine's cores with the
 * instances, PostgreSQL, Redis and the registry: on 2 cores a second instance
 * cannot double anything, and the table says how close it comes.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startUpstream } from './gateway.js';
import { BENCH_ENV, CLI, freePort, SERVE_NODE_FLAGS, waitFor } from './registry.js';

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 32;

interface Load {
  label: string;
  rps: number;
  p50_ms: number;
  p99_ms: number;
}

/** autocannon against each base URL at once, CONNECTIONS split between them; requests per second summed. */
async function load(label: string, bases: string[], path: string, method: 'GET', headers: Record<string, string>): Promise<Load> {
  const results = await Promise.all(
    bases.map((base) =>
      autocannon({ url: `${base}${path}`, method, headers, connections: Math.max(1, Math.floor(CONNECTIONS / bases.length)), duration: SECONDS }),
    ),
  );
  for (const r of results) {
    if (r.requests.total === 0 || r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) throw new Error(`${label}: ${r.requests.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  }
  // Latency percentiles of the busiest target; they barely differ between targets.
  return {
    label,
    rps: results.reduce((n, r) => n + r.requests.average, 0),
    p50_ms: Math.max(...results.map((r) => r.latency.p50)),
    p99_ms: Math.max(...results.map((r) => r.latency.p99)),
  };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function benchScaleOut(): Promise<Record<string, unknown>[]> {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-scale-'));
  const schema = `bench_${Date.now().toString(36)}`;
  const children: ChildProcess[] = [];
  await admin(`create schema ${schema}`);
  try {
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const uPort = await freePort();
    const ports = [await freePort(), await freePort()];
    const env = (redis: boolean) => ({
      ...process.env,
      ...BENCH_ENV,
      PORTCULLIS_STORE_URL: url.toString(),
      PORTCULLIS_CACHE_REDIS: redis ? REDIS_URL : '',
      PORTCULLIS_CACHE_KEY_PREFIX: `${schema}:`,
      PORTCULLIS_REGISTRY_UPSTREAM: `http://127.0.0.1:${uPort}`,
      PORTCULLIS_LOG_LEVEL: 'warn',
    });
    const dirs = [join(work, 'a'), join(work, 'b')];
    const run = (dir: string, ...args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, '--data-dir', dir, ...args], { encoding: 'utf8', env: env(true) });
      if (r.status !== 0) throw new Error(`portcullis ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const { bootstrap } = JSON.parse(run(dirs[0]!, 'init', '--json')) as { bootstrap: { full_token: string; username: string; secret: string } };
    const bundle = join(work, 'bundle.pem');
    run(dirs[0]!, 'keys', 'cert', '--out', bundle);
    mkdirSync(dirs[1]!);
    copyFileSync(join(dirs[0]!, 'pepper'), join(dirs[1]!, 'pepper'));
    cpSync(join(dirs[0]!, 'keys'), join(dirs[1]!, 'keys'), { recursive: true });

    children.push(startUpstream(work, uPort, `http://127.0.0.1:${ports[0]}/token`, bundle));
    await waitFor(`http://127.0.0.1:${uPort}/v2/`);

    const start = async (i: number, redis: boolean): Promise<{ base: string; child: ChildProcess }> => {
      const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, CLI, '--data-dir', dirs[i]!, 'serve', '--port', String(ports[i])], { stdio: 'ignore', env: env(redis) });
      children.push(child);
      const base = `http://127.0.0.1:${ports[i]}`;
      await waitFor(`${base}/healthz`);
      return { base, child };
    };
    const stop = async (child: ChildProcess) => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    };

    // A customer with a license, and one image in the upstream, pushed through the gateway.
    let a = await start(0, true);
    const api = async <T>(path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${a.base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${bootstrap.full_token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const customer = await api<{ id: string }>('/api/v1/customers', { name: 'globex' });
    await api('/api/v1/licenses', { customer: customer.id, repositories: ['acme/app'] });
    const tok = await api<{ username: string; secret: string }>('/api/v1/tokens', { type: 'customer', name: 'bench', customer: customer.id });
    const vendorAuth = { authorization: `Basic ${Buffer.from(`${bootstrap.username}:${bootstrap.secret}`).toString('base64')}` };
    await pushTinyImage(a.base, vendorAuth);
    const customerAuth = { authorization: `Basic ${Buffer.from(`${tok.username}:${tok.secret}`).toString('base64')}` };
    const tokenPath = '/token?service=portcullis&scope=repository:acme/app:pull';
    const manifestPath = '/v2/acme/app/manifests/1.0';
    const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };

    const rows: Load[][] = [[], []];
    const measureBoth = async (label: string, bases: string[]) => {
      for (const base of bases) await warm(base, [tokenPath, manifestPath], { ...customerAuth, ...accept });
      rows[0]!.push(await load(`/token, ${label}`, bases, tokenPath, 'GET', customerAuth));
      // GET, not HEAD: autocannon waits for a HEAD answer's body, which never comes.
      rows[1]!.push(await load(`manifest GET by tag, ${label}`, bases, manifestPath, 'GET', { ...customerAuth, ...accept }));
    };
    await measureBoth('one instance, PostgreSQL + Redis (baseline)', [a.base]);
    await stop(a.child);
    a = await start(0, false);
    await measureBoth('one instance, PostgreSQL, no Redis', [a.base]);
    await stop(a.child);
    a = await start(0, true);
    const b = await start(1, true);
    await measureBoth('two instances, PostgreSQL + Redis', [a.base, b.base]);

    return rows.flatMap((group) => {
      const baseline = group[0]!;
      return group.map((r) => ({ case: r.label, 'req/s': Math.round(r.rps), 'p50 ms': r.p50_ms, 'p99 ms': r.p99_ms, 'ratio to baseline': (r.rps / baseline.rps).toFixed(2) }));
    });
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(work, { recursive: true, force: true });
    await admin(`drop schema if exists ${schema} cascade`);
  }
}

/** A first request to each path, so that no figure includes the first loads of the caches. */
async function warm(base: string, paths: string[], headers: Record<string, string>): Promise<void> {
  for (const path of paths) {
    const res = await fetch(`${base}${path}`, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
  }
}

/** One config blob and a manifest with no layers, tagged 1.0 in acme/app. */
async function pushTinyImage(base: string, auth: Record<string, string>): Promise<void> {
  const { createHash } = await import('node:crypto');
  const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const start = await fetch(`${base}/v2/acme/app/blobs/uploads/`, { method: 'POST', headers: auth });
  if (start.status !== 202) throw new Error(`blob upload: ${start.status}`);
  const location = new URL(start.headers.get('location')!, base);
  location.searchParams.set('digest', digest(config));
  const put = await fetch(location, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: config });
  if (put.status !== 201) throw new Error(`blob put: ${put.status}`);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length }, layers: [] }),
  );
  const res = await fetch(`${base}/v2/acme/app/manifests/1.0`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
  if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${await res.text()}`);
}
