import { roleScopes, type UserRole } from './roles.js';
import { ADMIN_AREAS, hasScope, type Scope } from './vendor-scopes.js';

/**
 * What one caller may do, whoever it is: a vendor token, a signed-in
 * dashboard user, or the CLI on the instance's own data dir. Every rule about
 * who may act is written against this, never against the kind of caller, so
 * a token and a session with the same scopes are judged the same.
 */
export interface Authority {
  kind: 'token' | 'session' | 'local';
  vendorId: string;
  /** The caller's vendor is the instance operator: its namespaces reach every repository. */
  operator: boolean;
  /** Repository patterns the vendor owns; the reach of `pull` and `push`. */
  namespaces: readonly string[];
  /** `pull`, `push`, `admin:<area>:<read|write|*>`: what the caller holds. */
  scopes: readonly Scope[];
  /** A signed-in user's role, from which its scopes come. */
  role?: UserRole;
  /** A signed-in user's id: so that rules can tell a change to oneself. */
  userId?: string;
}

interface VendorReach {
  id: string;
  isOperator: boolean;
  namespaces: readonly string[];
}

export function tokenAuthority(token: { scopes: readonly Scope[] }, vendor: VendorReach): Authority {
  return { kind: 'token', vendorId: vendor.id, operator: vendor.isOperator, namespaces: vendor.namespaces, scopes: token.scopes };
}

export function sessionAuthority(user: { id: string; role: UserRole }, vendor: VendorReach): Authority {
  return { kind: 'session', vendorId: vendor.id, operator: vendor.isOperator, namespaces: vendor.namespaces, scopes: roleScopes(user.role), role: user.role, userId: user.id };
}

/** Whoever can read the data dir runs the instance: an owner of the vendor it acts for. */
export function localAuthority(vendor: VendorReach): Authority {
  return { kind: 'local', vendorId: vendor.id, operator: vendor.isOperator, namespaces: vendor.namespaces, scopes: roleScopes('owner') };
}

/**
 * Whether the authority holds everything `wanted` gives, wildcards spelled
 * out: `admin:*:read` is every area's read, `admin:tokens:*` both levels.
 * `admin:*:*` ⊇ `admin:<area>:write` ⊇ `admin:<area>:read`. `push` does not
 * imply `pull`: they are separate grants, on tokens as on `/token`.
 */
export function holds(scopes: readonly Scope[], wanted: Scope): boolean {
  if (wanted === 'pull' || wanted === 'push') return hasScope(scopes, wanted);
  const [, area = '', access = ''] = wanted.split(':');
  const areas = area === '*' ? ADMIN_AREAS : [area];
  const levels = access === '*' ? ['read', 'write'] : [access];
  return areas.every((a) => levels.every((l) => hasScope(scopes, `admin:${a}:${l}`)));
}

/** The scopes of `wanted` that `scopes` does not hold; empty: `wanted` is a subset. */
export function scopesBeyond(scopes: readonly Scope[], wanted: readonly Scope[]): Scope[] {
  return wanted.filter((s) => !holds(scopes, s));
}

/** An owner, or a token or local caller holding every admin scope: what only an owner may do, it may. */
export function isOwnerLevel(authority: Authority): boolean {
  return holds(authority.scopes, 'admin:*:*');
}
