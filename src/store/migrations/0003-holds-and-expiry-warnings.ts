import type { Kysely } from 'kysely';
import { columnTypes } from './dialect.js';

/**
 * Customer-wide suspend and expiry warnings. Schema builder only, like 0001.
 *
 * held_since marks a token or license whose status a customer-wide suspend
 * changed, so that resume undoes exactly that and not what was disabled or
 * suspended on its own before; any other status change clears it.
 *
 * expiry_warnings records each warning by object and end: the primary key is
 * the claim that makes a warning go out once, across restarts and instances.
 * A row with sent_at null is a claim being sent (or left by a crash, which
 * claimed_at lets another round take over).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('tokens').addColumn('held_since', t.text).execute();
  await db.schema.alterTable('licenses').addColumn('held_since', t.text).execute();

  await db.schema
    .createTable('expiry_warnings')
    .addColumn('object_type', t.text, (c) => c.notNull())
    .addColumn('object_id', t.text, (c) => c.notNull())
    .addColumn('vendor_id', t.text, (c) => c.notNull())
    .addColumn('ends_at', t.text, (c) => c.notNull())
    .addColumn('claimed_at', t.text, (c) => c.notNull())
    .addColumn('sent_at', t.text)
    .addPrimaryKeyConstraint('expiry_warnings_pk', ['object_id', 'ends_at'])
    .execute();
  await db.schema.createIndex('expiry_warnings_ends_at').on('expiry_warnings').column('ends_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('expiry_warnings').execute();
  await db.schema.alterTable('licenses').dropColumn('held_since').execute();
  await db.schema.alterTable('tokens').dropColumn('held_since').execute();
}
