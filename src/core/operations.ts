import { isOwnerLevel, holds, scopesBeyond, type Authority } from './authority.js';
import { PortcullisError } from './errors.js';
import { roleScopes, type UserRole } from './roles.js';
import type { Scope } from './vendor-scopes.js';

/**
 * Who may do what: every operation of the admin surfaces, with what it
 * needs. One table for every caller (token, dashboard session, the local
 * CLI), enforced by the services, so every surface passes through it.
 * docs/authority.md is this table in prose; test/http/authority.test.ts runs
 * it against every route the app registers.
 *
 * level:
 * - member: the scope is enough;
 * - operator: the scope, held in the operator vendor;
 * - owner: the scope and owner-level authority (an owner, or admin:*:*);
 * - operator-owner: owner-level authority in the operator vendor, the instance's superuser.
 */
export type Level = 'member' | 'operator' | 'owner' | 'operator-owner';

export interface OperationRule {
  scope: Scope;
  level: Level;
  what: string;
}

const rule = (scope: Scope, what: string, level: Level = 'member'): OperationRule => ({ scope, level, what });

export const OPERATIONS = {
  'tokens.read': rule('admin:tokens:read', 'list and show tokens'),
  'tokens.create': rule('admin:tokens:write', 'create a token, with no scope the caller does not hold'),
  'tokens.change': rule('admin:tokens:write', 'disable, enable or revoke a token'),
  'customers.read': rule('admin:customers:read', 'list and show customers'),
  'customers.write': rule('admin:customers:write', 'create and change customers; suspend, resume or revoke all of one'),
  'licenses.read': rule('admin:licenses:read', 'list, show and preview licenses; explain a decision'),
  'licenses.write': rule('admin:licenses:write', 'create licenses, suspend, resume and revoke them'),
  'plans.read': rule('admin:plans:read', 'list and show plans'),
  'plans.write': rule('admin:plans:write', 'create and change plans'),
  'users.read': rule('admin:users:read', 'list and show dashboard users'),
  'users.write': rule('admin:users:write', 'create, invite, change and delete users, giving no role beyond the caller\'s own scopes'),
  'users.owner': rule('admin:users:write', 'give, change or remove the owner role', 'owner'),
  'vendors.read': rule('admin:vendors:read', 'show the own vendor; the operator sees every vendor'),
  'vendors.create': rule('admin:vendors:write', 'create a vendor', 'operator-owner'),
  'vendors.other': rule('admin:users:write', 'act in another vendor (add its first users)', 'operator-owner'),
  'keys.manage': rule('admin:config:write', 'list, rotate and certify signing keys', 'operator-owner'),
  'gc.run': rule('admin:config:write', 'collect unreferenced registry data', 'operator-owner'),
  'audit.read': rule('admin:audit:read', 'read the audit log'),
  'usage.read': rule('admin:usage:read', 'read pull statistics and export them'),
  'metrics.read': rule('admin:metrics:read', 'scrape /metrics', 'operator'),
} as const satisfies Record<string, OperationRule>;

export type Operation = keyof typeof OPERATIONS;

function levelMet(authority: Authority, level: Level): boolean {
  if (level === 'member') return true;
  if (level === 'operator') return authority.operator;
  if (level === 'owner') return isOwnerLevel(authority);
  return authority.operator && isOwnerLevel(authority);
}

/** What each level beyond member asks for, in words: for refusals and the API document alike. */
export const LEVEL_NEEDS: Record<Exclude<Level, 'member'>, string> = {
  operator: 'the operator vendor',
  owner: 'owner-level authority (an owner, or a token with admin:*:*)',
  'operator-owner': 'owner-level authority of the operator vendor',
};

/** Whether the authority may perform the operation; `why` says what it lacks. */
export function check(authority: Authority, operation: Operation): { ok: true } | { ok: false; why: string } {
  const { scope, level } = OPERATIONS[operation];
  if (!holds(authority.scopes, scope)) return { ok: false, why: `${describe(authority)} lacks the ${scope} scope` };
  if (!levelMet(authority, level)) {
    return { ok: false, why: `to ${OPERATIONS[operation].what} needs ${LEVEL_NEEDS[level as Exclude<Level, 'member'>]}` };
  }
  return { ok: true };
}

/** Throws `denied` unless the authority may perform the operation. */
export function authorize(authority: Authority, operation: Operation): void {
  const verdict = check(authority, operation);
  if (!verdict.ok) throw new PortcullisError('denied', verdict.why);
}

function describe(authority: Authority): string {
  if (authority.kind === 'session') return `the ${authority.role ?? 'user'} role`;
  return authority.kind === 'token' ? 'this token' : 'this caller';
}

/**
 * A new token holds no scope its maker does not. A vendor token of the
 * operator reaches every namespace with `pull` and `push`, so only
 * owner-level callers of the operator mint those. A customer token's reach is
 * its customer's licenses (managed under admin:licenses), so it needs no
 * registry scope of its maker.
 */
export function authorizeMint(authority: Authority, type: 'vendor' | 'customer', scopes: readonly Scope[]): void {
  authorize(authority, 'tokens.create');
  if (type === 'customer') return;
  const beyond = scopesBeyond(authority.scopes, scopes);
  if (beyond.length > 0) throw new PortcullisError('denied', `${describe(authority)} cannot give scopes it does not hold: ${beyond.join(', ')}`);
  if (authority.operator && scopes.some((s) => s === 'pull' || s === 'push') && !isOwnerLevel(authority)) {
    throw new PortcullisError('denied', 'only owner-level callers of the operator vendor mint tokens with pull or push: the operator\'s tokens reach every namespace');
  }
}

/**
 * Giving a role is granting its scopes: the caller must hold every one of
 * them (whoever sets a password could log in as the user), and the owner role
 * needs owner-level authority. Changing or removing a user needs owner-level
 * authority when that user is an owner. So an admin touches no owner, and
 * nobody raises their own role.
 */
export function authorizeRole(authority: Authority, role: UserRole, what: 'give' | 'manage'): void {
  authorize(authority, role === 'owner' ? 'users.owner' : 'users.write');
  if (what === 'manage') return;
  const beyond = scopesBeyond(authority.scopes, roleScopes(role));
  if (beyond.length > 0) throw new PortcullisError('denied', `${describe(authority)} cannot give the ${role} role: it does not hold ${beyond.join(', ')}`);
}
