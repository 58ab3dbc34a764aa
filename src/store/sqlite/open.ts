import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection } from 'kysely';
import { KyselyStore } from '../kysely-store.js';
import type { Database as Schema } from '../schema.js';

/**
 * `BEGIN IMMEDIATE` takes the write lock up front: the CLI and a running server
 * share one database file, and a deferred transaction that reads first would
 * fail with SQLITE_BUSY instead of waiting when the other side writes between.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly db: Database.Database) {
    super({ database: db });
  }
  override createDriver() {
    return new ImmediateSqliteDriver({ database: this.db });
  }
}

/** The database file with the settings every connection to it uses; created (owner-only) when missing. */
export function openSqliteDatabase(file: string): Database.Database {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Created 0600 up front; SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(file, 'a', 0o600));
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // FULL: an acknowledged write survives a power cut, not only a process crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

export function openSqliteStore(file: string): KyselyStore {
  const db = openSqliteDatabase(file);
  // total_changes counts this connection's writes; data_version moves when another connection (the CLI) commits.
  const marker = db.prepare<[], { own: number; other: number }>('select total_changes() as own, data_version as other from pragma_data_version()');
  const changeMarker = () => {
    const row = marker.get()!;
    return `${row.own}:${row.other}`;
  };
  return new KyselyStore(new Kysely<Schema>({ dialect: new ImmediateSqliteDialect(db) }), { databaseMarker: changeMarker });
}
