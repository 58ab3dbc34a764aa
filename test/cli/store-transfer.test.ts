/**
 * `portcullis export` and `portcullis import`, the real CLI, between SQLite
 * and PostgreSQL: an instance full of data made through the services and
 * the registry API moves to PostgreSQL with equal counts and checksums, a
 * token made on SQLite authenticates there, and the way back gives the same
 * rows byte for byte. Bad input, a store that is not empty or not migrated,
 * and a file that does not match its trailer leave the target untouched.
 */
import { chmodSync, cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { EXPORT_TABLES, orderViolations, unknownTables, type Trailer } from '../../src/core/store-export-format.js';
import { buildApp } from '../../src/http/app.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { suspendCustomer } from '../../src/service/customer-actions.js';
import { createCustomer, deleteCustomer } from '../../src/service/customers.js';
import { changeLicenseStatus, createLicense } from '../../src/service/licenses.js';
import { createPlan } from '../../src/service/plans.js';
import { login, sessionFromSecret, type NewSession } from '../../src/service/sessions.js';
import { changeTokenStatus, createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createUser, inviteUser } from '../../src/service/users.js';
import { createVendor } from '../../src/service/vendors.js';
import { foreignKeys, listTables, migrateToLatest, MIGRATION_NAMES, openMaintenanceDb, type MaintenanceDb, type StoreLocation } from '../../src/store/maintenance.js';
import { tableSummaries } from '../../src/store/transfer.js';
import { expectCliError, makeDataDir, removeDataDir, runCliWithAsync, type CliResult } from '../helpers/cli.js';
import { auth, basic, blob, imageConfig, imageManifest, MT, V2Client } from '../helpers/oci-http.js';
import { describePostgres, freshSchema } from '../helpers/postgres.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const PASSWORD = 'correct horse battery staple';
/** More usage events than one page of the export's reads (5000). */
const BULK_USAGE = 12_000;
const cfg = imageConfig('app 1.0');
const layer = blob('layer of app 1.0');
const m1 = imageManifest({ config: cfg, layers: [layer] });

const dirs: string[] = [];
const schemas: Array<{ drop(): Promise<void> }> = [];
afterAll(async () => {
  for (const s of schemas.splice(0)) await s.drop();
  for (const d of dirs.splice(0)) removeDataDir(d);
});

function tempDir(): string {
  const d = makeDataDir();
  dirs.push(d);
  return d;
}

async function pgSchema(): Promise<{ schema: string; url: string }> {
  const s = await freshSchema();
  schemas.push(s);
  return s;
}

const sqliteAt = (dir: string): StoreLocation => ({ kind: 'sqlite', file: join(dir, 'portcullis.db') });
const pgAt = (url: string): StoreLocation => ({ kind: 'postgres', url });

async function withDb<T>(location: StoreLocation, fn: (m: Awaited<ReturnType<typeof openMaintenanceDb>>) => Promise<T>): Promise<T> {
  const m = await openMaintenanceDb(location, { create: false });
  try {
    return await fn(m);
  } finally {
    await m.close();
  }
}

const summaries = (location: StoreLocation) => withDb(location, (m) => tableSummaries(m));

/** A migrated, empty PostgreSQL schema (migrated in-process: the CLI's migrate has tests of its own). */
async function emptyPgTarget(): Promise<{ schema: string; url: string }> {
  const s = await pgSchema();
  const m = await openMaintenanceDb(pgAt(s.url), { create: false });
  try {
    await migrateToLatest(m);
  } finally {
    await m.close();
  }
  return s;
}

async function expectEmpty(location: StoreLocation): Promise<void> {
  const rows = Object.entries(await summaries(location)).filter(([, s]) => s.rows > 0);
  expect(rows, 'the target should have stayed empty').toEqual([]);
}

function trailerOf(text: string): Trailer {
  const lines = text.trimEnd().split('\n');
  return (JSON.parse(lines[lines.length - 1]!) as { trailer: Trailer }).trailer;
}

/** Everything after the header (which holds the export's time). */
const body = (text: string) => text.slice(text.indexOf('\n') + 1);

const pgEnv = (url: string) => ({ PORTCULLIS_STORE_URL: url });

function ok(r: CliResult): CliResult {
  expect(r.status, r.stderr).toBe(0);
  return r;
}

/** The instance whose data moves: every table gets rows, through the services and the registry API. */
interface Source {
  inst: TestInstance;
  tokens: Record<'ci' | 'prod' | 'revoked' | 'held', CreatedToken>;
  session: NewSession;
}

async function fillSource(): Promise<Source> {
  const inst = await startInstance();
  const rt = inst.runtime;
  const acmeVendor = await createVendor(rt, inst.caller, { name: 'acme' });
  const acme: Caller = ownerCaller(acmeVendor, { name: 'test', source: 'test' });
  await createVendor(rt, inst.caller, { name: 'beta' });
  const plan = await createPlan(rt, acme, { name: 'gold', repositories: 'acme/**', actions: 'pull' });
  // Text beyond ASCII, U+E000 and a character beyond U+FFFF: the checksums must agree on them.
  const globex = await createCustomer(rt, acme, { name: 'globex', contact: 'Zoë "Ops" Ünïcødé \ue000 🚀' });
  const initech = await createCustomer(rt, acme, { name: 'initech' });
  await createCustomer(rt, acme, { name: 'oldco' });
  await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app', tags: '1.*', validUntil: '30d' });
  await createLicense(rt, acme, { customer: globex.id, plan: plan.id, name: 'gold for globex' });
  const suspended = await createLicense(rt, acme, { customer: initech.id, repositories: 'acme/app' });
  await changeLicenseStatus(rt, acme, suspended.id, 'suspend');
  const tokens = {
    ci: await createToken(rt, acme, { type: 'vendor', name: 'ci' }),
    prod: await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id, expires: '1y', rateLimit: 50 }),
    revoked: await createToken(rt, acme, { type: 'customer', name: 'old', customer: globex.id }),
    held: await createToken(rt, acme, { type: 'customer', name: 'initech-prod', customer: initech.id }),
  };
  await changeTokenStatus(rt, acme, tokens.revoked.token.id, 'revoke');
  await suspendCustomer(rt, acme, 'initech');
  await deleteCustomer(rt, acme, 'oldco', true);

  await createUser(rt, inst.caller, { email: 'owner@op.test', role: 'owner', password: PASSWORD });
  await inviteUser(rt, inst.caller, { email: 'invited@op.test', role: 'viewer' }, { baseUrl: 'http://127.0.0.1:5000' });
  const session = await login(rt, { email: 'owner@op.test', password: PASSWORD, source: 'test' });

  const now = inst.clock.now;
  const ends = tokens.prod.token.expiresAt!;
  await rt.store.claimExpiryWarning({ objectType: 'token', objectId: tokens.prod.token.id, vendorId: acme.vendorId, endsAt: ends }, now, now);
  await rt.store.markExpiryWarningSent(tokens.prod.token.id, ends, now);

  // The registry: a push (manifests, tags, blobs), a pull (a usage event and last-used), then many more usage events.
  const app = await buildApp(rt);
  const anonymous = new V2Client(app);
  await anonymous.as(auth(tokens.ci)).pushImage('acme/app', '1.0', m1, [cfg, layer]);
  const pulled = await anonymous.as(auth(tokens.prod)).get('/v2/acme/app/manifests/1.0', { headers: { accept: MT.manifest } });
  expect(pulled.statusCode, pulled.body).toBe(200);
  await app.close();
  await rt.store.insertUsage(
    Array.from({ length: BULK_USAGE }, (_, i) => ({
      id: `use_bulk${String(i).padStart(6, '0')}`,
      at: new Date(now.getTime() - i * 60_000),
      vendorId: acme.vendorId,
      tokenId: tokens.prod.token.id,
      customerId: globex.id,
      action: 'pull' as const,
      repository: 'acme/app',
      tag: i % 3 === 0 ? null : '1.0',
      digest: m1.digest,
      ip: `10.0.${i % 250}.${i % 7}`,
      userAgent: 'docker/27.0',
    })),
  );
  // Closing writes the usage and last-used times still buffered.
  await rt.close();
  dirs.push(inst.dataDir);
  return { inst, tokens, session };
}

/** A runtime on `config` (the data dir's pepper and keys), as `portcullis serve` would open it. */
async function runtimeOn(dataDir: string, env: Record<string, string>, now: Date): Promise<{ runtime: Runtime; app: FastifyInstance; close(): Promise<void> }> {
  const config = loadConfig({ env, cwd: dataDir, flags: { data_dir: dataDir } });
  const { runtime } = await openRuntime(config, { initialize: false, now: () => now });
  const app = await buildApp(runtime);
  return {
    runtime,
    app,
    async close() {
      await app.close();
      await runtime.close();
    },
  };
}

/** Every table of the migrated schema is exported or explicitly excluded, and the table order respects every foreign key. */
async function expectWholeSchemaCovered(m: MaintenanceDb): Promise<void> {
  const tables = await listTables(m.db, m.kind);
  expect(unknownTables(tables)).toEqual([]);
  expect(EXPORT_TABLES.map((t) => t.name).filter((t) => !tables.includes(t))).toEqual([]);
  const fks = await foreignKeys(m.db, m.kind);
  expect(fks.length).toBeGreaterThanOrEqual(10);
  expect(orderViolations(fks)).toEqual([]);
}

describe('the export format covers the whole schema', () => {
  it('SQLite: every table is exported or explicitly excluded, and the table order respects every foreign key', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pepper'), `${Buffer.alloc(32, 1).toString('base64url')}\n`, { mode: 0o600 });
    ok(await runCliWithAsync(dir, {}, 'migrate'));
    await withDb(sqliteAt(dir), expectWholeSchemaCovered);
  });

  it('SQLite: export refuses a database with a table it does not know, rather than leave its rows behind', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pepper'), `${Buffer.alloc(32, 1).toString('base64url')}\n`, { mode: 0o600 });
    ok(await runCliWithAsync(dir, {}, 'migrate'));
    await withDb(sqliteAt(dir), async (m) => {
      await m.db.schema.createTable('future_things').addColumn('id', 'text', (c) => c.primaryKey()).execute();
    });
    const out = join(dir, 'out.jsonl');
    expectCliError(await runCliWithAsync(dir, {}, 'export', '--out', out), 1, /the database has table\(s\) future_things that this Portcullis does not know how to move/);
    expect(() => statSync(out)).toThrow();
  });
});

describePostgres('portcullis export and import between SQLite and PostgreSQL', () => {
  let source: Source;
  let work: string;
  /** The SQLite instance's export, made with the CLI into a file that existed before with mode 0644. */
  let exported: { result: CliResult; file: string; text: string };
  /** A fresh schema that `portcullis migrate` prepared and `portcullis import` filled from that export. */
  let pg: { schema: string; url: string; imported: CliResult };
  /** What `portcullis export --out -` printed for that schema right after the import. */
  let pgExport: string;

  beforeAll(async () => {
    source = await fillSource();
    work = mkdtempSync(join(tmpdir(), 'portcullis-transfer-'));
    dirs.push(work);
    const file = join(work, 'sqlite.jsonl');
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o644);
    const result = await runCliWithAsync(source.inst.dataDir, {}, 'export', '--out', file, '--json');
    exported = { result: ok(result), file, text: readFileSync(file, 'utf8') };
    const s = await pgSchema();
    ok(await runCliWithAsync(source.inst.dataDir, { env: pgEnv(s.url), timeoutMs: 60_000 }, 'migrate'));
    const imported = await runCliWithAsync(source.inst.dataDir, { env: pgEnv(s.url), timeoutMs: 120_000 }, 'import', '--in', file);
    pg = { ...s, imported: ok(imported) };
    // Before anything else touches it (the runtime below records last-used times and pulls).
    pgExport = ok(await runCliWithAsync(source.inst.dataDir, { env: pgEnv(s.url), timeoutMs: 60_000 }, 'export', '--out', '-')).stdout;
  }, 180_000);

  it('PostgreSQL: every table is exported or explicitly excluded, and the table order respects every foreign key', async () => {
    const s = await emptyPgTarget();
    await withDb(pgAt(s.url), expectWholeSchemaCovered);
  });

  it('exports the SQLite instance to a 0600 file whose trailer is what the database holds, every table with rows', async () => {
    const { text, file, result } = exported;
    // The older, looser file was replaced, not reused.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const header = JSON.parse(text.slice(0, text.indexOf('\n')));
    expect(header).toMatchObject({ format: 'portcullis-export', version: 1, schemaVersion: MIGRATION_NAMES[MIGRATION_NAMES.length - 1] });
    const trailer = trailerOf(text);
    expect(await summaries(sqliteAt(source.inst.dataDir))).toEqual(trailer);
    expect((JSON.parse(result.stdout) as { tables: { table: string; rows: number; sha256: string }[] }).tables).toEqual(
      EXPORT_TABLES.map((t) => ({ table: t.name, rows: trailer[t.name]!.rows, sha256: trailer[t.name]!.sha256 })),
    );
    // The test data reaches every table, so a table the transfer dropped would show.
    expect(EXPORT_TABLES.filter((t) => trailer[t.name]!.rows === 0).map((t) => t.name)).toEqual([]);
    // The bulk events, and those of the push and the pull: more than one page of reads.
    expect(trailer.usage_events!.rows).toBe(BULK_USAGE + 2);
    // Rows in every state: a revoked token, one a customer-wide suspend holds, one with its last use, a deleted customer.
    const rows = (table: string) => text.split('\n').filter((l) => l.startsWith(`{"table":"${table}"`)).map((l) => (JSON.parse(l) as { row: Record<string, unknown> }).row);
    expect(rows('tokens').find((t) => t.id === source.tokens.revoked.token.id)).toMatchObject({ status: 'revoked' });
    expect(rows('tokens').find((t) => t.id === source.tokens.held.token.id)).toMatchObject({ status: 'disabled', held_since: expect.any(String) });
    expect(rows('tokens').find((t) => t.id === source.tokens.prod.token.id)).toMatchObject({ last_used_at: expect.any(String), rate_limit: 50 });
    expect(rows('customers').filter((c) => c.deleted_at !== null)).toHaveLength(1);
    // Token secrets never leave as such: only their hashes.
    for (const t of Object.values(source.tokens)) expect(text).not.toContain(t.secret);
    expect(text).not.toContain(source.session.secret);
  });

  it('imports it into a fresh PostgreSQL schema prepared by `portcullis migrate`: the same counts and checksums', async () => {
    const trailer = trailerOf(exported.text);
    const out = pg.imported.stdout;
    expect(out).toMatch(/^TABLE\s+ROWS\s+SHA256\s+CHECK\n/);
    for (const t of EXPORT_TABLES) expect(out).toMatch(new RegExp(`^${t.name} +${trailer[t.name]!.rows} +${trailer[t.name]!.sha256} +ok$`, 'm'));
    expect(out).toContain(`imported ${Object.values(trailer).reduce((n, s) => n + s.rows, 0)} rows into PostgreSQL schema ${pg.schema}`);
    expect(out).toMatch(/copy data_dir\/pepper and data_dir\/keys/);
    // Recomputed here, from the database itself.
    expect(await summaries(pgAt(pg.url))).toEqual(trailer);
  });

  it('exports PostgreSQL to stdout with the same rows, byte for byte, as SQLite gave', () => {
    expect(body(pgExport)).toBe(body(exported.text));
  });

  it('serves the moved data from PostgreSQL with the same data dir: tokens, revocation, pulls and dashboard sessions hold', async () => {
    const on = await runtimeOn(source.inst.dataDir, pgEnv(pg.url), source.inst.clock.now);
    try {
      const v2 = new V2Client(on.app);
      expect((await v2.as(auth(source.tokens.prod)).get('/v2/')).statusCode).toBe(200);
      expect((await v2.as(auth(source.tokens.ci)).get('/v2/')).statusCode).toBe(200);
      expect((await v2.as(auth(source.tokens.revoked)).get('/v2/')).statusCode).toBe(401);
      expect((await v2.as(basic(source.tokens.prod.token.id, 'W'.repeat(32))).get('/v2/')).statusCode).toBe(401);
      // The suspended customer's token stays disabled.
      expect((await v2.as(auth(source.tokens.held)).get('/v2/')).statusCode).toBe(401);
      const pulled = await v2.as(auth(source.tokens.prod)).get('/v2/acme/app/manifests/1.0', { headers: { accept: MT.manifest } });
      expect(pulled.statusCode, pulled.body).toBe(200);
      expect(pulled.rawPayload.equals(m1.bytes)).toBe(true);
      const layerRes = await v2.as(auth(source.tokens.prod)).get(`/v2/acme/app/blobs/${layer.digest}`);
      expect(layerRes.rawPayload.equals(layer.bytes)).toBe(true);
      expect((await sessionFromSecret(on.runtime, source.session.secret))?.user.email).toBe('owner@op.test');
      expect((await login(on.runtime, { email: 'owner@op.test', password: PASSWORD, source: 'test' })).user.email).toBe('owner@op.test');
    } finally {
      await on.close();
    }
  });

  it('refuses to import into a store that is not empty, and leaves it as it was', async () => {
    const before = await summaries(pgAt(pg.url));
    const r = await runCliWithAsync(source.inst.dataDir, { env: pgEnv(pg.url) }, 'import', '--in', exported.file);
    expectCliError(r, 1, /the target store is not empty \(rows in vendors, customers, .*\): import only into a new database or schema that `portcullis migrate` prepared/);
    expect(await summaries(pgAt(pg.url))).toEqual(before);
  });

  it('moves back from PostgreSQL to SQLite, read from stdin, into a data dir given the pepper and keys', async () => {
    const dir = tempDir();
    cpSync(join(source.inst.dataDir, 'pepper'), join(dir, 'pepper'));
    cpSync(join(source.inst.dataDir, 'keys'), join(dir, 'keys'), { recursive: true });
    ok(await runCliWithAsync(dir, {}, 'migrate'));
    const r = ok(await runCliWithAsync(dir, { input: pgExport, timeoutMs: 120_000 }, 'import', '--in', '-', '--json'));
    const result = JSON.parse(r.stdout) as { rows: number; tables: { table: string; rows: number; sha256: string }[] };
    const trailer = trailerOf(exported.text);
    expect(result.tables).toEqual(EXPORT_TABLES.map((t) => ({ table: t.name, ...trailer[t.name]! })));
    expect(await summaries(sqliteAt(dir))).toEqual(trailer);
    const again = ok(await runCliWithAsync(dir, {}, 'export', '--out', '-'));
    expect(body(again.stdout)).toBe(body(exported.text));
    const on = await runtimeOn(dir, {}, source.inst.clock.now);
    try {
      expect((await new V2Client(on.app, auth(source.tokens.prod)).get('/v2/')).statusCode).toBe(200);
    } finally {
      await on.close();
    }
  });

  describe('bad input, exit 2 with the line, the target left empty', () => {
    let target: { schema: string; url: string };
    let lines: string[];
    const lineOf = (table: string) => lines.findIndex((l) => l.startsWith(`{"table":"${table}"`));

    beforeAll(async () => {
      target = await emptyPgTarget();
      lines = exported.text.trimEnd().split('\n');
    });

    async function importText(text: string): Promise<CliResult> {
      const file = join(work, `bad-${Math.random().toString(36).slice(2)}.jsonl`);
      writeFileSync(file, text);
      return runCliWithAsync(source.inst.dataDir, { env: pgEnv(target.url), timeoutMs: 120_000 }, 'import', '--in', file);
    }

    const asFile = (ls: string[]) => `${ls.join('\n')}\n`;
    const replaced = (i: number, line: string) => asFile(lines.map((l, j) => (j === i ? line : l)));
    const edited = (table: string, edit: (line: string) => string) => replaced(lineOf(table), edit(lines[lineOf(table)]!));
    const at = (table: string) => lineOf(table) + 1;

    // Built once the export exists: [name, () => [file content, expected error]].
    const cases: Array<[string, () => [string, RegExp]]> = [
      ['a truncated file (no trailer)', () => [asFile(lines.slice(0, -40)), new RegExp(`^portcullis: the export ends at line ${lines.length - 40} without its trailer line: the file is truncated$`)]],
      ['a line that is not JSON', () => [replaced(4, '{"table":"vendors","row":'), /^portcullis: line 5 is not JSON$/]],
      ['an unknown table', () => [replaced(2, '{"table":"bogus","row":{}}'), /^portcullis: line 3: unknown table "bogus"$/]],
      ['a row with an unknown column', () => [edited('tokens', (l) => l.replace('"row":{', '"row":{"bogus":1,')), new RegExp(`^portcullis: line ${at('tokens')}: table tokens has no column "bogus"$`)]],
      ['a row lacking a column', () => [edited('plans', (l) => l.replace(/"description":(null|"[^"]*"),/, '')), new RegExp(`^portcullis: line ${at('plans')}: the plans row lacks column\\(s\\) description$`)]],
      ['a value of the wrong type', () => [edited('vendors', (l) => l.replace(/"is_operator":\d/, '"is_operator":"yes"')), new RegExp(`^portcullis: line ${at('vendors')}: vendors\\.is_operator is string, not a integer$`)]],
      ['an older schema', () => [replaced(0, lines[0]!.replace(/"schemaVersion":"[^"]+"/, '"schemaVersion":"0004-users-sessions"')), /^portcullis: line 1: the export is of database schema 0004-users-sessions, older than this Portcullis/]],
      ['something else entirely', () => ['{"hello":"world"}\n', /^portcullis: line 1: not a Portcullis export/]],
      ['an empty file', () => ['', /^portcullis: the input is empty: not a Portcullis export$/]],
      ['a blank line', () => [replaced(3, ''), /^portcullis: line 4 is empty/]],
      ['data after the trailer', () => [asFile([...lines, lines[1]!]), new RegExp(`^portcullis: line ${lines.length + 1}: more data after the trailer line$`)]],
      [
        'tables out of order',
        // An audit event (which nothing references) moved to the end, after the registry's tables.
        () => [
          asFile([...lines.filter((_, i) => i !== lineOf('audit_events')).slice(0, -1), lines[lineOf('audit_events')]!, lines[lines.length - 1]!]),
          new RegExp(`^portcullis: line ${lines.length - 1}: table audit_events comes after registry_blobs: an export lists its tables in the order vendors, customers, `),
        ],
      ],
      [
        'rows whose parents are missing (the vendors)',
        () => [asFile(lines.filter((l) => !l.startsWith('{"table":"vendors"'))), /^portcullis: lines? \d+(-\d+)?: the target refused the customers row\(s\): .*foreign key/i],
      ],
    ];

    it.each(cases)('%s', async (_name, make) => {
      const [text, message] = make();
      expectCliError(await importText(text), 2, message);
      await expectEmpty(pgAt(target.url));
    });

    it('a file that cannot be read', async () => {
      const r = await runCliWithAsync(source.inst.dataDir, { env: pgEnv(target.url) }, 'import', '--in', join(work, 'missing.jsonl'));
      expectCliError(r, 2, /^portcullis: cannot read .*missing\.jsonl: ENOENT$/);
    });

    it('rows changed after export: the checksum check fails after every row was written, and rolls it all back', async () => {
      const globex = lines.findIndex((l) => l.startsWith('{"table":"customers"') && l.includes('"name":"globex"'));
      const text = replaced(globex, lines[globex]!.replace('"name":"globex"', '"name":"globax"'));
      expectCliError(await importText(text), 1, /^portcullis: the imported data does not match the export's trailer \(customers's checksum differs\); nothing was imported$/);
      await expectEmpty(pgAt(target.url));
    });

    it('a row left out: the count check fails and nothing stays', async () => {
      const text = asFile(lines.filter((_, i) => i !== lineOf('usage_events') + 17));
      expectCliError(await importText(text), 1, new RegExp(`usage_events has ${BULK_USAGE + 1} rows, the export ${BULK_USAGE + 2}\\); nothing was imported$`));
      await expectEmpty(pgAt(target.url));
    });

    it('a target that was never migrated is refused, and stays so', async () => {
      const bare = await pgSchema();
      const r = await runCliWithAsync(source.inst.dataDir, { env: pgEnv(bare.url) }, 'import', '--in', exported.file);
      expectCliError(r, 1, new RegExp(`^portcullis: the database \\(PostgreSQL schema ${bare.schema}\\) is at no migration, this Portcullis at .*: run \`portcullis migrate\` first$`));
    });

    it('a SQLite target without a database says to migrate first', async () => {
      const dir = tempDir();
      const r = await runCliWithAsync(dir, {}, 'import', '--in', exported.file);
      expectCliError(r, 1, /^portcullis: no database at .*portcullis\.db: run `portcullis migrate` first to create and migrate it$/);
    });
  });
});
