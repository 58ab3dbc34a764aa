import { sql, type Kysely } from 'kysely';
import { isPostgres, WRITE_LOCK_CALL } from './dialect.js';

/**
 * Tables no cached access decision reads: usage records, audit events,
 * dashboard sessions (touched on every dashboard request), invitations and
 * expiry-warning claims.
 */
export const BOOKKEEPING_TABLES = ['usage_events', 'audit_events', 'sessions', 'invitations', 'expiry_warnings'];

/** Written by every authenticated request's write-behind, and read by no access decision. */
const TOKEN_USE_COLUMNS = ['last_used_at', 'last_used_ip'];

/**
 * PostgreSQL only. Migration 0005 bumped the change counter on every write,
 * so each instance's write-behind batches (pull records every 2 s,
 * last-used times, dashboard sessions) dropped every instance's caches. Now
 * those writes still take the write lock but leave the counter alone: a
 * bookkeeping table gets the lock-only trigger, and on tokens an UPDATE bumps
 * the counter only for a row where something besides the last-used columns
 * changed (a JSON comparison of the whole row, so a column added later counts
 * without another migration).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`
    create function portcullis_note_bookkeeping() returns trigger language plpgsql
    set search_path from current
    as $$
    begin
      perform ${sql.raw(WRITE_LOCK_CALL)};
      return null;
    end
    $$`.execute(db);
  await sql`
    create function portcullis_note_row_change() returns trigger language plpgsql
    set search_path from current
    as $$
    begin
      update store_changes set n = n + 1 where id = 1;
      return null;
    end
    $$`.execute(db);
  for (const table of BOOKKEEPING_TABLES) {
    await sql`drop trigger ${sql.id(`${table}_note_write`)} on ${sql.table(table)}`.execute(db);
    await sql`create trigger ${sql.id(`${table}_note_write`)} before insert or update or delete or truncate on ${sql.table(table)} for each statement execute function portcullis_note_bookkeeping()`.execute(db);
  }
  const ignored = sql.raw(`array[${TOKEN_USE_COLUMNS.map((c) => `'${c}'`).join(', ')}]`);
  await sql`drop trigger tokens_note_write on tokens`.execute(db);
  await sql`create trigger tokens_note_write before insert or delete or truncate on tokens for each statement execute function portcullis_note_write()`.execute(db);
  await sql`create trigger tokens_note_update before update on tokens for each statement execute function portcullis_note_bookkeeping()`.execute(db);
  await sql`create trigger tokens_note_change after update on tokens for each row
    when ((to_jsonb(old) - ${ignored}) is distinct from (to_jsonb(new) - ${ignored}))
    execute function portcullis_note_row_change()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop trigger tokens_note_change on tokens`.execute(db);
  await sql`drop trigger tokens_note_update on tokens`.execute(db);
  await sql`drop trigger tokens_note_write on tokens`.execute(db);
  await sql`create trigger tokens_note_write before insert or update or delete or truncate on tokens for each statement execute function portcullis_note_write()`.execute(db);
  for (const table of BOOKKEEPING_TABLES) {
    await sql`drop trigger ${sql.id(`${table}_note_write`)} on ${sql.table(table)}`.execute(db);
    await sql`create trigger ${sql.id(`${table}_note_write`)} before insert or update or delete or truncate on ${sql.table(table)} for each statement execute function portcullis_note_write()`.execute(db);
  }
  await sql`drop function portcullis_note_row_change()`.execute(db);
  await sql`drop function portcullis_note_bookkeeping()`.execute(db);
}
