/**
 * /token issuance and a manifest HEAD with a large store behind them:
 * 1,000,000 tokens and 100,000 customers, each with a license
 * (BENCH_LARGE_TOKENS, BENCH_LARGE_CUSTOMERS), on SQLite and on PostgreSQL
 * (BENCH_POSTGRES_URL, a fresh schema that is dropped at the end). The
 * baseline is the same figure with only the bench's own rows in the store.
 *
 * Four instances set up alike, a small and a large store on each backend,
 * run side by side; the two large ones are seeded. Each case is measured in
 * rounds (BENCH_LARGE_ROUNDS, of BENCH_REQUESTS / 2 requests an instance),
 * each round going through the four in a rotated order. A figure is the
 * median of its rounds and a ratio the median of the rounds' ratios: on a
 * small shared machine a slow moment then falls on both sides of a ratio
 * rather than on one only.
 *
 * The HEAD goes to the built-in registry in-process (app.inject), with the
 * Bearer JWT that /token gave. Both requests normally find the token and its
 * principal in the access cache, so each also runs with the cache dropped
 * before every request: then every lookup of the hot path (token, vendor,
 * customer, licenses) reaches the database, which is where its size shows.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { hashSecret } from '../src/auth/secret-hash.js';
import { loadConfig } from '../src/config/load.js';
import { encodeTokenId, TOKEN_ID_BYTES } from '../src/core/token-format.js';
import { buildApp } from '../src/http/app.js';
import { openRuntime, type Runtime } from '../src/runtime.js';
import { createCustomer } from '../src/service/customers.js';
import { createLicense } from '../src/service/licenses.js';
import { createToken } from '../src/service/tokens.js';
import type { Database as Schema } from '../src/store/schema.js';
import { BENCH_ENV } from './registry.js';
import { ownerCaller } from '../src/service/context.js';

const TOKENS = positive('BENCH_LARGE_TOKENS', 1_000_000);
const CUSTOMERS = positive('BENCH_LARGE_CUSTOMERS', 100_000);
const ROUNDS = positive('BENCH_LARGE_ROUNDS', 6);
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Sequential requests before each measurement, so that neither side pays for the JIT's first compiles. */
const WARMUP = 300;
/** Rows per transaction while seeding. */
const CHUNK = 20_000;

const REPOSITORY = 'acme/app';
const TOKEN_URL = `/token?service=portcullis&scope=repository:${REPOSITORY}:pull`;
const MANIFEST_URL = `/v2/${REPOSITORY}/manifests/bench`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface MeasuredRow {
  label: string;
  rps: number;
  p50_ms: number;
  p99_ms: number;
}

/** bench/run.ts' measure(): `requests` requests, 32 at a time, each checked for its status. */
export type Measure = (label: string, send: () => Promise<{ statusCode: number }>, expected: number, requests: number) => Promise<MeasuredRow>;

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, got "${raw}"`);
  return n;
}

// ---------------------------------------------------------------- seeding

type Seeded = 'customers' | 'licenses' | 'tokens';
type Value = string | number | null;

/** Column order of the seeded rows; typed against the schema, so a renamed column fails the typecheck. */
const COLUMNS = {
  customers: ['id', 'vendor_id', 'name', 'contact', 'created_at', 'updated_at', 'deleted_at'],
  licenses: ['id', 'vendor_id', 'customer_id', 'name', 'plan_id', 'repositories', 'tags', 'valid_from', 'valid_until', 'status', 'created_at', 'updated_at', 'held_since'],
  tokens: ['id', 'type', 'vendor_id', 'customer_id', 'name', 'secret_hash', 'scopes', 'status', 'expires_at', 'rate_limit', 'last_used_at', 'last_used_ip', 'created_by', 'created_at', 'updated_at', 'held_since'],
} as const satisfies { [T in Seeded]: readonly (keyof Schema[T])[] };

/** Writes rows through a connection of its own, as a bulk import beside a running instance would. */
interface Seeder {
  /** One transaction. */
  insert(table: Seeded, rows: Value[][]): Promise<void>;
  count(table: Seeded): Promise<number>;
  /** What an operator runs after a bulk load, so the planner knows the new sizes. */
  analyze(): Promise<void>;
  close(): Promise<void>;
}

/** Multi-row INSERTs of a few hundred rows (16 columns: well under SQLite's 32766 variables). */
function sqliteSeeder(file: string): Seeder {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const perStatement = 500;
  const statements = new Map<string, Database.Statement>();
  const statement = (table: Seeded, n: number) => {
    const key = `${table}:${n}`;
    let s = statements.get(key);
    if (!s) {
      const cols = COLUMNS[table];
      const row = `(${cols.map(() => '?').join(', ')})`;
      s = db.prepare(`insert into ${table} (${cols.join(', ')}) values ${Array.from({ length: n }, () => row).join(', ')}`);
      statements.set(key, s);
    }
    return s;
  };
  const insertAll = db.transaction((table: Seeded, rows: Value[][]) => {
    for (let i = 0; i < rows.length; i += perStatement) {
      const part = rows.slice(i, i + perStatement);
      statement(table, part.length).run(part.flat());
    }
  });
  return {
    insert: async (table, rows) => void insertAll(table, rows),
    count: async (table) => (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n,
    analyze: async () => {
      // The WAL holds the whole load until a checkpoint; the instance would otherwise read through it.
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.exec('analyze');
      db.pragma('optimize');
    },
    close: async () => void db.close(),
  };
}

/**
 * One INSERT … SELECT FROM unnest() per chunk: a parameter per column, not per
 * value, so chunks of any size stay far below PostgreSQL's 65535 bind parameters.
 */
function postgresSeeder(url: string): Seeder {
  const client = new pg.Client({ connectionString: url });
  const connected = client.connect();
  const sqlType = (column: string) => (column === 'rate_limit' ? 'integer' : 'text');
  return {
    async insert(table, rows) {
      await connected;
      const cols = COLUMNS[table];
      const arrays = cols.map((_, c) => rows.map((r) => r[c]));
      const text = `insert into ${table} (${cols.join(', ')}) select * from unnest(${cols.map((col, c) => `$${c + 1}::${sqlType(col)}[]`).join(', ')})`;
      await client.query('begin');
      try {
        await client.query(text, arrays);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback');
        throw err;
      }
    },
    async count(table) {
      await connected;
      const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${table}`);
      return Number(rows[0]!.n);
    },
    async analyze() {
      await connected;
      // Named tables only: a bare ANALYZE would walk every schema of the database.
      await client.query('analyze customers, licenses, tokens');
    },
    close: () => client.end(),
  };
}

/** n random 16-character ids with a prefix, as newId and newUsername make them, from one buffer of random bytes. */
function ids(prefix: string, n: number): string[] {
  const bytes = randomBytes(n * TOKEN_ID_BYTES);
  return Array.from({ length: n }, (_, i) => prefix + encodeTokenId(bytes.subarray(i * TOKEN_ID_BYTES, (i + 1) * TOKEN_ID_BYTES)));
}

/**
 * Customers, one active license each, and tokens spread evenly over them, up
 * to the target sizes (the bench's own rows count). Rows as the services
 * write them; every seeded token carries one hash, of a secret under a pepper
 * that is thrown away: present, never usable.
 */
async function seed(seeder: Seeder, vendorId: string): Promise<{ seconds: number; customerIds: string[] }> {
  const started = performance.now();
  const customers = CUSTOMERS - (await seeder.count('customers'));
  const tokens = TOKENS - (await seeder.count('tokens'));
  const customerIds = ids('cus_', Math.max(customers, 0));
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const validUntil = iso(now + 365 * 86_400_000);
  // Created over the past year, oldest first, as a real store grows.
  const createdAt = (i: number, n: number) => iso(now - 365 * 86_400_000 + Math.floor((i / n) * 364 * 86_400_000));
  const width = String(CUSTOMERS).length;

  for (let from = 0; from < customerIds.length; from += CHUNK) {
    const part = customerIds.slice(from, from + CHUNK);
    const at = part.map((_, j) => createdAt(from + j, customerIds.length));
    await seeder.insert('customers', part.map((id, j) => [id, vendorId, `seed-${String(from + j).padStart(width, '0')}`, null, at[j]!, at[j]!, null]));
    const licenseIds = ids('lic_', part.length);
    await seeder.insert(
      'licenses',
      part.map((id, j) => [licenseIds[j]!, vendorId, id, null, null, JSON.stringify([REPOSITORY]), '[]', at[j]!, validUntil, 'active', at[j]!, at[j]!, null]),
    );
  }

  const secretHash = hashSecret(randomBytes(32), 'seeded token: never issued');
  const scopes = JSON.stringify(['pull']);
  const owners = customerIds.length;
  for (let from = 0; from < tokens; from += CHUNK) {
    const n = Math.min(CHUNK, tokens - from);
    const tokenIds = ids('ctok_', n);
    await seeder.insert(
      'tokens',
      tokenIds.map((id, j) => {
        const i = from + j;
        const at = createdAt(i, tokens);
        const customer = owners > 0 ? customerIds[i % owners]! : null;
        return [id, customer ? 'customer' : 'vendor', vendorId, customer, `seed-${i}`, secretHash, customer ? scopes : JSON.stringify(['pull', 'push']), 'active', null, null, null, null, 'bench:seed', at, at, null];
      }),
    );
  }
  return { seconds: (performance.now() - started) / 1000, customerIds };
}

// ---------------------------------------------------------------- instances

interface Backend {
  name: 'SQLite' | 'PostgreSQL';
  /** PORTCULLIS_* settings of one instance, and what undoes them. */
  store(dataDir: string): Promise<{ env: Record<string, string>; seeder: () => Seeder; drop(): Promise<void> }>;
}

const sqlite: Backend = {
  name: 'SQLite',
  store: async (dataDir) => ({ env: {}, seeder: () => sqliteSeeder(join(dataDir, 'portcullis.db')), drop: async () => {} }),
};

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const postgres: Backend = {
  name: 'PostgreSQL',
  async store() {
    const schema = `bench_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create schema ${schema}`);
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return {
      env: { PORTCULLIS_STORE_URL: url.toString() },
      seeder: () => postgresSeeder(url.toString()),
      drop: () => adminQuery(`drop schema if exists ${schema} cascade`),
    };
  },
};

interface Instance {
  runtime: Runtime;
  app: FastifyInstance;
  /** Basic credentials of the bench's licensed customer token. */
  customerAuth: string;
  /** A connection of its own to the instance's database, for seeding. */
  seeder: () => Seeder;
  close(): Promise<void>;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function startInstance(backend: Backend): Promise<Instance> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-large-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  let store;
  let opened;
  try {
    store = await backend.store(dataDir);
    const config = loadConfig({ env: { ...BENCH_ENV, ...store.env }, cwd: dataDir, flags: { data_dir: dataDir } });
    opened = await openRuntime(config, { initialize: true });
  } catch (err) {
    await store?.drop();
    removeDataDir();
    throw err;
  }
  const { runtime, created } = opened;
  const { drop, seeder } = store;
  const app = await buildApp(runtime);
  const instance: Instance = {
    runtime,
    app,
    customerAuth: '',
    seeder,
    async close() {
      await app.close();
      await runtime.close();
      await drop();
      removeDataDir();
    },
  };
  try {
    // The same set-up as the auth suite: a customer with a license for the repository, and its token.
    const caller = ownerCaller(runtime.operator, { name: 'bench', source: 'bench' });
    const customer = await createCustomer(runtime, caller, { name: 'globex' });
    await createLicense(runtime, caller, { customer: customer.id, repositories: REPOSITORY });
    const tok = await createToken(runtime, caller, { type: 'customer', name: 'bench', customer: customer.id });
    instance.customerAuth = `Basic ${Buffer.from(`${tok.token.id}:${tok.secret}`).toString('base64')}`;
    await pushImage(app, `Basic ${Buffer.from(`${created!.token.id}:${created!.secret}`).toString('base64')}`);
    return instance;
  } catch (err) {
    await instance.close();
    throw err;
  }
}

/** A one-layer image under the tag `bench`, pushed by the bootstrap vendor token. */
async function pushImage(app: FastifyInstance, authorization: string): Promise<void> {
  const layer = Buffer.from('large-store bench layer');
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  for (const bytes of [layer, config]) {
    const res = await app.inject({
      method: 'POST',
      url: `/v2/${REPOSITORY}/blobs/uploads/?digest=${sha256(bytes)}`,
      headers: { authorization, 'content-type': 'application/octet-stream' },
      payload: bytes,
    });
    if (res.statusCode !== 201) throw new Error(`blob upload: ${res.statusCode} ${res.body}`);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
  });
  const res = await app.inject({ method: 'PUT', url: MANIFEST_URL, headers: { authorization, 'content-type': OCI_MANIFEST }, payload: manifest });
  if (res.statusCode !== 201) throw new Error(`manifest push: ${res.statusCode} ${res.body}`);
}

// ---------------------------------------------------------------- cases

type Send = () => Promise<{ statusCode: number }>;

interface Case {
  label: string;
  /** Called before each measurement: a HEAD needs a JWT younger than its 5-minute lifetime. */
  prepare(instance: Instance): Promise<Send>;
}

const tokenRequest = (i: Instance): Send => () => i.app.inject({ url: TOKEN_URL, headers: { authorization: i.customerAuth } });

async function headRequest(i: Instance): Promise<Send> {
  const res = await i.app.inject({ url: TOKEN_URL, headers: { authorization: i.customerAuth } });
  if (res.statusCode !== 200) throw new Error(`/token: ${res.statusCode} ${res.body}`);
  const { token } = res.json<{ token: string }>();
  const headers = { authorization: `Bearer ${token}`, accept: OCI_MANIFEST };
  return () => i.app.inject({ method: 'HEAD', url: MANIFEST_URL, headers });
}

/** Every request finds the access cache empty: token, vendor, customer and licenses come from the database. */
const uncached = (i: Instance, send: Send): Send => () => {
  i.runtime.access.clear();
  return send();
};

const CASES: Case[] = [
  { label: 'GET /token, customer with a license', prepare: async (i) => tokenRequest(i) },
  { label: 'HEAD manifest by tag, built-in registry, Bearer JWT', prepare: headRequest },
  { label: 'GET /token, access cache dropped before each request', prepare: async (i) => uncached(i, tokenRequest(i)) },
  { label: 'HEAD manifest, access cache dropped before each request', prepare: async (i) => uncached(i, await headRequest(i)) },
];

async function warmUp(send: Send): Promise<void> {
  for (let n = 0; n < WARMUP; n++) {
    const res = await send();
    if (res.statusCode !== 200) throw new Error(`warm-up: status ${res.statusCode}`);
  }
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Side {
  backend: Backend['name'];
  size: 'small' | 'large';
  instance: Instance;
}

interface Seeding {
  backend: Backend['name'];
  seed_seconds: number;
  analyze_seconds: number;
  counts: Record<Seeded, number>;
}

/** Fills the instance's store to the target sizes and checks that it holds them and sees them. */
async function seedInstance(backend: Backend['name'], instance: Instance): Promise<Seeding> {
  const seeder = instance.seeder();
  try {
    const { seconds, customerIds } = await seed(seeder, instance.runtime.operator.id);
    const analyzing = performance.now();
    await seeder.analyze();
    const analyzeSeconds = (performance.now() - analyzing) / 1000;
    const counts = { customers: await seeder.count('customers'), licenses: await seeder.count('licenses'), tokens: await seeder.count('tokens') };
    console.log(`${backend}: seeded in ${seconds.toFixed(1)} s, analyzed in ${analyzeSeconds.toFixed(1)} s; the store holds ${counts.tokens} tokens, ${counts.customers} customers, ${counts.licenses} licenses`);
    if (counts.tokens < TOKENS || counts.customers < CUSTOMERS || counts.licenses < CUSTOMERS) throw new Error(`${backend}: the seeded store is short of the target sizes`);
    // The instance reads what the seeding connection wrote (same file, same schema).
    const probe = customerIds[customerIds.length - 1];
    if (probe && !(await instance.runtime.store.getCustomer(instance.runtime.operator.id, probe))) throw new Error(`${backend}: the instance does not see the seeded customers`);
    return { backend, seed_seconds: seconds, analyze_seconds: analyzeSeconds, counts };
  } finally {
    await seeder.close();
  }
}

/** Each case, ROUNDS times through every side in a rotated order; the rows of each side, round by round. */
async function measureRounds(sides: Side[], measure: Measure, slice: number): Promise<MeasuredRow[][][]> {
  const out: MeasuredRow[][][] = [];
  for (const spec of CASES) {
    const rows = sides.map((): MeasuredRow[] => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < sides.length; k++) {
        const at = (round + k) % sides.length;
        const { backend, size, instance } = sides[at]!;
        const send = await spec.prepare(instance);
        await warmUp(send);
        rows[at]!.push(await measure(`${backend}, ${size} store: ${spec.label}`, send, 200, slice));
      }
    }
    out.push(rows);
    console.log(`${spec.label}: done`);
  }
  return out;
}

/** Median of the rounds' ratios a / b, with their range: a and b were measured in the same round. */
function pairedRatio(a: MeasuredRow[], b: MeasuredRow[]): { ratio: number; low: number; high: number } {
  const ratios = a.map((x, k) => x.rps / b[k]!.rps);
  return { ratio: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios) };
}

const fixed = (n: number, digits: number) => Number(n.toFixed(digits));

/** SQLite, and PostgreSQL unless it does not answer (then left out, with a note). */
export async function benchLargeStore(measure: Measure, settings: { requests: number; concurrency: number }): Promise<void> {
  const started = performance.now();
  const slice = Math.max(1000, Math.round(settings.requests / 2));
  const backends: Backend[] = [sqlite];
  try {
    await adminQuery('select 1');
    backends.push(postgres);
  } catch (err) {
    console.log(`PostgreSQL left out: ${(err as Error).message} (set BENCH_POSTGRES_URL)`);
  }

  const sides: Side[] = [];
  try {
    for (const backend of backends) {
      for (const size of ['small', 'large'] as const) sides.push({ backend: backend.name, size, instance: await startInstance(backend) });
    }
    const seeding: Seeding[] = [];
    for (const side of sides) if (side.size === 'large') seeding.push(await seedInstance(side.backend, side.instance));
    const measured = await measureRounds(sides, measure, slice);

    const rowsOf = (c: number, backend: Backend['name'], size: Side['size']) => measured[c]![sides.findIndex((s) => s.backend === backend && s.size === size)]!;
    const sizeLabel = `${TOKENS} tokens, ${CUSTOMERS} customers`;
    const rows = backends.flatMap((backend) =>
      CASES.map((spec, c) => {
        const small = rowsOf(c, backend.name, 'small');
        const large = rowsOf(c, backend.name, 'large');
        const r = pairedRatio(large, small);
        const med = (xs: MeasuredRow[], key: 'rps' | 'p50_ms' | 'p99_ms') => median(xs.map((x) => x[key]));
        return {
          backend: backend.name,
          case: spec.label,
          'small store req/s (baseline)': Math.round(med(small, 'rps')),
          [`${sizeLabel}: req/s`]: Math.round(med(large, 'rps')),
          'large / small': fixed(r.ratio, 2),
          'range of rounds': `${r.low.toFixed(2)}-${r.high.toFixed(2)}`,
          'p50 ms small / large': `${med(small, 'p50_ms').toFixed(3)} / ${med(large, 'p50_ms').toFixed(3)}`,
          'p99 ms small / large': `${med(small, 'p99_ms').toFixed(3)} / ${med(large, 'p99_ms').toFixed(3)}`,
        };
      }),
    );
    console.table(rows);
    const versus =
      backends.length === 2
        ? CASES.map((spec, c) => {
            const small = pairedRatio(rowsOf(c, 'PostgreSQL', 'small'), rowsOf(c, 'SQLite', 'small'));
            const large = pairedRatio(rowsOf(c, 'PostgreSQL', 'large'), rowsOf(c, 'SQLite', 'large'));
            return {
              case: spec.label,
              'small store: PostgreSQL / SQLite': fixed(small.ratio, 2),
              'range of rounds (small)': `${small.low.toFixed(2)}-${small.high.toFixed(2)}`,
              'large store: PostgreSQL / SQLite': fixed(large.ratio, 2),
              'range of rounds (large)': `${large.low.toFixed(2)}-${large.high.toFixed(2)}`,
            };
          })
        : [];
    if (versus.length > 0) console.table(versus);
    const minutes = (performance.now() - started) / 60_000;
    console.log(`large-store suite: ${minutes.toFixed(1)} min`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(
      'bench/results/large-store.json',
      JSON.stringify(
        { at: new Date().toISOString(), requests_per_round: slice, concurrency: settings.concurrency, rounds: ROUNDS, target: { tokens: TOKENS, customers: CUSTOMERS }, minutes, seeding, rows, postgres_vs_sqlite: versus },
        null,
        2,
      ),
    );
  } finally {
    for (const side of sides) await side.instance.close();
  }
}
