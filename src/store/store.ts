import type { AuditEvent, Customer, License, LicenseStatus, ManifestRecord, Plan, TagRecord, Token, TokenStatus, UsageEvent, User, UserStatus, Vendor } from '../core/model.js';
import type { UserRole } from '../core/roles.js';
import type { ExpiryWarningRecord } from '../core/expiry-warnings.js';
import type { MarkLink, MarkManifest } from '../core/registry-mark.js';
import type { TokenType } from '../core/token-format.js';

/** A token as the store keeps it: the domain token plus the HMAC of its secret. */
export interface StoredToken extends Token {
  secretHash: string;
}

/** A user as the store keeps it: the domain user plus its password hash (null while invited). */
export interface StoredUser extends User {
  passwordHash: string | null;
}

/** What updateUser may change; absent fields stay as they are. */
export interface UserChanges {
  role?: UserRole;
  status?: UserStatus;
  passwordHash?: string | null;
  mustChangePassword?: boolean;
}

/** A dashboard login session; the cookie holds its secret, the store only the secret's HMAC (id). */
export interface SessionRecord {
  id: string;
  userId: string;
  vendorId: string;
  createdAt: Date;
  expiresAt: Date;
  lastSeenAt: Date;
}

/** An invitation link; the store holds the HMAC of its token (id) only. */
export interface InvitationRecord {
  id: string;
  userId: string;
  vendorId: string;
  /** The actor who invited. */
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

export interface TokenFilter {
  type?: TokenType;
  customerId?: string;
  status?: TokenStatus;
  /** Only those a customer-wide suspend holds (see setTokenStatus). */
  held?: boolean;
}

export interface LicenseFilter {
  customerId?: string;
  status?: LicenseStatus;
  planId?: string;
  /** Only those a customer-wide suspend holds (see setLicenseStatus). */
  held?: boolean;
}

/** A keyset position in an event listing: the listing continues after this event, in its own order. */
export interface EventCursor {
  at: Date;
  id: string;
}

export interface AuditFilter {
  since?: Date;
  objectId?: string;
  limit?: number;
  /** With a limit: the latest events (still listed oldest first) instead of the earliest. */
  newest?: boolean;
  /** Newest first; `after` then continues towards older events. */
  descending?: boolean;
  after?: EventCursor;
}

export interface UsageFilter {
  since?: Date;
  customerId?: string;
  repository?: string;
  limit?: number;
  descending?: boolean;
  after?: EventCursor;
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
  /**
   * Runs fn in one transaction: all of its writes land, or none. `bookkeeping`:
   * it writes nothing a cached access decision reads (usage records, last-used
   * times), so caches are not told of it.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>, options?: { bookkeeping?: boolean }): Promise<T>;
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * A value that changes whenever a write may have been committed, by this
   * process or another one sharing the database: caches keyed on it are
   * dropped on the next request after a revoke made anywhere.
   */
  changeMarker(): Promise<string>;
  /** The part of changeMarker() this process makes itself: it moves when one of its transactions starts or ends. Free to read. */
  localChangeMarker(): string;
  /** Runs after each transaction of this process commits, before transaction() returns (a change feed announces it). */
  onCommit(listener: () => Promise<void>): void;

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
  /**
   * hold marks the change as made by a customer-wide suspend, which resume
   * undoes; any change without it clears the mark, so resume never touches a
   * license someone changed on its own since.
   */
  setLicenseStatus(vendorId: string, id: string, status: LicenseStatus, at: Date, hold?: boolean): Promise<void>;

  insertToken(t: StoredToken): Promise<void>;
  /** Any vendor's token, by username: for authentication only. */
  findTokenForAuth(id: string): Promise<StoredToken | undefined>;
  getToken(vendorId: string, id: string): Promise<Token | undefined>;
  listTokens(vendorId: string, filter?: TokenFilter): Promise<Token[]>;
  /** hold: as for setLicenseStatus. */
  setTokenStatus(vendorId: string, id: string, status: TokenStatus, at: Date, hold?: boolean): Promise<void>;
  /** Applies a batch of last-used observations; an older observation never overwrites a newer one. */
  recordLastUsed(batch: readonly LastUsed[]): Promise<void>;

  insertUser(u: StoredUser): Promise<void>;
  getUser(vendorId: string, id: string): Promise<User | undefined>;
  /**
   * Every vendor's users with this normalized e-mail address, with their
   * password hashes, oldest first: for logging in only (one person may hold
   * accounts in several vendors).
   */
  findUsersForAuth(email: string): Promise<StoredUser[]>;
  /** The vendor's user with this normalized e-mail address (unique within a vendor), with its password hash. */
  findUserByEmail(vendorId: string, email: string): Promise<StoredUser | undefined>;
  /** In creation order. */
  listUsers(vendorId: string): Promise<User[]>;
  /** Applies the changes and sets updated_at. */
  updateUser(vendorId: string, id: string, changes: UserChanges, at: Date): Promise<void>;
  /** A successful login; not a change of the user, so updated_at stays. */
  recordLogin(vendorId: string, id: string, at: Date): Promise<void>;
  /** Deletes the user with its sessions and invitations; false when there was no such user. */
  deleteUser(vendorId: string, id: string): Promise<boolean>;

  insertSession(s: SessionRecord): Promise<void>;
  /** Any vendor's session, by the HMAC of its secret: for authentication only. */
  findSessionForAuth(id: string): Promise<SessionRecord | undefined>;
  touchSession(id: string, at: Date): Promise<void>;
  deleteSession(id: string): Promise<boolean>;
  /** Ends every session of the user, but `exceptId` when given; answers how many ended. */
  deleteUserSessions(vendorId: string, userId: string, exceptId?: string): Promise<number>;
  /** Sessions that ended before `before`; answers how many were removed. */
  deleteExpiredSessions(before: Date): Promise<number>;

  insertInvitation(i: InvitationRecord): Promise<void>;
  /** Any vendor's invitation, by the HMAC of its token: for the link's holder, who has no other credential. */
  findInvitationForAuth(id: string): Promise<InvitationRecord | undefined>;
  /** Marks an unused invitation used; false when it was used already (one of two racing accepts loses). */
  useInvitation(id: string, at: Date): Promise<boolean>;

  insertAudit(e: AuditEvent): Promise<void>;
  listAudit(vendorId: string, filter?: AuditFilter): Promise<AuditEvent[]>;

  // Built-in registry metadata. Repositories are not vendor rows: a name's
  // namespace decides whose it is, and decide() checks that on every request.
  /** Stores a manifest once; storing the same digest again changes nothing. */
  putManifest(m: ManifestRecord): Promise<void>;
  getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  listManifests(repository: string): Promise<ManifestRecord[]>;
  listReferrers(repository: string, subject: string): Promise<ManifestRecord[]>;
  /** Deletes the manifest and every tag pointing at it. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  /** Points a tag at a digest; returns the digest it pointed at before, if any. */
  setTag(repository: string, tag: string, digest: string, at: Date): Promise<string | undefined>;
  resolveTag(repository: string, tag: string): Promise<string | undefined>;
  /** Sorted by tag. */
  listTags(repository: string): Promise<TagRecord[]>;
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Links a blob into a repository, or marks an existing link as made again at `at` (a re-upload, a mount). */
  linkBlob(repository: string, digest: string, size: number, at: Date): Promise<void>;
  getBlobLink(repository: string, digest: string): Promise<{ size: number } | undefined>;
  /** getBlobLink for a manifest being pushed: also marks the link as used at `at`, so that gc leaves it alone. */
  touchBlobLink(repository: string, digest: string, at: Date): Promise<{ size: number } | undefined>;
  unlinkBlob(repository: string, digest: string): Promise<boolean>;
  /** Repositories holding at least one manifest, sorted. */
  listRepositories(): Promise<string[]>;
  /** Every manifest and blob link of the registry, for gc's mark phase (markRegistry). */
  registryReferences(): Promise<{ manifests: MarkManifest[]; links: MarkLink[] }>;
  /**
   * Drops a link made before `before` unless a manifest of its repository
   * references the blob, in one statement: a push that touched the link or
   * stored such a manifest since gc's mark keeps it. False when kept.
   */
  dropStaleBlobLink(repository: string, digest: string, before: Date): Promise<boolean>;
  /** Whether a manifest or a link anywhere references the digest now: gc's last check before it deletes. */
  isDigestReferenced(digest: string): Promise<boolean>;

  // Expiry warnings are instance-wide, like the registry metadata: the
  // notifier works for every vendor, and each record names its vendor.
  /** Warnings on record (sent or claimed) for ends after `endsAfter`, soonest first. */
  listExpiryWarnings(endsAfter: Date): Promise<ExpiryWarningRecord[]>;
  /**
   * Claims a warning before it is sent: true when this caller may send it. The
   * (object, end) key makes one caller win across instances; a claim older
   * than staleBefore that was never marked sent is taken over (its sender died).
   */
  claimExpiryWarning(w: Pick<ExpiryWarningRecord, 'objectType' | 'objectId' | 'vendorId' | 'endsAt'>, at: Date, staleBefore: Date): Promise<boolean>;
  markExpiryWarningSent(objectId: string, endsAt: Date, at: Date): Promise<void>;
  /** Drops an unsent claim so the next round tries again; a sent warning stays. */
  releaseExpiryWarning(objectId: string, endsAt: Date): Promise<void>;

  insertUsage(batch: readonly UsageEvent[]): Promise<void>;
  /** Oldest first. */
  listUsage(vendorId: string, filter?: UsageFilter): Promise<UsageEvent[]>;
}
