import { existsSync } from 'node:fs';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { columnKindOf, type ColumnKind } from '../core/store-export-format.js';
import { invalid, PortcullisError } from '../core/errors.js';
import type { StoreLocation } from './location.js';
import { LATEST_MIGRATION, MIGRATION_NAMES, storeMigrator } from './migrations/index.js';
import { openSqliteDatabase } from './sqlite/open.js';

/**
 * A direct connection to the configured database for the commands that work
 * on the database itself (migrate, export, import) and need nothing else of
 * an instance: no pepper, no keys, no operator vendor. The store
 * (KyselyStore) hides its Kysely instance and reports no migration results,
 * so this opens its own, with the same settings and the same migrator.
 */
export { storeLocation, type StoreLocation } from './location.js';
export { LATEST_MIGRATION, MIGRATION_NAMES };

export interface MaintenanceDb {
  kind: StoreLocation['kind'];
  db: Kysely<unknown>;
  /** PostgreSQL: the schema the search_path resolves to, which holds the migration tables (as the store's hook says). */
  migrationSchema?: string;
  /** For messages; never the URL, which may hold a password. */
  where: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** SQLite: create the file when missing (migrate); otherwise a missing file is refused with `missingHint`. */
  create: boolean;
  missingHint?: string;
}

export async function openMaintenanceDb(location: StoreLocation, options: OpenOptions): Promise<MaintenanceDb> {
  return location.kind === 'sqlite' ? openSqlite(location.file, options) : openPostgres(location.url);
}

function openSqlite(file: string, options: OpenOptions): MaintenanceDb {
  if (!existsSync(file) && !options.create) throw new PortcullisError('not_found', `no database at ${file}${options.missingHint ? `: ${options.missingHint}` : ''}`);
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: openSqliteDatabase(file) }) });
  return { kind: 'sqlite', db, where: file, close: () => db.destroy() };
}

async function openPostgres(url: string): Promise<MaintenanceDb> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  let schema: string | null | undefined;
  try {
    ({ schema } = (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db)).rows[0] ?? {});
  } catch (err) {
    await db.destroy();
    throw new PortcullisError('unavailable', `cannot reach the PostgreSQL database in store.url: ${(err as Error).message}`);
  }
  if (!schema) {
    await db.destroy();
    throw invalid('PostgreSQL has no current schema: the search_path of store.url names no existing schema', 'store.url');
  }
  return { kind: 'postgres', db, migrationSchema: schema, where: `PostgreSQL schema ${schema}`, close: () => db.destroy() };
}

/**
 * Runs the pending migrations and returns those this call applied. On
 * PostgreSQL Kysely holds an advisory lock while it reads what is applied
 * and applies the rest in one transaction: a second migrate (or serve)
 * waits, then finds nothing left to do.
 */
export async function migrateToLatest(m: MaintenanceDb): Promise<string[]> {
  const { error, results = [] } = await storeMigrator(m.db, m.migrationSchema).migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`database migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function pendingMigrations(m: MaintenanceDb): Promise<string[]> {
  return (await storeMigrator(m.db, m.migrationSchema).getMigrations()).filter((x) => x.executedAt === undefined).map((x) => x.name);
}

/** Tables of the schema in use, the database's own (sqlite_*) left out. */
export async function listTables(conn: Kysely<unknown>, kind: StoreLocation['kind']): Promise<string[]> {
  const { rows } =
    kind === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\'`.execute(conn)
      : await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(conn);
  return rows.map((r) => r.name);
}

/** The migrations recorded in the database; none when it was never migrated. */
export async function appliedMigrations(conn: Kysely<unknown>, kind: StoreLocation['kind']): Promise<string[]> {
  if (!(await listTables(conn, kind)).includes('schema_migrations')) return [];
  const { rows } = await sql<{ name: string }>`select name from schema_migrations order by name`.execute(conn);
  return rows.map((r) => r.name);
}

/** Refuses a database not at exactly this Portcullis' schema, saying which way to go. */
export function requireLatestSchema(applied: readonly string[], where: string): void {
  const unknown = applied.filter((n) => !MIGRATION_NAMES.includes(n));
  if (unknown.length > 0) {
    throw new PortcullisError('conflict', `${where} was migrated by a newer Portcullis (${unknown[unknown.length - 1]}); this one is at ${LATEST_MIGRATION}: use that version`);
  }
  if (applied.length !== MIGRATION_NAMES.length) {
    const at = applied.length === 0 ? 'no migration' : `migration ${applied[applied.length - 1]}`;
    throw new PortcullisError('conflict', `${where} is at ${at}, this Portcullis at ${LATEST_MIGRATION}: run \`portcullis migrate\` first`);
  }
}

/** Each column's kind, in the table's column order; a type the export cannot carry is refused. */
export async function columnKinds(conn: Kysely<unknown>, kind: StoreLocation['kind'], table: string): Promise<Map<string, ColumnKind>> {
  const { rows } =
    kind === 'sqlite'
      ? await sql<{ name: string; type: string }>`select name, type from pragma_table_info(${table}) order by cid`.execute(conn)
      : await sql<{ name: string; type: string }>`select column_name as name, data_type as type from information_schema.columns
          where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(conn);
  const kinds = new Map<string, ColumnKind>();
  for (const { name, type } of rows) {
    const k = columnKindOf(type);
    if (!k) throw new PortcullisError('conflict', `column ${table}.${name} has type ${type}, which the export format does not carry`);
    kinds.set(name, k);
  }
  return kinds;
}

/** Every foreign key of the schema in use, as child table → parent table. */
export async function foreignKeys(conn: Kysely<unknown>, kind: StoreLocation['kind']): Promise<{ table: string; references: string }[]> {
  const { rows } =
    kind === 'sqlite'
      ? await sql<{ table: string; references: string }>`select m.name as "table", f."table" as "references"
          from sqlite_master m join pragma_foreign_key_list(m.name) f where m.type = 'table'`.execute(conn)
      : await sql<{ table: string; references: string }>`select c.relname as "table", p.relname as "references"
          from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid
          join pg_namespace n on n.oid = k.connamespace where k.contype = 'f' and n.nspname = current_schema()`.execute(conn);
  return rows;
}
