import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-registry.js';
import * as m0003 from './0003-holds-and-expiry-warnings.js';
import * as m0004 from './0004-users-sessions.js';
import * as m0005 from './0005-postgres-change-counter.js';
import * as m0006 from './0006-postgres-bookkeeping-writes.js';
import * as m0007 from './0007-users-email-per-vendor.js';

/** Versioned, in order; shared by every store. Never edit a landed migration: add the next one. */
export const migrations: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-registry': m0002,
  '0003-holds-and-expiry-warnings': m0003,
  '0004-users-sessions': m0004,
  '0005-postgres-change-counter': m0005,
  '0006-postgres-bookkeeping-writes': m0006,
  '0007-users-email-per-vendor': m0007,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};

/**
 * The one migrator of a database, whoever runs it (serve, migrate): the same
 * history tables. `schema` is where they live on PostgreSQL, whose migrator
 * would otherwise take a schema_migrations table in any schema for its own.
 */
export function storeMigrator(db: Kysely<unknown>, schema: string | undefined): Migrator {
  return new Migrator({
    db,
    provider: migrationProvider,
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
    migrationTableSchema: schema,
  });
}

/** Every migration, in order: the last is the schema this Portcullis works with. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(migrations);
export const LATEST_MIGRATION = MIGRATION_NAMES[MIGRATION_NAMES.length - 1]!;
