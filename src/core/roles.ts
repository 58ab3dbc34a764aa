import { invalid } from './errors.js';
import { quote } from './text.js';
import { ADMIN_AREAS, hasScope, type Scope } from './vendor-scopes.js';

/**
 * Dashboard roles, from most to least powerful. A role is a fixed set of admin
 * scopes, so the routes check a signed-in user exactly as they check a token.
 */
export const USER_ROLES = ['owner', 'admin', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export function parseRole(value: unknown, field = 'role'): UserRole {
  if (typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value)) return value as UserRole;
  const given = typeof value === 'string' ? quote(value) : typeof value;
  throw invalid(`unknown role ${given}: expected ${USER_ROLES.join(', ')}`, field);
}

const SCOPES: Record<UserRole, readonly Scope[]> = {
  owner: ['admin:*:*'],
  // Everything but creating vendors; who may touch owners is decided per user (mayManage).
  admin: ADMIN_AREAS.map((area) => `admin:${area}:${area === 'vendors' ? 'read' : 'write'}`),
  viewer: ADMIN_AREAS.map((area) => `admin:${area}:read`),
};

export function roleScopes(role: UserRole): readonly Scope[] {
  return SCOPES[role];
}

/** The roles a user of `actor`'s role may give: never one above its own, and a viewer gives none. */
export function grantableRoles(actor: UserRole): readonly UserRole[] {
  if (actor === 'owner') return USER_ROLES;
  if (actor === 'admin') return ['admin', 'viewer'];
  return [];
}

/**
 * Whether a user of `actor`'s role may change or delete a user who has
 * `target`'s role: an admin manages admins and viewers, never an owner.
 */
export function mayManage(actor: UserRole, target: UserRole): boolean {
  return grantableRoles(actor).includes(target);
}

/**
 * Whether `granted` holds everything the admin scope `wanted` gives, its
 * wildcards spelled out (`admin:*:read` is every area's read). What a user
 * may put on a token it makes: never more than its own role holds.
 */
export function holdsAdminScope(granted: readonly Scope[], wanted: Scope): boolean {
  const [, area = '', access = ''] = wanted.split(':');
  const areas = area === '*' ? ADMIN_AREAS : [area];
  const levels = access === '*' ? ['read', 'write'] : [access];
  return areas.every((a) => levels.every((l) => hasScope(granted, `admin:${a}:${l}`)));
}
