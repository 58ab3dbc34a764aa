import type { Kysely } from 'kysely';
import { columnTypes } from './dialect.js';

/**
 * The built-in registry's metadata (blobs themselves live on the filesystem,
 * addressed by digest) and the usage log. Schema builder only, like 0001.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('registry_manifests')
    .addColumn('repository', t.text, (c) => c.notNull())
    .addColumn('digest', t.text, (c) => c.notNull())
    .addColumn('media_type', t.text, (c) => c.notNull())
    .addColumn('size', t.int64, (c) => c.notNull())
    .addColumn('subject', t.text)
    .addColumn('artifact_type', t.text)
    // JSON object or null: the referrers API must repeat a manifest's annotations.
    .addColumn('annotations', t.text)
    // JSON list of {digest, kind}: what this manifest references (index entries, config, layers).
    .addColumn('children', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('registry_manifests_pk', ['repository', 'digest'])
    .execute();
  await db.schema.createIndex('registry_manifests_subject').on('registry_manifests').columns(['repository', 'subject']).execute();

  await db.schema
    .createTable('registry_tags')
    .addColumn('repository', t.text, (c) => c.notNull())
    .addColumn('tag', t.text, (c) => c.notNull())
    .addColumn('digest', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('registry_tags_pk', ['repository', 'tag'])
    .execute();
  await db.schema.createIndex('registry_tags_digest').on('registry_tags').columns(['repository', 'digest']).execute();

  // A blob is readable through a repository only once it was pushed or mounted there.
  await db.schema
    .createTable('registry_blobs')
    .addColumn('repository', t.text, (c) => c.notNull())
    .addColumn('digest', t.text, (c) => c.notNull())
    .addColumn('size', t.int64, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addPrimaryKeyConstraint('registry_blobs_pk', ['repository', 'digest'])
    .execute();

  await db.schema
    .createTable('usage_events')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('at', t.text, (c) => c.notNull())
    .addColumn('vendor_id', t.text, (c) => c.notNull())
    .addColumn('token_id', t.text, (c) => c.notNull())
    .addColumn('customer_id', t.text)
    .addColumn('action', t.text, (c) => c.notNull())
    .addColumn('repository', t.text, (c) => c.notNull())
    .addColumn('tag', t.text)
    .addColumn('digest', t.text, (c) => c.notNull())
    .addColumn('ip', t.text, (c) => c.notNull())
    .addColumn('user_agent', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('usage_vendor_at').on('usage_events').columns(['vendor_id', 'at']).execute();
  await db.schema.createIndex('usage_vendor_repository').on('usage_events').columns(['vendor_id', 'repository', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['usage_events', 'registry_blobs', 'registry_tags', 'registry_manifests']) {
    await db.schema.dropTable(t).execute();
  }
}
