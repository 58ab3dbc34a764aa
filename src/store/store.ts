import type { AuditEvent, Customer, License, LicenseStatus, Plan, Token, TokenStatus, Vendor } from '../core/model.js';
import type { TokenType } from '../core/token-format.js';

/** A token as the store keeps it: the domain token plus the HMAC of its secret. */
export interface StoredToken extends Token {
  secretHash: string;
}

export interface TokenFilter {
  type?: TokenType;
  customerId?: string;
  status?: TokenStatus;
}

export interface LicenseFilter {
  customerId?: string;
  status?: LicenseStatus;
  planId?: string;
}

export interface AuditFilter {
  since?: Date;
  objectId?: string;
  limit?: number;
  /** With a limit: the latest events (still listed oldest first) instead of the earliest. */
  newest?: boolean;
}

export interface LastUsed {
  tokenId: string;
  at: Date;
  ip: string;
}

/**
 * The repository interface every storage backend implements. Methods that take a
 * vendorId only ever see that vendor's rows: tenancy is enforced here, not by
 * callers remembering to filter.
 */
export interface Store {
  /** Runs fn in one transaction: all of its writes land, or none. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  close(): Promise<void>;

  insertVendor(v: Vendor): Promise<void>;
  getVendor(id: string): Promise<Vendor | undefined>;
  getVendorByName(name: string): Promise<Vendor | undefined>;
  getOperatorVendor(): Promise<Vendor | undefined>;
  listVendors(): Promise<Vendor[]>;

  insertCustomer(c: Customer): Promise<void>;
  /** Deleted customers are not found unless includeDeleted. */
  getCustomer(vendorId: string, id: string, includeDeleted?: boolean): Promise<Customer | undefined>;
  getCustomerByName(vendorId: string, name: string): Promise<Customer | undefined>;
  listCustomers(vendorId: string): Promise<Customer[]>;
  updateCustomer(c: Customer): Promise<void>;

  insertPlan(p: Plan): Promise<void>;
  getPlan(vendorId: string, id: string): Promise<Plan | undefined>;
  getPlanByName(vendorId: string, name: string): Promise<Plan | undefined>;
  listPlans(vendorId: string): Promise<Plan[]>;
  deletePlan(vendorId: string, id: string): Promise<void>;

  insertLicense(l: License): Promise<void>;
  getLicense(vendorId: string, id: string): Promise<License | undefined>;
  listLicenses(vendorId: string, filter?: LicenseFilter): Promise<License[]>;
  setLicenseStatus(vendorId: string, id: string, status: LicenseStatus, at: Date): Promise<void>;

  insertToken(t: StoredToken): Promise<void>;
  /** Any vendor's token, by username: for authentication only. */
  findTokenForAuth(id: string): Promise<StoredToken | undefined>;
  getToken(vendorId: string, id: string): Promise<Token | undefined>;
  listTokens(vendorId: string, filter?: TokenFilter): Promise<Token[]>;
  setTokenStatus(vendorId: string, id: string, status: TokenStatus, at: Date): Promise<void>;
  /** Applies a batch of last-used observations; an older observation never overwrites a newer one. */
  recordLastUsed(batch: readonly LastUsed[]): Promise<void>;

  insertAudit(e: AuditEvent): Promise<void>;
  listAudit(vendorId: string, filter?: AuditFilter): Promise<AuditEvent[]>;
}
