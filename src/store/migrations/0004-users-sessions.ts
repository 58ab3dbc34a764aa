import type { Kysely } from 'kysely';
import { columnTypes } from './dialect.js';

/**
 * Dashboard users, their sessions and invitations. Schema builder only, like 0001.
 *
 * users.email is unique across the instance: a login names an e-mail address,
 * not a vendor, so one address can be one account only. password_hash is null
 * while the user is invited.
 *
 * Sessions and invitations are keyed by the HMAC of their secret (the cookie
 * value, the invitation link's token): the database never holds a value that
 * would let its reader in.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('users')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('vendor_id', t.text, (c) => c.notNull().references('vendors.id'))
    .addColumn('email', t.text, (c) => c.notNull().unique())
    .addColumn('role', t.text, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('password_hash', t.text)
    .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .addColumn('last_login_at', t.text)
    .execute();
  await db.schema.createIndex('users_vendor').on('users').columns(['vendor_id', 'created_at']).execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('vendor_id', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('expires_at', t.text, (c) => c.notNull())
    .addColumn('last_seen_at', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
  await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('invitations')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('user_id', t.text, (c) => c.notNull().references('users.id'))
    .addColumn('vendor_id', t.text, (c) => c.notNull())
    .addColumn('created_by', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('expires_at', t.text, (c) => c.notNull())
    .addColumn('used_at', t.text)
    .execute();
  await db.schema.createIndex('invitations_user').on('invitations').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('invitations').execute();
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('users').execute();
}
