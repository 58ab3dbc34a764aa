import { invalid } from './errors.js';
import { quote } from './text.js';
import { ADMIN_AREAS, type Scope } from './vendor-scopes.js';

/**
 * Dashboard roles, from most to least powerful. A role is a fixed set of
 * scopes, so a signed-in user is judged exactly as a token with those scopes
 * (src/core/operations.ts). A session never reaches /v2: `pull` and `push`
 * in a role are what the user may put on tokens it makes.
 */
export const USER_ROLES = ['owner', 'admin', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export function parseRole(value: unknown, field = 'role'): UserRole {
  if (typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value)) return value as UserRole;
  const given = typeof value === 'string' ? quote(value) : typeof value;
  throw invalid(`unknown role ${given}: expected ${USER_ROLES.join(', ')}`, field);
}

const SCOPES: Record<UserRole, readonly Scope[]> = {
  owner: ['pull', 'push', 'admin:*:*'],
  // Everything but creating vendors; holding less than admin:*:*, an admin can give or touch no owner.
  admin: ['pull', 'push', ...ADMIN_AREAS.map((area) => `admin:${area}:${area === 'vendors' ? 'read' : 'write'}`)],
  viewer: ADMIN_AREAS.map((area) => `admin:${area}:read`),
};

export function roleScopes(role: UserRole): readonly Scope[] {
  return SCOPES[role];
}
