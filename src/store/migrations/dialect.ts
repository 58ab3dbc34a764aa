import { PostgresAdapter, sql, type Expression, type Kysely } from 'kysely';

/**
 * What the migrations do differently on PostgreSQL. SQLite gets exactly what
 * the landed migrations always created; PostgreSQL gets the types that make
 * the same store code behave the same there.
 */
export function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export interface ColumnTypes {
  /**
   * Text that compares and sorts byte-wise, as SQLite's BINARY collation does:
   * ORDER BY, < and > on ids, names and ISO times, and keyset cursors then agree
   * on both databases whatever the PostgreSQL database's default collation is.
   */
  text: 'text' | Expression<unknown>;
  /** SQLite's integer is 64-bit; PostgreSQL's is 32-bit, too small for blob sizes. */
  int64: 'integer' | 'bigint';
}

export function columnTypes(db: Kysely<unknown>): ColumnTypes {
  return isPostgres(db) ? { text: sql`text collate "C"`, int64: 'bigint' } : { text: 'text', int64: 'integer' };
}

/**
 * Key of the PostgreSQL advisory lock that serializes writers, as SQLite's
 * single write lock does (with the schema's hash as second key, so two
 * instances in different schemas of one database do not wait for each other).
 * The store's transactions take it when they begin (src/store/postgres/open.ts)
 * and the write trigger below takes it before any other write.
 */
export const WRITE_LOCK_KEY = 0x70637773; // "pcws"

/** The call that takes the write lock until the current transaction ends. */
export const WRITE_LOCK_CALL = `pg_advisory_xact_lock(${WRITE_LOCK_KEY}, hashtext(current_schema()))`;

/**
 * PostgreSQL: makes every write to `table` take the write lock and bump the
 * store_changes counter (migration 0005) that changeMarker() reads. A
 * statement-level BEFORE trigger: the lock comes before any row lock the
 * statement takes, so writers always lock in the same order. Every migration
 * that creates a table calls this (test/store/postgres.test.ts checks).
 * SQLite: nothing (its change marker needs no help).
 */
export async function noteWritesOn(db: Kysely<unknown>, table: string): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`create trigger ${sql.id(`${table}_note_write`)} before insert or update or delete or truncate on ${sql.table(table)} for each statement execute function portcullis_note_write()`.execute(db);
}
