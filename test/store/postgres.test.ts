import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime } from '../../src/runtime.js';
import { createCustomer } from '../../src/service/customers.js';
import { createToken } from '../../src/service/tokens.js';
import { migrations } from '../../src/store/migrations/index.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { admin, describePostgres, freshSchema } from '../helpers/postgres.js';
import { startInstance } from '../helpers/runtime.js';
import { storeContract } from './store-contract.js';

const schemas: Array<{ drop(): Promise<void> }> = [];
afterAll(async () => {
  for (const s of schemas.splice(0)) await s.drop();
});

/** A migrated store in a fresh schema of its own, dropped after the file. */
async function fresh(): Promise<{ store: KyselyStore; schema: string }> {
  const s = await freshSchema();
  schemas.push(s);
  const store = openPostgresStore(s.url);
  await store.migrate();
  return { store, schema: s.schema };
}

const vendor = (id: string, name = id) => ({ id, name, namespaces: [`${name}/**`], isOperator: false, createdAt: new Date('2026-01-01T00:00:00Z') });

describePostgres('postgres store', () => {
  storeContract('postgres', async () => (await fresh()).store);

  it('migrates idempotently, once per schema, with byte-order text and 64-bit sizes', async () => {
    const { store, schema } = await fresh();
    await store.migrate();
    await store.close();
    const versions = await admin(`select name from ${schema}.schema_migrations order by name`);
    expect(versions.rows.map((r: { name: string }) => r.name)).toEqual(Object.keys(migrations));
    const cols = await admin(
      `select table_name, column_name, data_type, collation_name from information_schema.columns where table_schema = $1 and table_name in ('customers', 'registry_blobs')`,
      [schema],
    );
    const col = (t: string, c: string) => cols.rows.find((r: { table_name: string; column_name: string }) => r.table_name === t && r.column_name === c);
    expect(col('customers', 'name')).toMatchObject({ data_type: 'text', collation_name: 'C' });
    expect(col('registry_blobs', 'size')).toMatchObject({ data_type: 'bigint' });
  });

  it('has a write trigger on every table, so every write takes the lock and the change marker sees every write caches depend on (new tables need noteWritesOn)', async () => {
    const { store, schema } = await fresh();
    await store.close();
    const tables = await admin(
      `select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE'
         and table_name not in ('schema_migrations', 'schema_migrations_lock', 'store_changes') order by 1`,
      [schema],
    );
    const triggers = await admin(
      `select distinct c.relname from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
         join pg_proc p on p.oid = t.tgfoid where n.nspname = $1 and p.proname in ('portcullis_note_write', 'portcullis_note_bookkeeping') order by 1`,
      [schema],
    );
    expect(tables.rows.length).toBeGreaterThan(10);
    expect(triggers.rows.map((r: { relname: string }) => r.relname)).toEqual(tables.rows.map((r: { table_name: string }) => r.table_name));
  });

  it('migrates a fresh schema once when two instances start together', async () => {
    const s = await freshSchema();
    schemas.push(s);
    const a = openPostgresStore(s.url);
    const b = openPostgresStore(s.url);
    await Promise.all([a.migrate(), b.migrate()]);
    await Promise.all([a.close(), b.close()]);
    const versions = await admin(`select name from ${s.schema}.schema_migrations order by name`);
    expect(versions.rows.map((r: { name: string }) => r.name)).toEqual(Object.keys(migrations));
    const counter = await admin(`select count(*)::int as n from ${s.schema}.store_changes`);
    expect(counter.rows[0].n).toBe(1);
  });

  it('changes its change marker when another client commits, and not for one that rolls back', async () => {
    const { store, schema } = await fresh();
    const before = await store.changeMarker();
    await admin(`begin; insert into ${schema}.vendors (id, name, namespaces, is_operator, created_at) values ('ven_x', 'x', '[]', 0, 'now'); rollback`);
    expect(await store.changeMarker()).toBe(before);
    await admin(`insert into ${schema}.vendors (id, name, namespaces, is_operator, created_at) values ('ven_cli', 'cli', '[]', 0, '2026-01-01T00:00:00.000Z')`);
    expect(await store.changeMarker()).not.toBe(before);
    await store.close();
  });

  it('leaves the change marker alone for bookkeeping writes (pull records, last-used times, audit events), and moves it for anything else on a token', async () => {
    const { store } = await fresh();
    const at = new Date('2026-11-24T12:00:00.000Z');
    await store.insertVendor(vendor('ven_a', 'acme'));
    await store.insertToken({
      id: 'tok_a', type: 'vendor', vendorId: 'ven_a', customerId: null, name: 'ci', secretHash: 'h', scopes: ['pull'], status: 'active',
      expiresAt: null, rateLimit: null, lastUsedAt: null, lastUsedIp: null, createdBy: 'test', createdAt: at, updatedAt: at,
    });
    const before = await store.changeMarker();
    await store.recordLastUsed([{ tokenId: 'tok_a', at, ip: '192.0.2.1' }]);
    await store.insertUsage([{ id: 'evt_1', at, vendorId: 'ven_a', tokenId: 'tok_a', customerId: null, action: 'pull', repository: 'acme/app', tag: '1.0', digest: `sha256:${'0'.repeat(64)}`, ip: '192.0.2.1', userAgent: 'test' }]);
    await store.insertAudit({ id: 'aud_1', vendorId: 'ven_a', at, actor: 'test', source: 'test', action: 'token.test', objectType: 'token', objectId: 'tok_a', detail: {} });
    expect(await store.changeMarker()).toBe(before);
    expect((await store.getToken('ven_a', 'tok_a'))!.lastUsedIp).toBe('192.0.2.1');
    await store.setTokenStatus('ven_a', 'tok_a', 'revoked', at);
    expect(await store.changeMarker()).not.toBe(before);
    await store.close();
  });

  it('serializes read-then-write transactions across instances, as SQLite does', async () => {
    const s = await freshSchema();
    schemas.push(s);
    const stores = [openPostgresStore(s.url), openPostgresStore(s.url), openPostgresStore(s.url)];
    await stores[0]!.migrate();
    // Each instance inserts the vendor only if it sees none: exactly one must.
    const created = await Promise.all(
      stores.map((store, i) =>
        store.transaction(async (tx) => {
          if (await tx.getVendorByName('only')) return false;
          await new Promise((r) => setTimeout(r, 50));
          await tx.insertVendor(vendor(`ven_${i}`, 'only'));
          return true;
        }),
      ),
    );
    expect(created.filter(Boolean)).toHaveLength(1);
    expect((await stores[0]!.listVendors()).map((v) => v.name)).toEqual(['only']);
    await Promise.all(stores.map((st) => st.close()));
  });

  it('sorts and compares text by code point, whatever the database collation', async () => {
    const { store } = await fresh();
    await store.insertVendor(vendor('ven_a', 'acme'));
    const names = ['b', 'B', 'a', 'A', '_x', 'é', 'z-1', 'z1', 'Z'];
    for (const [i, name] of names.entries()) {
      await store.insertCustomer({ id: `cus_${i}`, vendorId: 'ven_a', name, contact: null, createdAt: new Date(), updatedAt: new Date(), deletedAt: null });
    }
    expect((await store.listCustomers('ven_a')).map((c) => c.name)).toEqual([...names].sort());
    await store.close();
  });

  it('keeps blob sizes above 2 GiB', async () => {
    const { store } = await fresh();
    const size = 5 * 1024 ** 3 + 7;
    await store.linkBlob('acme/app', 'sha256:big', size, new Date());
    expect(await store.getBlobLink('acme/app', 'sha256:big')).toEqual({ size });
    await store.close();
  });

  it('runs an instance on store.url = postgres://…: bootstrap, a customer token, authentication', async () => {
    const s = await freshSchema();
    schemas.push(s);
    const instance = await startInstance(new Date('2026-11-24T12:00:00Z'), { PORTCULLIS_STORE_URL: s.url });
    try {
      const { runtime, caller } = instance;
      const customer = await createCustomer(runtime, caller, { name: 'globex' });
      const created = await createToken(runtime, caller, { type: 'customer', customer: customer.id, name: 'ci' });
      const ok = await runtime.authenticator.check(created.token.id, created.secret, '192.0.2.1', instance.clock.now);
      expect(ok).toMatchObject({ ok: true });
      expect(await runtime.authenticator.check(created.token.id, `${created.secret}x`, '192.0.2.1', instance.clock.now)).toMatchObject({ ok: false });
      const operators = await admin(`select count(*)::int as n from ${s.schema}.vendors where is_operator = 1`);
      expect(operators.rows[0].n).toBe(1);
    } finally {
      await instance.cleanup();
    }
    // A new data dir (so a new pepper) over the same database would orphan every token: refused.
    const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-pg-'));
    try {
      const config = loadConfig({ env: { PORTCULLIS_STORE_URL: s.url }, cwd: dataDir, flags: { data_dir: dataDir } });
      await expect(openRuntime(config, { initialize: true })).rejects.toThrow(/pepper is missing but the PostgreSQL database in store\.url holds an instance/);
      expect(existsSync(join(dataDir, 'pepper'))).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
