import { sql, type Kysely } from 'kysely';
import { columnTypes } from './dialect.js';

/**
 * Written with Kysely's schema builder only so the SQLite and PostgreSQL stores
 * share it; the column types that must differ come from columnTypes (dialect.ts).
 * Times are ISO-8601 UTC text, lists are JSON text, flags are 0/1 integers: the
 * same on both databases.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('vendors')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull().unique())
    .addColumn('namespaces', t.text, (c) => c.notNull())
    .addColumn('is_operator', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.text, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('customers')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('vendor_id', t.text, (c) => c.notNull().references('vendors.id'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('contact', t.text)
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    // Deleted customers stay as rows so their revoked tokens and licenses keep an owner for audit.
    .addColumn('deleted_at', t.text)
    .execute();
  await db.schema
    .createIndex('customers_vendor_name')
    .on('customers')
    .columns(['vendor_id', 'name'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();

  await db.schema
    .createTable('plans')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('vendor_id', t.text, (c) => c.notNull().references('vendors.id'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('description', t.text)
    .addColumn('repositories', t.text, (c) => c.notNull())
    .addColumn('actions', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .addUniqueConstraint('plans_vendor_name', ['vendor_id', 'name'])
    .execute();

  await db.schema
    .createTable('licenses')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('vendor_id', t.text, (c) => c.notNull().references('vendors.id'))
    .addColumn('customer_id', t.text, (c) => c.notNull().references('customers.id'))
    .addColumn('name', t.text)
    .addColumn('plan_id', t.text, (c) => c.references('plans.id'))
    .addColumn('repositories', t.text, (c) => c.notNull())
    .addColumn('tags', t.text, (c) => c.notNull())
    .addColumn('valid_from', t.text, (c) => c.notNull())
    .addColumn('valid_until', t.text)
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('licenses_customer').on('licenses').column('customer_id').execute();
  await db.schema.createIndex('licenses_vendor').on('licenses').column('vendor_id').execute();
  await db.schema.createIndex('licenses_plan').on('licenses').column('plan_id').execute();

  await db.schema
    .createTable('tokens')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('type', t.text, (c) => c.notNull())
    .addColumn('vendor_id', t.text, (c) => c.notNull().references('vendors.id'))
    .addColumn('customer_id', t.text, (c) => c.references('customers.id'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('secret_hash', t.text, (c) => c.notNull())
    .addColumn('scopes', t.text, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('expires_at', t.text)
    .addColumn('rate_limit', 'integer')
    .addColumn('last_used_at', t.text)
    .addColumn('last_used_ip', t.text)
    .addColumn('created_by', t.text, (c) => c.notNull())
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tokens_vendor').on('tokens').columns(['vendor_id', 'created_at']).execute();
  await db.schema.createIndex('tokens_customer').on('tokens').column('customer_id').execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('vendor_id', t.text, (c) => c.notNull())
    .addColumn('at', t.text, (c) => c.notNull())
    .addColumn('actor', t.text, (c) => c.notNull())
    .addColumn('source', t.text, (c) => c.notNull())
    .addColumn('action', t.text, (c) => c.notNull())
    .addColumn('object_type', t.text, (c) => c.notNull())
    .addColumn('object_id', t.text, (c) => c.notNull())
    .addColumn('detail', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_vendor_at').on('audit_events').columns(['vendor_id', 'at']).execute();
  await db.schema.createIndex('audit_object').on('audit_events').columns(['object_type', 'object_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['audit_events', 'tokens', 'licenses', 'plans', 'customers', 'vendors']) {
    await db.schema.dropTable(t).execute();
  }
}
