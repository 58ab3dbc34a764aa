import { sql, type Kysely } from 'kysely';
import { isPostgres, noteWritesOn, WRITE_LOCK_CALL } from './dialect.js';

/** Every table of migrations 0001-0004. */
const TABLES = [
  'vendors', 'customers', 'plans', 'licenses', 'tokens', 'audit_events',
  'registry_manifests', 'registry_tags', 'registry_blobs', 'usage_events',
  'expiry_warnings', 'users', 'sessions', 'invitations',
];

/**
 * PostgreSQL only (SQLite: nothing; its change marker reads data_version).
 *
 * store_changes holds one counter that every write statement bumps in its own
 * transaction (trigger from noteWritesOn): it moves exactly when a write
 * commits, whichever instance or client made it, and a rolled-back write
 * takes its bump with it. changeMarker() reads it.
 *
 * The trigger function pins its search_path to the schema it is created in, so
 * it finds this schema's counter whatever the writing session's search_path.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create table store_changes (id integer primary key check (id = 1), n bigint not null)`.execute(db);
  await sql`insert into store_changes (id, n) values (1, 0)`.execute(db);
  await sql`
    create function portcullis_note_write() returns trigger language plpgsql
    set search_path from current
    as $$
    begin
      perform ${sql.raw(WRITE_LOCK_CALL)};
      update store_changes set n = n + 1 where id = 1;
      return null;
    end
    $$`.execute(db);
  for (const table of TABLES) await noteWritesOn(db, table);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const table of TABLES) await sql`drop trigger ${sql.id(`${table}_note_write`)} on ${sql.table(table)}`.execute(db);
  await sql`drop function portcullis_note_write()`.execute(db);
  await sql`drop table store_changes`.execute(db);
}
