import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { AuditEvent, Customer, License, LicenseStatus, ManifestRecord, Plan, PlanAction, TagRecord, Token, TokenStatus, UsageEvent, User, UserStatus, Vendor } from '../core/model.js';
import type { UserRole } from '../core/roles.js';
import type { ExpiryWarningRecord } from '../core/expiry-warnings.js';
import type { MarkLink, MarkManifest } from '../core/registry-mark.js';
import type { TokenType } from '../core/token-format.js';
import { storeMigrator } from './migrations/index.js';
import type { AuditEventRow, CustomerRow, Database, InvitationRow, LicenseRow, PlanRow, RegistryManifestRow, SessionRow, TokenRow, UsageEventRow, UserRow, VendorRow } from './schema.js';
import type { AuditFilter, EventCursor, InvitationRecord, LastUsed, LicenseFilter, SessionRecord, Store, StoredToken, StoredUser, TokenFilter, UsageFilter, UserChanges } from './store.js';

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);
const date = (s: string) => new Date(s);
const dateOrNull = (s: string | null) => (s === null ? null : new Date(s));
const json = (v: unknown) => JSON.stringify(v);
const list = (s: string) => JSON.parse(s) as string[];

/** What differs between databases beyond the Kysely dialect, given by the code that opens the store. */
export interface DialectHooks {
  /** What the database says about committed writes (see Store.changeMarker). */
  databaseMarker?: () => string | Promise<string>;
  /**
   * The schema that holds the migration tables. PostgreSQL needs it: Kysely's
   * Migrator otherwise takes a schema_migrations table in any schema of the
   * database for its own.
   */
  migrationSchema?: () => Promise<string>;
}

/**
 * The store over Kysely. Dialect differences stay in the code that builds the
 * Kysely instance (and its hooks) and in the migrations' column types;
 * everything here is portable SQL.
 */
export class KyselyStore implements Store {
  /** Bumped when a transaction starts and when it ends: what it read or wrote may be rolled back. */
  private readonly transactions: { count: number };
  private readonly commitListeners: (() => Promise<void>)[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly hooks: DialectHooks = {},
    private readonly inTransaction = false,
    transactions?: { count: number },
  ) {
    this.transactions = transactions ?? { count: 0 };
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>, options: { bookkeeping?: boolean } = {}): Promise<T> {
    if (this.inTransaction) return fn(this);
    const run = () => this.db.transaction().execute((trx) => fn(new KyselyStore(trx, this.hooks, true, this.transactions)));
    if (options.bookkeeping) return run();
    this.transactions.count++;
    let result: T;
    try {
      result = await run();
    } finally {
      this.transactions.count++;
    }
    // Awaited, so that the caller answers only once other instances have been told.
    for (const listener of this.commitListeners) await listener();
    return result;
  }

  async changeMarker(): Promise<string> {
    const database = this.hooks.databaseMarker ? await this.hooks.databaseMarker() : '';
    return `${database}/${this.localChangeMarker()}`;
  }

  localChangeMarker(): string {
    return String(this.transactions.count);
  }

  onCommit(listener: () => Promise<void>): void {
    this.commitListeners.push(listener);
  }

  async migrate(): Promise<void> {
    const migrator = storeMigrator(this.db as Kysely<unknown>, await this.hooks.migrationSchema?.());
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error) {
      throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`);
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // vendors

  async insertVendor(v: Vendor): Promise<void> {
    await this.db
      .insertInto('vendors')
      .values({ id: v.id, name: v.name, namespaces: json(v.namespaces), is_operator: v.isOperator ? 1 : 0, created_at: iso(v.createdAt) })
      .execute();
  }

  async getVendor(id: string): Promise<Vendor | undefined> {
    const row = await this.db.selectFrom('vendors').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toVendor(row);
  }

  async getVendorByName(name: string): Promise<Vendor | undefined> {
    const row = await this.db.selectFrom('vendors').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toVendor(row);
  }

  async getOperatorVendor(): Promise<Vendor | undefined> {
    const row = await this.db.selectFrom('vendors').selectAll().where('is_operator', '=', 1).orderBy('created_at').executeTakeFirst();
    return row && toVendor(row);
  }

  async listVendors(): Promise<Vendor[]> {
    const rows = await this.db.selectFrom('vendors').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toVendor);
  }

  // customers

  async insertCustomer(c: Customer): Promise<void> {
    await this.db.insertInto('customers').values(customerRow(c)).execute();
  }

  async getCustomer(vendorId: string, id: string, includeDeleted = false): Promise<Customer | undefined> {
    let q = this.db.selectFrom('customers').selectAll().where('vendor_id', '=', vendorId).where('id', '=', id);
    if (!includeDeleted) q = q.where('deleted_at', 'is', null);
    const row = await q.executeTakeFirst();
    return row && toCustomer(row);
  }

  async getCustomerByName(vendorId: string, name: string): Promise<Customer | undefined> {
    const row = await this.db
      .selectFrom('customers')
      .selectAll()
      .where('vendor_id', '=', vendorId)
      .where('name', '=', name)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row && toCustomer(row);
  }

  async listCustomers(vendorId: string): Promise<Customer[]> {
    const rows = await this.db.selectFrom('customers').selectAll().where('vendor_id', '=', vendorId).where('deleted_at', 'is', null).orderBy('name').execute();
    return rows.map(toCustomer);
  }

  async updateCustomer(c: Customer): Promise<void> {
    const { name, contact, updated_at, deleted_at } = customerRow(c);
    await this.db.updateTable('customers').set({ name, contact, updated_at, deleted_at }).where('vendor_id', '=', c.vendorId).where('id', '=', c.id).execute();
  }

  // plans

  async insertPlan(p: Plan): Promise<void> {
    await this.db
      .insertInto('plans')
      .values({
        id: p.id,
        vendor_id: p.vendorId,
        name: p.name,
        description: p.description,
        repositories: json(p.repositories),
        actions: json(p.actions),
        created_at: iso(p.createdAt),
        updated_at: iso(p.updatedAt),
      })
      .execute();
  }

  async getPlan(vendorId: string, id: string): Promise<Plan | undefined> {
    const row = await this.db.selectFrom('plans').selectAll().where('vendor_id', '=', vendorId).where('id', '=', id).executeTakeFirst();
    return row && toPlan(row);
  }

  async getPlanByName(vendorId: string, name: string): Promise<Plan | undefined> {
    const row = await this.db.selectFrom('plans').selectAll().where('vendor_id', '=', vendorId).where('name', '=', name).executeTakeFirst();
    return row && toPlan(row);
  }

  async listPlans(vendorId: string): Promise<Plan[]> {
    const rows = await this.db.selectFrom('plans').selectAll().where('vendor_id', '=', vendorId).orderBy('name').execute();
    return rows.map(toPlan);
  }

  async deletePlan(vendorId: string, id: string): Promise<void> {
    await this.db.deleteFrom('plans').where('vendor_id', '=', vendorId).where('id', '=', id).execute();
  }

  // licenses

  async insertLicense(l: License): Promise<void> {
    await this.db
      .insertInto('licenses')
      .values({
        id: l.id,
        vendor_id: l.vendorId,
        customer_id: l.customerId,
        name: l.name,
        plan_id: l.planId,
        repositories: json(l.repositories),
        tags: json(l.tags),
        valid_from: iso(l.validFrom),
        valid_until: isoOrNull(l.validUntil),
        status: l.status,
        created_at: iso(l.createdAt),
        updated_at: iso(l.updatedAt),
      })
      .execute();
  }

  async getLicense(vendorId: string, id: string): Promise<License | undefined> {
    const row = await this.db.selectFrom('licenses').selectAll().where('vendor_id', '=', vendorId).where('id', '=', id).executeTakeFirst();
    return row && toLicense(row);
  }

  async listLicenses(vendorId: string, filter: LicenseFilter = {}): Promise<License[]> {
    let q = this.db.selectFrom('licenses').selectAll().where('vendor_id', '=', vendorId);
    if (filter.customerId !== undefined) q = q.where('customer_id', '=', filter.customerId);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.planId !== undefined) q = q.where('plan_id', '=', filter.planId);
    if (filter.held !== undefined) q = q.where('held_since', filter.held ? 'is not' : 'is', null);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(toLicense);
  }

  async setLicenseStatus(vendorId: string, id: string, status: LicenseStatus, at: Date, hold = false): Promise<void> {
    await this.db
      .updateTable('licenses')
      .set({ status, updated_at: iso(at), held_since: hold ? iso(at) : null })
      .where('vendor_id', '=', vendorId).where('id', '=', id).execute();
  }

  // tokens

  async insertToken(t: StoredToken): Promise<void> {
    await this.db
      .insertInto('tokens')
      .values({
        id: t.id,
        type: t.type,
        vendor_id: t.vendorId,
        customer_id: t.customerId,
        name: t.name,
        secret_hash: t.secretHash,
        scopes: json(t.scopes),
        status: t.status,
        expires_at: isoOrNull(t.expiresAt),
        rate_limit: t.rateLimit,
        last_used_at: isoOrNull(t.lastUsedAt),
        last_used_ip: t.lastUsedIp,
        created_by: t.createdBy,
        created_at: iso(t.createdAt),
        updated_at: iso(t.updatedAt),
      })
      .execute();
  }

  async findTokenForAuth(id: string): Promise<StoredToken | undefined> {
    const row = await this.db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { ...toToken(row), secretHash: row.secret_hash };
  }

  async getToken(vendorId: string, id: string): Promise<Token | undefined> {
    const row = await this.db.selectFrom('tokens').selectAll().where('vendor_id', '=', vendorId).where('id', '=', id).executeTakeFirst();
    return row && toToken(row);
  }

  async listTokens(vendorId: string, filter: TokenFilter = {}): Promise<Token[]> {
    let q = this.db.selectFrom('tokens').selectAll().where('vendor_id', '=', vendorId);
    if (filter.type !== undefined) q = q.where('type', '=', filter.type);
    if (filter.customerId !== undefined) q = q.where('customer_id', '=', filter.customerId);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    if (filter.held !== undefined) q = q.where('held_since', filter.held ? 'is not' : 'is', null);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  }

  async setTokenStatus(vendorId: string, id: string, status: TokenStatus, at: Date, hold = false): Promise<void> {
    await this.db
      .updateTable('tokens')
      .set({ status, updated_at: iso(at), held_since: hold ? iso(at) : null })
      .where('vendor_id', '=', vendorId).where('id', '=', id).execute();
  }

  async recordLastUsed(batch: readonly LastUsed[]): Promise<void> {
    if (batch.length === 0) return;
    await this.transaction(async (tx) => {
      const db = (tx as KyselyStore).db;
      for (const u of batch) {
        const at = iso(u.at);
        await db
          .updateTable('tokens')
          .set({ last_used_at: at, last_used_ip: u.ip })
          .where('id', '=', u.tokenId)
          .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
          .execute();
      }
    }, { bookkeeping: true });
  }

  // users, sessions, invitations

  async insertUser(u: StoredUser): Promise<void> {
    await this.db
      .insertInto('users')
      .values({
        id: u.id,
        vendor_id: u.vendorId,
        email: u.email,
        role: u.role,
        status: u.status,
        password_hash: u.passwordHash,
        must_change_password: u.mustChangePassword ? 1 : 0,
        created_at: iso(u.createdAt),
        updated_at: iso(u.updatedAt),
        last_login_at: isoOrNull(u.lastLoginAt),
      })
      .execute();
  }

  async getUser(vendorId: string, id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('vendor_id', '=', vendorId).where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findUsersForAuth(email: string): Promise<StoredUser[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('email', '=', email).orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => ({ ...toUser(row), passwordHash: row.password_hash }));
  }

  async findUserByEmail(vendorId: string, email: string): Promise<StoredUser | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).where('vendor_id', '=', vendorId).executeTakeFirst();
    return row && { ...toUser(row), passwordHash: row.password_hash };
  }

  async listUsers(vendorId: string): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('vendor_id', '=', vendorId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toUser);
  }

  async updateUser(vendorId: string, id: string, changes: UserChanges, at: Date): Promise<void> {
    const set: Partial<UserRow> = { updated_at: iso(at) };
    if (changes.role !== undefined) set.role = changes.role;
    if (changes.status !== undefined) set.status = changes.status;
    if (changes.passwordHash !== undefined) set.password_hash = changes.passwordHash;
    if (changes.mustChangePassword !== undefined) set.must_change_password = changes.mustChangePassword ? 1 : 0;
    await this.db.updateTable('users').set(set).where('vendor_id', '=', vendorId).where('id', '=', id).execute();
  }

  async recordLogin(vendorId: string, id: string, at: Date): Promise<void> {
    await this.db.updateTable('users').set({ last_login_at: iso(at) }).where('vendor_id', '=', vendorId).where('id', '=', id).execute();
  }

  async deleteUser(vendorId: string, id: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const db = (tx as KyselyStore).db;
      const user = await db.selectFrom('users').select('id').where('vendor_id', '=', vendorId).where('id', '=', id).executeTakeFirst();
      if (!user) return false;
      await db.deleteFrom('sessions').where('user_id', '=', id).execute();
      await db.deleteFrom('invitations').where('user_id', '=', id).execute();
      await db.deleteFrom('users').where('id', '=', id).execute();
      return true;
    });
  }

  async insertSession(s: SessionRecord): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({ id: s.id, user_id: s.userId, vendor_id: s.vendorId, created_at: iso(s.createdAt), expires_at: iso(s.expiresAt), last_seen_at: iso(s.lastSeenAt) })
      .execute();
  }

  async findSessionForAuth(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSession(row);
  }

  async touchSession(id: string, at: Date): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: iso(at) }).where('id', '=', id).execute();
  }

  async deleteSession(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async deleteUserSessions(vendorId: string, userId: string, exceptId?: string): Promise<number> {
    let q = this.db.deleteFrom('sessions').where('vendor_id', '=', vendorId).where('user_id', '=', userId);
    if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async deleteExpiredSessions(before: Date): Promise<number> {
    const res = await this.db.deleteFrom('sessions').where('expires_at', '<=', iso(before)).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async insertInvitation(i: InvitationRecord): Promise<void> {
    await this.db
      .insertInto('invitations')
      .values({
        id: i.id,
        user_id: i.userId,
        vendor_id: i.vendorId,
        created_by: i.createdBy,
        created_at: iso(i.createdAt),
        expires_at: iso(i.expiresAt),
        used_at: isoOrNull(i.usedAt),
      })
      .execute();
  }

  async findInvitationForAuth(id: string): Promise<InvitationRecord | undefined> {
    const row = await this.db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toInvitation(row);
  }

  async useInvitation(id: string, at: Date): Promise<boolean> {
    const res = await this.db.updateTable('invitations').set({ used_at: iso(at) }).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  // audit

  async insertAudit(e: AuditEvent): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values({
        id: e.id,
        vendor_id: e.vendorId,
        at: iso(e.at),
        actor: e.actor,
        source: e.source,
        action: e.action,
        object_type: e.objectType,
        object_id: e.objectId,
        detail: json(e.detail),
      })
      .execute();
  }

  async listAudit(vendorId: string, filter: AuditFilter = {}): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll().where('vendor_id', '=', vendorId);
    if (filter.since) q = q.where('at', '>=', iso(filter.since));
    if (filter.objectId !== undefined) q = q.where('object_id', '=', filter.objectId);
    const direction = filter.newest || filter.descending ? 'desc' : 'asc';
    if (filter.after) q = q.where(afterCursor(filter.after, direction));
    const rows = await q.orderBy('at', direction).orderBy('id', direction).limit(filter.limit ?? 1000).execute();
    if (filter.newest && !filter.descending) rows.reverse();
    return rows.map(toAudit);
  }

  // registry metadata

  async putManifest(m: ManifestRecord): Promise<void> {
    await this.db
      .insertInto('registry_manifests')
      .values({
        repository: m.repository,
        digest: m.digest,
        media_type: m.mediaType,
        size: m.size,
        subject: m.subject,
        artifact_type: m.artifactType,
        annotations: m.annotations === null ? null : json(m.annotations),
        children: json(m.children),
        created_at: iso(m.createdAt),
      })
      .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
      .execute();
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const row = await this.db.selectFrom('registry_manifests').selectAll().where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
    return row && toManifest(row);
  }

  async listManifests(repository: string): Promise<ManifestRecord[]> {
    const rows = await this.db.selectFrom('registry_manifests').selectAll().where('repository', '=', repository).orderBy('digest').execute();
    return rows.map(toManifest);
  }

  async listReferrers(repository: string, subject: string): Promise<ManifestRecord[]> {
    const rows = await this.db
      .selectFrom('registry_manifests')
      .selectAll()
      .where('repository', '=', repository)
      .where('subject', '=', subject)
      .orderBy('digest')
      .execute();
    return rows.map(toManifest);
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const db = (tx as KyselyStore).db;
      await db.deleteFrom('registry_tags').where('repository', '=', repository).where('digest', '=', digest).execute();
      const res = await db.deleteFrom('registry_manifests').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  async setTag(repository: string, tag: string, digest: string, at: Date): Promise<string | undefined> {
    return this.transaction(async (tx) => {
      const db = (tx as KyselyStore).db;
      const prev = await db.selectFrom('registry_tags').select('digest').where('repository', '=', repository).where('tag', '=', tag).executeTakeFirst();
      await db
        .insertInto('registry_tags')
        .values({ repository, tag, digest, updated_at: iso(at) })
        .onConflict((oc) => oc.columns(['repository', 'tag']).doUpdateSet({ digest, updated_at: iso(at) }))
        .execute();
      return prev?.digest;
    });
  }

  async resolveTag(repository: string, tag: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('registry_tags').select('digest').where('repository', '=', repository).where('tag', '=', tag).executeTakeFirst();
    return row?.digest;
  }

  async listTags(repository: string): Promise<TagRecord[]> {
    return this.db.selectFrom('registry_tags').select(['tag', 'digest']).where('repository', '=', repository).orderBy('tag').execute();
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const res = await this.db.deleteFrom('registry_tags').where('repository', '=', repository).where('tag', '=', tag).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async linkBlob(repository: string, digest: string, size: number, at: Date): Promise<void> {
    await this.db
      .insertInto('registry_blobs')
      .values({ repository, digest, size, created_at: iso(at) })
      .onConflict((oc) => oc.columns(['repository', 'digest']).doUpdateSet({ created_at: iso(at) }))
      .execute();
  }

  async touchBlobLink(repository: string, digest: string, at: Date): Promise<{ size: number } | undefined> {
    const row = await this.db
      .updateTable('registry_blobs')
      .set({ created_at: iso(at) })
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .returning('size')
      .executeTakeFirst();
    return row && { size: Number(row.size) };
  }

  async getBlobLink(repository: string, digest: string): Promise<{ size: number } | undefined> {
    const row = await this.db.selectFrom('registry_blobs').select('size').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
    return row && { size: Number(row.size) };
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.db.deleteFrom('registry_blobs').where('repository', '=', repository).where('digest', '=', digest).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async listRepositories(): Promise<string[]> {
    const rows = await this.db.selectFrom('registry_manifests').select('repository').distinct().orderBy('repository').execute();
    return rows.map((r) => r.repository);
  }

  async registryReferences(): Promise<{ manifests: MarkManifest[]; links: MarkLink[] }> {
    const manifests = (await this.db.selectFrom('registry_manifests').select(['repository', 'digest', 'children']).execute()).map((r) => ({
      repository: r.repository,
      digest: r.digest,
      children: (JSON.parse(r.children) as ManifestRecord['children']).map((c) => c.digest),
    }));
    const links = (await this.db.selectFrom('registry_blobs').selectAll().execute()).map((r) => ({
      repository: r.repository,
      digest: r.digest,
      size: Number(r.size),
      linkedAt: date(r.created_at),
    }));
    return { manifests, links };
  }

  async dropStaleBlobLink(repository: string, digest: string, before: Date): Promise<boolean> {
    const res = await this.db
      .deleteFrom('registry_blobs')
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .where('created_at', '<', iso(before))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('registry_manifests')
              .select('registry_manifests.digest')
              .where('registry_manifests.repository', '=', repository)
              // Digests are [a-z0-9:] only, so a substring match on the JSON text cannot misfire.
              .where((m) => m.or([m('registry_manifests.digest', '=', digest), m('registry_manifests.children', 'like', `%"${digest}"%`)])),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async isDigestReferenced(digest: string): Promise<boolean> {
    const linked = await this.db.selectFrom('registry_blobs').select('digest').where('digest', '=', digest).limit(1).executeTakeFirst();
    if (linked) return true;
    const manifest = await this.db
      .selectFrom('registry_manifests')
      .select('digest')
      // Digests are [a-z0-9:] only, so a substring match on the JSON text cannot misfire.
      .where((eb) => eb.or([eb('digest', '=', digest), eb('children', 'like', `%"${digest}"%`)]))
      .limit(1)
      .executeTakeFirst();
    return manifest !== undefined;
  }

  // expiry warnings

  async listExpiryWarnings(endsAfter: Date): Promise<ExpiryWarningRecord[]> {
    const rows = await this.db.selectFrom('expiry_warnings').selectAll().where('ends_at', '>', iso(endsAfter)).orderBy('ends_at').orderBy('object_id').execute();
    return rows.map((r) => ({
      objectType: r.object_type as ExpiryWarningRecord['objectType'],
      objectId: r.object_id,
      vendorId: r.vendor_id,
      endsAt: date(r.ends_at),
      claimedAt: date(r.claimed_at),
      sentAt: dateOrNull(r.sent_at),
    }));
  }

  async claimExpiryWarning(w: Pick<ExpiryWarningRecord, 'objectType' | 'objectId' | 'vendorId' | 'endsAt'>, at: Date, staleBefore: Date): Promise<boolean> {
    const inserted = await this.db
      .insertInto('expiry_warnings')
      .values({ object_type: w.objectType, object_id: w.objectId, vendor_id: w.vendorId, ends_at: iso(w.endsAt), claimed_at: iso(at), sent_at: null })
      .onConflict((oc) => oc.columns(['object_id', 'ends_at']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return true;
    // One conditional update: of two rounds taking over the same stale claim, only one matches.
    const taken = await this.db
      .updateTable('expiry_warnings')
      .set({ claimed_at: iso(at) })
      .where('object_id', '=', w.objectId)
      .where('ends_at', '=', iso(w.endsAt))
      .where('sent_at', 'is', null)
      .where('claimed_at', '<', iso(staleBefore))
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) > 0;
  }

  async markExpiryWarningSent(objectId: string, endsAt: Date, at: Date): Promise<void> {
    await this.db.updateTable('expiry_warnings').set({ sent_at: iso(at) }).where('object_id', '=', objectId).where('ends_at', '=', iso(endsAt)).execute();
  }

  async releaseExpiryWarning(objectId: string, endsAt: Date): Promise<void> {
    await this.db.deleteFrom('expiry_warnings').where('object_id', '=', objectId).where('ends_at', '=', iso(endsAt)).where('sent_at', 'is', null).execute();
  }

  // usage

  async insertUsage(batch: readonly UsageEvent[]): Promise<void> {
    if (batch.length === 0) return;
    await this.transaction(async (tx) => {
      const db = (tx as KyselyStore).db;
      for (const e of batch) {
        // Replaying a journal after a crash must not count a pull twice.
        await db.insertInto('usage_events').values(usageRow(e)).onConflict((oc) => oc.column('id').doNothing()).execute();
      }
    }, { bookkeeping: true });
  }

  async listUsage(vendorId: string, filter: UsageFilter = {}): Promise<UsageEvent[]> {
    let q = this.db.selectFrom('usage_events').selectAll().where('vendor_id', '=', vendorId);
    if (filter.since) q = q.where('at', '>=', iso(filter.since));
    if (filter.customerId !== undefined) q = q.where('customer_id', '=', filter.customerId);
    if (filter.repository !== undefined) q = q.where('repository', '=', filter.repository);
    const direction = filter.descending ? 'desc' : 'asc';
    if (filter.after) q = q.where(afterCursor(filter.after, direction));
    const rows = await q.orderBy('at', direction).orderBy('id', direction).limit(filter.limit ?? 100_000).execute();
    return rows.map(toUsage);
  }
}

/** Rows strictly past the cursor in (at, id) order, either way. */
function afterCursor(cursor: EventCursor, direction: 'asc' | 'desc') {
  const op = direction === 'asc' ? '>' : '<';
  const at = iso(cursor.at);
  return (eb: ExpressionBuilder<Database, 'audit_events' | 'usage_events'>) =>
    eb.or([eb('at', op, at), eb.and([eb('at', '=', at), eb('id', op, cursor.id)])]);
}

function toManifest(r: Selectable<RegistryManifestRow>): ManifestRecord {
  return {
    repository: r.repository,
    digest: r.digest,
    mediaType: r.media_type,
    size: Number(r.size),
    subject: r.subject,
    artifactType: r.artifact_type,
    annotations: r.annotations === null ? null : (JSON.parse(r.annotations) as Record<string, string>),
    children: JSON.parse(r.children) as ManifestRecord['children'],
    createdAt: date(r.created_at),
  };
}

function usageRow(e: UsageEvent): UsageEventRow {
  return {
    id: e.id,
    at: iso(e.at),
    vendor_id: e.vendorId,
    token_id: e.tokenId,
    customer_id: e.customerId,
    action: e.action,
    repository: e.repository,
    tag: e.tag,
    digest: e.digest,
    ip: e.ip,
    user_agent: e.userAgent,
  };
}

function toUsage(r: Selectable<UsageEventRow>): UsageEvent {
  return {
    id: r.id,
    at: date(r.at),
    vendorId: r.vendor_id,
    tokenId: r.token_id,
    customerId: r.customer_id,
    action: r.action === 'push' ? 'push' : 'pull',
    repository: r.repository,
    tag: r.tag,
    digest: r.digest,
    ip: r.ip,
    userAgent: r.user_agent,
  };
}

function toVendor(r: Selectable<VendorRow>): Vendor {
  return { id: r.id, name: r.name, namespaces: list(r.namespaces), isOperator: Number(r.is_operator) === 1, createdAt: date(r.created_at) };
}

function customerRow(c: Customer): CustomerRow {
  return {
    id: c.id,
    vendor_id: c.vendorId,
    name: c.name,
    contact: c.contact,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    deleted_at: isoOrNull(c.deletedAt),
  };
}

function toCustomer(r: Selectable<CustomerRow>): Customer {
  return {
    id: r.id,
    vendorId: r.vendor_id,
    name: r.name,
    contact: r.contact,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    deletedAt: dateOrNull(r.deleted_at),
  };
}

function toPlan(r: Selectable<PlanRow>): Plan {
  return {
    id: r.id,
    vendorId: r.vendor_id,
    name: r.name,
    description: r.description,
    repositories: list(r.repositories),
    actions: list(r.actions) as PlanAction[],
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

function toLicense(r: Selectable<LicenseRow>): License {
  return {
    id: r.id,
    vendorId: r.vendor_id,
    customerId: r.customer_id,
    name: r.name,
    planId: r.plan_id,
    repositories: list(r.repositories),
    tags: list(r.tags),
    validFrom: date(r.valid_from),
    validUntil: dateOrNull(r.valid_until),
    status: r.status as LicenseStatus,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

function toToken(r: Selectable<TokenRow>): Token {
  return {
    id: r.id,
    type: r.type as TokenType,
    vendorId: r.vendor_id,
    customerId: r.customer_id,
    name: r.name,
    scopes: list(r.scopes),
    status: r.status as TokenStatus,
    expiresAt: dateOrNull(r.expires_at),
    rateLimit: r.rate_limit === null ? null : Number(r.rate_limit),
    lastUsedAt: dateOrNull(r.last_used_at),
    lastUsedIp: r.last_used_ip,
    createdBy: r.created_by,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

function toUser(r: Selectable<UserRow>): User {
  return {
    id: r.id,
    vendorId: r.vendor_id,
    email: r.email,
    role: r.role as UserRole,
    status: r.status as UserStatus,
    mustChangePassword: Number(r.must_change_password) === 1,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    lastLoginAt: dateOrNull(r.last_login_at),
  };
}

function toSession(r: Selectable<SessionRow>): SessionRecord {
  return { id: r.id, userId: r.user_id, vendorId: r.vendor_id, createdAt: date(r.created_at), expiresAt: date(r.expires_at), lastSeenAt: date(r.last_seen_at) };
}

function toInvitation(r: Selectable<InvitationRow>): InvitationRecord {
  return {
    id: r.id,
    userId: r.user_id,
    vendorId: r.vendor_id,
    createdBy: r.created_by,
    createdAt: date(r.created_at),
    expiresAt: date(r.expires_at),
    usedAt: dateOrNull(r.used_at),
  };
}

function toAudit(r: Selectable<AuditEventRow>): AuditEvent {
  return {
    id: r.id,
    vendorId: r.vendor_id,
    at: date(r.at),
    actor: r.actor,
    source: r.source,
    action: r.action,
    objectType: r.object_type as AuditEvent['objectType'],
    objectId: r.object_id,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}
