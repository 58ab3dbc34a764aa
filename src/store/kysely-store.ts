import { Migrator, type Kysely, type Selectable } from 'kysely';
import type { AuditEvent, Customer, License, LicenseStatus, Plan, PlanAction, Token, TokenStatus, Vendor } from '../core/model.js';
import type { TokenType } from '../core/token-format.js';
import { migrationProvider } from './migrations/index.js';
import type { AuditEventRow, CustomerRow, Database, LicenseRow, PlanRow, TokenRow, VendorRow } from './schema.js';
import type { AuditFilter, LastUsed, LicenseFilter, Store, StoredToken, TokenFilter } from './store.js';

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);
const date = (s: string) => new Date(s);
const dateOrNull = (s: string | null) => (s === null ? null : new Date(s));
const json = (v: unknown) => JSON.stringify(v);
const list = (s: string) => JSON.parse(s) as string[];

/**
 * The store over Kysely. Dialect differences stay in the code that builds the
 * Kysely instance; everything here is portable SQL.
 */
export class KyselyStore implements Store {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly inTransaction = false,
  ) {}

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.db.transaction().execute((trx) => fn(new KyselyStore(trx, true)));
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider, migrationTableName: 'schema_migrations', migrationLockTableName: 'schema_migrations_lock' });
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
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(toLicense);
  }

  async setLicenseStatus(vendorId: string, id: string, status: LicenseStatus, at: Date): Promise<void> {
    await this.db.updateTable('licenses').set({ status, updated_at: iso(at) }).where('vendor_id', '=', vendorId).where('id', '=', id).execute();
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
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  }

  async setTokenStatus(vendorId: string, id: string, status: TokenStatus, at: Date): Promise<void> {
    await this.db.updateTable('tokens').set({ status, updated_at: iso(at) }).where('vendor_id', '=', vendorId).where('id', '=', id).execute();
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
    });
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
    const direction = filter.newest ? 'desc' : 'asc';
    const rows = await q.orderBy('at', direction).orderBy('id', direction).limit(filter.limit ?? 1000).execute();
    if (filter.newest) rows.reverse();
    return rows.map(toAudit);
  }
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
