import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, PostgresDriver, sql, type DatabaseConnection, type PostgresDialectConfig, type TransactionSettings } from 'kysely';
import { KyselyStore } from '../kysely-store.js';
import { WRITE_LOCK_CALL } from '../migrations/dialect.js';
import type { Database as Schema } from '../schema.js';

export interface PostgresStoreOptions {
  /** Schema to work in (sets the connections' search_path); default: the URL's or the server's. */
  schema?: string;
  /** Most connections the pool opens; default 10. */
  maxConnections?: number;
}

/**
 * Serialization: every store transaction takes the write lock when it begins,
 * like SQLite's `BEGIN IMMEDIATE`, and every write statement outside one takes
 * it through the write trigger (migration 0005). One writer at a time per
 * schema, each seeing what the previous one committed (READ COMMITTED after the
 * lock): the read-then-write steps the services do in a transaction (bootstrap's
 * ensureOperator, unique names, invitations) stay correct across instances
 * without a retry loop, exactly as on SQLite. Reads outside transactions wait
 * for nothing.
 */
class SerializedPostgresDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await super.beginTransaction(connection, settings);
    await connection.executeQuery(CompiledQuery.raw(`select ${WRITE_LOCK_CALL}`));
  }
}

class SerializedPostgresDialect extends PostgresDialect {
  constructor(private readonly settings: PostgresDialectConfig) {
    super(settings);
  }
  override createDriver() {
    return new SerializedPostgresDriver(this.settings);
  }
}

/** The store on PostgreSQL at `url` (postgres://… or postgresql://…). close() ends the pool. */
export function openPostgresStore(url: string, options: PostgresStoreOptions = {}): KyselyStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    ...(options.schema !== undefined && { options: `-c search_path=${quoteIdent(options.schema)}` }),
  });
  // An idle connection the server dropped: the pool replaces it on the next query, which reports any real outage.
  pool.on('error', () => {});
  const db = new Kysely<Schema>({ dialect: new SerializedPostgresDialect({ pool }) });
  return new KyselyStore(db, {
    // Bumped by every committed write a cached access decision may read, in any instance (migrations 0005, 0006).
    databaseMarker: async () => {
      const { rows } = await sql<{ n: string }>`select n from store_changes where id = 1`.execute(db);
      return String(rows[0]?.n ?? '');
    },
    migrationSchema: async () => {
      const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
      const schema = rows[0]?.schema;
      if (!schema) throw new Error('PostgreSQL has no current schema: the search_path names no existing schema');
      return schema;
    },
  });
}

/** A search_path entry: the name as is, double-quoted (escaping for the startup `-c` option's own parser too). */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`.replaceAll('\\', '\\\\').replaceAll(' ', '\\ ');
}
