/**
 * Migration 0007 (e-mail addresses unique per vendor) on a database that
 * already holds users with sessions and invitations, on SQLite (which
 * rebuilds the users table) and PostgreSQL (which drops a constraint): every
 * row stays, the foreign keys still hold and still point at users, and the
 * uniqueness is per vendor afterwards. The store's own migrate() applies it,
 * as serve does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openMaintenanceDb, type MaintenanceDb } from '../../src/store/maintenance.js';
import { storeMigrator } from '../../src/store/migrations/index.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { StoreLocation } from '../../src/store/location.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { admin, describePostgres, freshSchema } from '../helpers/postgres.js';

const BEFORE = '0006-postgres-bookkeeping-writes';
const AT = '2026-03-01T10:00:00.000Z';
const LATER = '2026-03-08T10:00:00.000Z';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-0007-'));
const schemas: Array<{ drop(): Promise<void> }> = [];
afterAll(async () => {
  for (const s of schemas.splice(0)) await s.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function seed(db: Kysely<unknown>): Promise<void> {
  await sql`insert into vendors (id, name, namespaces, is_operator, created_at) values
    ('ven_a', 'acme', '["acme/**"]', 0, ${AT}), ('ven_b', 'beta', '["beta/**"]', 0, ${AT})`.execute(db);
  await sql`insert into users (id, vendor_id, email, role, status, password_hash, must_change_password, created_at, updated_at, last_login_at) values
    ('usr_1', 'ven_a', 'ann@example.com', 'owner', 'active', '$argon2id$ann', 0, ${AT}, ${AT}, ${LATER}),
    ('usr_2', 'ven_b', 'bob@example.com', 'admin', 'active', '$argon2id$bob', 1, ${AT}, ${AT}, null),
    ('usr_3', 'ven_a', 'cid@example.com', 'viewer', 'invited', null, 0, ${AT}, ${AT}, null)`.execute(db);
  await sql`insert into sessions (id, user_id, vendor_id, created_at, expires_at, last_seen_at) values
    ('hmac-s1', 'usr_1', 'ven_a', ${AT}, ${LATER}, ${AT}), ('hmac-s2', 'usr_2', 'ven_b', ${AT}, ${LATER}, ${AT})`.execute(db);
  await sql`insert into invitations (id, user_id, vendor_id, created_by, created_at, expires_at, used_at) values
    ('hmac-i1', 'usr_3', 'ven_a', 'user:ann@example.com', ${AT}, ${LATER}, null),
    ('hmac-i2', 'usr_2', 'ven_b', 'cli:root', ${AT}, ${LATER}, ${AT})`.execute(db);
}

async function rows(db: Kysely<unknown>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of ['users', 'sessions', 'invitations']) {
    out[table] = (await sql`select * from ${sql.table(table)} order by id`.execute(db)).rows;
  }
  return out;
}

const insertUser = (db: Kysely<unknown>, id: string, vendorId: string, email: string) =>
  sql`insert into users (id, vendor_id, email, role, status, password_hash, must_change_password, created_at, updated_at)
      values (${id}, ${vendorId}, ${email}, 'viewer', 'active', null, 0, ${AT}, ${AT})`.execute(db);

const orphanSession = (db: Kysely<unknown>) =>
  sql`insert into sessions (id, user_id, vendor_id, created_at, expires_at, last_seen_at) values ('hmac-x', 'usr_nobody', 'ven_a', ${AT}, ${LATER}, ${AT})`.execute(db);

/**
 * Takes a database to 0006, fills it, lets the store migrate it, and checks
 * what both databases must agree on. `openStore` opens the store as serve does.
 */
async function migratesWithData(location: StoreLocation, openStore: () => KyselyStore, more: (m: MaintenanceDb) => Promise<void>): Promise<void> {
  let m = await openMaintenanceDb(location, { create: true });
  const migrated = await storeMigrator(m.db, m.migrationSchema).migrateTo(BEFORE);
  expect(migrated.error).toBeUndefined();
  await seed(m.db);
  const before = await rows(m.db);
  // The instance-wide uniqueness this migration removes.
  await expect(insertUser(m.db, 'usr_x', 'ven_b', 'ann@example.com')).rejects.toThrow();
  await m.close();

  const store = openStore();
  await store.migrate();
  // The connection that migrated goes on serving (serve): its foreign keys must hold again.
  const at = new Date(AT);
  await expect(store.insertSession({ id: 'hmac-z', userId: 'usr_nobody', vendorId: 'ven_a', createdAt: at, expiresAt: at, lastSeenAt: at })).rejects.toThrow();
  await store.close();

  m = await openMaintenanceDb(location, { create: false });
  try {
    expect(await rows(m.db)).toEqual(before);
    // Per vendor now: the same address in another vendor, but not twice in one.
    await insertUser(m.db, 'usr_4', 'ven_b', 'ann@example.com');
    await expect(insertUser(m.db, 'usr_5', 'ven_a', 'ann@example.com')).rejects.toThrow();
    // The foreign keys still point at users and still hold.
    await expect(sql`delete from users where id = 'usr_1'`.execute(m.db)).rejects.toThrow();
    await expect(orphanSession(m.db)).rejects.toThrow();
    await expect(sql`insert into users (id, vendor_id, email, role, status, must_change_password, created_at, updated_at) values ('usr_y', 'ven_nobody', 'y@example.com', 'viewer', 'active', 0, ${AT}, ${AT})`.execute(m.db)).rejects.toThrow();
    await more(m);

    // Back down while an address has users in two vendors: refused, nothing changed.
    const refused = await storeMigrator(m.db, m.migrationSchema).migrateDown();
    expect(refused.error).toBeDefined();
    expect((await rows(m.db)).users).toHaveLength(4);
    await sql`delete from users where id = 'usr_4'`.execute(m.db);
    const down = await storeMigrator(m.db, m.migrationSchema).migrateDown();
    expect(down.error).toBeUndefined();
    expect(await rows(m.db)).toEqual(before);
    await expect(insertUser(m.db, 'usr_6', 'ven_b', 'ann@example.com')).rejects.toThrow();
    const up = await storeMigrator(m.db, m.migrationSchema).migrateToLatest();
    expect(up.error).toBeUndefined();
    await insertUser(m.db, 'usr_6', 'ven_b', 'ann@example.com');
    await expect(orphanSession(m.db)).rejects.toThrow();
  } finally {
    await m.close();
  }
}

describe('migration 0007 on SQLite', () => {
  it('rebuilds users keeping every user, session and invitation, with foreign keys intact', async () => {
    const file = join(dir, 'users.sqlite');
    let columnsBefore: unknown[] = [];
    {
      const m = await openMaintenanceDb({ kind: 'sqlite', file }, { create: true });
      await storeMigrator(m.db, undefined).migrateTo(BEFORE);
      columnsBefore = (await sql`select name, type, "notnull", dflt_value, pk from pragma_table_info('users') order by cid`.execute(m.db)).rows;
      await m.close();
    }
    await migratesWithData({ kind: 'sqlite', file }, () => openSqliteStore(file), async (m) => {
      expect((await sql`pragma foreign_key_check`.execute(m.db)).rows).toEqual([]);
      expect((await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(m.db)).rows[0]?.foreign_keys).toBe(1);
      // Same columns, types and defaults as before: the export format reads them.
      expect((await sql`select name, type, "notnull", dflt_value, pk from pragma_table_info('users') order by cid`.execute(m.db)).rows).toEqual(columnsBefore);
      const references = await sql<{ table: string; from: string; to: string }>`select m.name as "table", f."table" as "to", f."from" as "from"
        from sqlite_master m join pragma_foreign_key_list(m.name) f where m.type = 'table' and m.name in ('sessions', 'invitations', 'users') order by 1, 2`.execute(m.db);
      expect(references.rows).toEqual([
        { table: 'invitations', to: 'users', from: 'user_id' },
        { table: 'sessions', to: 'users', from: 'user_id' },
        { table: 'users', to: 'vendors', from: 'vendor_id' },
      ]);
      const indexes = await sql<{ name: string; unique: number }>`select name, "unique" from pragma_index_list('users') where origin = 'c' order by name`.execute(m.db);
      expect(indexes.rows).toEqual([
        { name: 'users_email_vendor', unique: 1 },
        { name: 'users_vendor', unique: 0 },
      ]);
      expect((await sql<{ n: number }>`select count(*) as n from sqlite_master where name = 'users_new'`.execute(m.db)).rows[0]?.n).toBe(0);
    });
  });
});

describePostgres('migration 0007 on PostgreSQL', () => {
  it('drops the instance-wide constraint, keeping every row, the foreign keys and the write trigger', async () => {
    const s = await freshSchema();
    schemas.push(s);
    await migratesWithData({ kind: 'postgres', url: s.url }, () => openPostgresStore(s.url), async () => {
      const constraints = await admin(
        `select k.conname, k.contype, p.relname as ref from pg_constraint k join pg_class c on c.oid = k.conrelid
           left join pg_class p on p.oid = k.confrelid join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and (c.relname = 'users' or p.relname = 'users') order by 1`,
        [s.schema],
      );
      // invitations → users, sessions → users, users' primary key, users → vendors: no unique constraint left.
      expect(constraints.rows.map((r: { contype: string; ref: string | null }) => [r.contype, r.ref])).toEqual([
        ['f', 'users'],
        ['f', 'users'],
        ['p', null],
        ['f', 'vendors'],
      ]);
      const indexes = await admin(`select indexname, indexdef from pg_indexes where schemaname = $1 and tablename = 'users' order by 1`, [s.schema]);
      expect(indexes.rows.map((r: { indexname: string }) => r.indexname)).toEqual(['users_email_vendor', 'users_pkey', 'users_vendor']);
      expect(indexes.rows[0].indexdef).toMatch(/UNIQUE INDEX users_email_vendor ON .*users USING btree \(email, vendor_id\)/);
      const triggers = await admin(`select tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = 'users' and not t.tgisinternal`, [s.schema]);
      expect(triggers.rows.map((r: { tgname: string }) => r.tgname)).toEqual(['users_note_write']);
    });
  });
});
