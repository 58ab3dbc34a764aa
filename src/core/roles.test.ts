import { describe, expect, it } from 'vitest';
import { grantableRoles, holdsAdminScope, mayManage, parseRole, roleScopes, USER_ROLES, type UserRole } from './roles.js';
import { ADMIN_AREAS, hasScope } from './vendor-scopes.js';

describe('roleScopes', () => {
  // Every area, both levels, against what each role should get.
  const expected: Record<UserRole, (area: string, access: 'read' | 'write') => boolean> = {
    owner: () => true,
    admin: (area, access) => access === 'read' || area !== 'vendors',
    viewer: (_area, access) => access === 'read',
  };
  for (const role of USER_ROLES) {
    for (const area of ADMIN_AREAS) {
      for (const access of ['read', 'write'] as const) {
        it(`${role} ${access}s ${area}: ${expected[role](area, access)}`, () => {
          expect(hasScope(roleScopes(role), `admin:${area}:${access}`)).toBe(expected[role](area, access));
        });
      }
    }
  }

  it('gives no registry access: a dashboard login pulls and pushes nothing', () => {
    for (const role of USER_ROLES) {
      expect(hasScope(roleScopes(role), 'pull')).toBe(false);
      expect(hasScope(roleScopes(role), 'push')).toBe(false);
    }
  });
});

describe('grantableRoles and mayManage', () => {
  it.each([
    ['owner', 'owner', true],
    ['owner', 'admin', true],
    ['owner', 'viewer', true],
    ['admin', 'owner', false],
    ['admin', 'admin', true],
    ['admin', 'viewer', true],
    ['viewer', 'owner', false],
    ['viewer', 'admin', false],
    ['viewer', 'viewer', false],
  ] as [UserRole, UserRole, boolean][])('%s may grant and manage %s: %s', (actor, target, allowed) => {
    expect(grantableRoles(actor).includes(target)).toBe(allowed);
    expect(mayManage(actor, target)).toBe(allowed);
  });
});

describe('parseRole', () => {
  it.each(USER_ROLES)('accepts %s', (role) => expect(parseRole(role)).toBe(role));
  it.each([['Owner'], ['root'], [''], [1], [undefined]])('rejects %j naming the field', (value) => {
    expect(() => parseRole(value)).toThrow(/unknown role .*: expected owner, admin, viewer/);
    try {
      parseRole(value);
    } catch (err) {
      expect((err as { field?: string }).field).toBe('role');
    }
  });
});

describe('holdsAdminScope', () => {
  it.each([
    ['owner', 'admin:*:*', true],
    ['admin', 'admin:*:read', true],
    ['admin', 'admin:tokens:*', true],
    ['admin', 'admin:*:write', false],
    ['admin', 'admin:*:*', false],
    ['admin', 'admin:vendors:write', false],
    ['admin', 'admin:vendors:read', true],
    ['viewer', 'admin:*:read', true],
    ['viewer', 'admin:tokens:write', false],
    ['viewer', 'admin:usage:*', false],
  ] as [UserRole, string, boolean][])('%s holds %s: %s', (role, scope, expected) => {
    expect(holdsAdminScope(roleScopes(role), scope)).toBe(expected);
  });
});
