import { describe, expect, it } from 'vitest';
import { parseRole, roleScopes, USER_ROLES, type UserRole } from './roles.js';
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

  it('holds pull and push for owners and admins only: what they may put on tokens they make', () => {
    expect(USER_ROLES.map((role) => [role, hasScope(roleScopes(role), 'pull'), hasScope(roleScopes(role), 'push')])).toEqual([
      ['owner', true, true],
      ['admin', true, true],
      ['viewer', false, false],
    ]);
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
