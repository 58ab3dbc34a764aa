import { sql, type Kysely } from 'kysely';
import { columnTypes, isPostgres } from './dialect.js';

/**
 * E-mail addresses unique per vendor instead of across the instance.
 *
 * 0004 made users.email unique instance-wide because a login named only an
 * address. That turned creating or inviting a user into a probe: the 409 for
 * an address taken in another vendor told any vendor's admin that the person
 * has an account elsewhere. Now one person may hold accounts in several
 * vendors (like Slack workspaces), and a login whose address and password
 * open more than one names the vendor (src/service/sessions.ts).
 *
 * The unique index leads with email, so the login's lookup by address alone
 * (every vendor) uses it as well as the check within one vendor.
 *
 * PostgreSQL drops the column's unique constraint, found by what it is rather
 * than by its generated name. SQLite cannot drop a column constraint, so the
 * table is rebuilt as SQLite documents it (new table, copy, drop, rename),
 * with foreign keys off meanwhile: sessions and invitations reference
 * users.id, and dropping users with foreign keys on would refuse or lose them.
 * The rebuild commits only when foreign_key_check finds nothing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    for (const name of await emailUniqueConstraints(db)) await sql`alter table users drop constraint ${sql.id(name)}`.execute(db);
    await createEmailVendorIndex(db);
    return;
  }
  await rebuildSqliteUsers(db, { emailUniqueAlone: false });
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Fails, and changes nothing, while an address has users in two vendors.
  if (isPostgres(db)) {
    await db.schema.dropIndex('users_email_vendor').execute();
    await sql`alter table users add constraint users_email_key unique (email)`.execute(db);
    return;
  }
  await rebuildSqliteUsers(db, { emailUniqueAlone: true });
}

/** PostgreSQL: the unique constraints on users.email alone (0004's column UNIQUE; PostgreSQL named it). */
async function emailUniqueConstraints(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select k.conname as name
      from pg_constraint k
      join pg_class c on c.oid = k.conrelid
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum = k.conkey[1]
     where n.nspname = current_schema() and c.relname = 'users' and k.contype = 'u'
       and cardinality(k.conkey) = 1 and a.attname = 'email'`.execute(db);
  return rows.map((r) => r.name);
}

async function createEmailVendorIndex(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('users_email_vendor').on('users').columns(['email', 'vendor_id']).unique().execute();
}

/** users as 0004 created it, under another name, with or without the instance-wide UNIQUE on email. */
async function createUsersTable(db: Kysely<unknown>, name: string, emailUniqueAlone: boolean): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable(name)
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('vendor_id', t.text, (c) => c.notNull().references('vendors.id'))
    .addColumn('email', t.text, (c) => (emailUniqueAlone ? c.notNull().unique() : c.notNull()))
    .addColumn('role', t.text, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('password_hash', t.text)
    .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.text, (c) => c.notNull())
    .addColumn('last_login_at', t.text)
    .execute();
}

const USER_COLUMNS = ['id', 'vendor_id', 'email', 'role', 'status', 'password_hash', 'must_change_password', 'created_at', 'updated_at', 'last_login_at'];

/**
 * SQLite's way to change a column constraint (https://www.sqlite.org/lang_altertable.html#otheralter).
 * Migrations run outside a transaction on SQLite (Kysely: no transactional
 * DDL there), which is what lets this switch foreign keys off: the pragma is
 * a no-op inside one. The rebuild itself is one transaction, so a failure
 * leaves the old table as it was.
 */
async function rebuildSqliteUsers(db: Kysely<unknown>, options: { emailUniqueAlone: boolean }): Promise<void> {
  const { rows } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
  const enforced = rows[0]?.foreign_keys === 1;
  if (enforced) await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (tx) => {
      await createUsersTable(tx, 'users_new', options.emailUniqueAlone);
      const columns = sql.join(USER_COLUMNS.map((c) => sql.ref(c)));
      await sql`insert into users_new (${columns}) select ${columns} from users`.execute(tx);
      await tx.schema.dropTable('users').execute();
      await tx.schema.alterTable('users_new').renameTo('users').execute();
      await tx.schema.createIndex('users_vendor').on('users').columns(['vendor_id', 'created_at']).execute();
      if (!options.emailUniqueAlone) await createEmailVendorIndex(tx);
      // The tables whose keys the rebuild could break: users' own (vendors) and those pointing at users.
      for (const table of ['users', 'sessions', 'invitations']) {
        const broken = await sql<{ parent: string }>`select parent from pragma_foreign_key_check(${table})`.execute(tx);
        if (broken.rows.length > 0) throw new Error(`rebuilding users would break ${broken.rows.length} foreign key(s) of ${table} (to ${broken.rows[0]!.parent})`);
      }
    });
  } finally {
    if (enforced) await sql`pragma foreign_keys = on`.execute(db);
  }
}
