import type { UserRole } from './roles.js';
import type { TokenType } from './token-format.js';

/** The domain objects as every layer sees them. Times are Dates; lists are arrays. */

export interface Vendor {
  id: string;
  name: string;
  /** Repository patterns this vendor owns; its vendor tokens push and pull only there. */
  namespaces: string[];
  /** The first vendor, created on first start, runs the instance. */
  isOperator: boolean;
  createdAt: Date;
}

export interface Customer {
  id: string;
  vendorId: string;
  name: string;
  contact: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Set when deleted: the row stays so its revoked tokens and licenses keep an owner. */
  deletedAt: Date | null;
}

export const LICENSE_STATUSES = ['active', 'suspended', 'revoked'] as const;
export type LicenseStatus = (typeof LICENSE_STATUSES)[number];

export interface License {
  id: string;
  vendorId: string;
  customerId: string;
  name: string | null;
  /** Either repository patterns or a plan (whose patterns then apply), never neither. */
  repositories: string[];
  planId: string | null;
  /** Empty: every tag. */
  tags: string[];
  validFrom: Date;
  /** null: no end. */
  validUntil: Date | null;
  status: LicenseStatus;
  createdAt: Date;
  updatedAt: Date;
}

export const PLAN_ACTIONS = ['pull', 'push', 'delete'] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

export interface Plan {
  id: string;
  vendorId: string;
  name: string;
  description: string | null;
  repositories: string[];
  actions: PlanAction[];
  createdAt: Date;
  updatedAt: Date;
}

export const TOKEN_STATUSES = ['active', 'disabled', 'revoked'] as const;
export type TokenStatus = (typeof TOKEN_STATUSES)[number];

export interface Token {
  /** The username, e.g. ctok_7f3k2q9x1m4p8z6c. Not secret. */
  id: string;
  type: TokenType;
  vendorId: string;
  customerId: string | null;
  name: string;
  scopes: string[];
  status: TokenStatus;
  expiresAt: Date | null;
  /** Requests per hour; null: the configured default. */
  rateLimit: number | null;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export const USER_STATUSES = ['active', 'invited', 'disabled'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** A dashboard login of one vendor. Its password hash stays in the store (StoredUser). */
export interface User {
  id: string;
  vendorId: string;
  /** Normalized (src/core/email-address.ts); unique within the vendor (migration 0007), so one address may have a user in several vendors. */
  email: string;
  role: UserRole;
  /** invited: has not set a password yet; disabled: cannot log in until enabled. */
  status: UserStatus;
  /** Set after a temporary password: the user must choose its own before anything else. */
  mustChangePassword: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

/** Who did something: a token, a dashboard user, a CLI user on the host, or the system itself. */
export interface Actor {
  /** e.g. `vtok_…`, `user:ann@example.com`, `cli:root`, `system`. */
  name: string;
  /** Where from: an IP address, `cli@hostname`, `system`. */
  source: string;
}

export interface AuditEvent {
  id: string;
  vendorId: string;
  at: Date;
  actor: string;
  source: string;
  /** e.g. `token.create`, `license.suspend`. */
  action: string;
  objectType: 'vendor' | 'customer' | 'license' | 'plan' | 'token' | 'key' | 'user';
  objectId: string;
  /** What changed, never a secret. */
  detail: Record<string, unknown>;
}

/** A manifest stored in a repository of the built-in registry. */
export interface ManifestRecord {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  /** The manifest this one refers to (signatures, SBOMs): the referrers API. */
  subject: string | null;
  artifactType: string | null;
  annotations: Record<string, string> | null;
  /** Index entries (manifests), config and layers (blobs). */
  children: { digest: string; kind: 'manifest' | 'blob' }[];
  createdAt: Date;
}

export interface TagRecord {
  tag: string;
  digest: string;
}

/** One manifest pull or push, for the usage log. */
export interface UsageEvent {
  id: string;
  at: Date;
  vendorId: string;
  tokenId: string;
  customerId: string | null;
  action: 'pull' | 'push';
  repository: string;
  tag: string | null;
  digest: string;
  ip: string;
  userAgent: string;
}
