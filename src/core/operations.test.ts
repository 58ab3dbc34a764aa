import { describe, expect, it } from 'vitest';
import { holds, isOwnerLevel, localAuthority, scopesBeyond, sessionAuthority, tokenAuthority, type Authority } from './authority.js';
import { PortcullisError } from './errors.js';
import { authorize, authorizeMint, authorizeRole, check, OPERATIONS, type Operation } from './operations.js';
import { roleScopes, USER_ROLES, type UserRole } from './roles.js';
import { ADMIN_AREAS, parseScopeList } from './vendor-scopes.js';

const OPERATOR = { id: 'ven_op', isOperator: true, namespaces: ['**'] };
const ACME = { id: 'ven_acme', isOperator: false, namespaces: ['acme/**'] };

const token = (scopes: string, vendor = ACME): Authority => tokenAuthority({ scopes: parseScopeList(scopes) }, vendor);
const session = (role: UserRole, vendor = ACME): Authority => sessionAuthority({ id: 'usr_1', role }, vendor);

function deniedWhy(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(PortcullisError);
    expect((err as PortcullisError).code).toBe('denied');
    return (err as Error).message;
  }
}

describe('holds: admin:*:* ⊇ admin:<area>:write ⊇ admin:<area>:read; push does not imply pull', () => {
  it.each([
    ['admin:*:*', 'admin:tokens:write', true],
    ['admin:*:*', 'admin:*:read', true],
    ['admin:tokens:write', 'admin:tokens:read', true],
    ['admin:tokens:write', 'admin:tokens:*', true],
    ['admin:tokens:read', 'admin:tokens:write', false],
    ['admin:tokens:write', 'admin:*:*', false],
    ['admin:*:read', 'admin:users:read', true],
    ['admin:*:read', 'admin:users:write', false],
    ['admin:*:write', 'admin:*:*', true],
    ['push', 'pull', false],
    ['pull', 'push', false],
    ['admin:*:*', 'pull', false],
    ['pull,push', 'push', true],
  ])('%s holds %s: %s', (granted, wanted, expected) => {
    expect(holds(parseScopeList(granted), wanted)).toBe(expected);
  });

  it('owner level is holding every admin scope, however spelled', () => {
    expect(isOwnerLevel(token('admin:*:*'))).toBe(true);
    expect(isOwnerLevel(token(ADMIN_AREAS.map((a) => `admin:${a}:write`).join(',')))).toBe(true);
    expect(isOwnerLevel(token('admin:*:write'))).toBe(true);
    expect(isOwnerLevel(token('admin:*:read'))).toBe(false);
    expect(isOwnerLevel(session('owner'))).toBe(true);
    expect(isOwnerLevel(session('admin'))).toBe(false);
    expect(isOwnerLevel(localAuthority(ACME))).toBe(true);
  });

  it('scopesBeyond lists exactly what is not held', () => {
    expect(scopesBeyond(parseScopeList('pull,admin:tokens:write'), parseScopeList('pull,push,admin:*:*,admin:tokens:read'))).toEqual(['push', 'admin:*:*']);
  });
});

describe('the operation table', () => {
  const ops = Object.keys(OPERATIONS) as Operation[];

  // Every operation against every single-area scope set, a token and the roles: the scope rule and the level rule.
  const callers: [string, Authority][] = [
    ...ADMIN_AREAS.flatMap((area) => (['read', 'write'] as const).map((level): [string, Authority] => [`token admin:${area}:${level}`, token(`admin:${area}:${level}`)])),
    ['token admin:*:*', token('admin:*:*')],
    ['operator token admin:*:*', token('admin:*:*', OPERATOR)],
    ['operator token admin:*:write minus nothing', token('admin:*:write', OPERATOR)],
    ['operator token admin:metrics:read', token('admin:metrics:read', OPERATOR)],
    ['operator token admin:vendors:write', token('admin:vendors:write', OPERATOR)],
    ['token pull,push', token('pull,push')],
    ...USER_ROLES.flatMap((role): [string, Authority][] => [
      [`${role} session`, session(role)],
      [`operator ${role} session`, session(role, OPERATOR)],
    ]),
    ['local', localAuthority(ACME)],
    ['local operator', localAuthority(OPERATOR)],
  ];
  for (const op of ops) {
    const { scope, level } = OPERATIONS[op];
    for (const [name, authority] of callers) {
      const expected = holds(authority.scopes, scope) && (level === 'member' || (level === 'operator' ? authority.operator : level === 'owner' ? isOwnerLevel(authority) : authority.operator && isOwnerLevel(authority)));
      it(`${op} by ${name}: ${expected ? 'allowed' : 'denied'}`, () => {
        expect(check(authority, op).ok).toBe(expected);
        expect(deniedWhy(() => authorize(authority, op)) === undefined).toBe(expected);
      });
    }
  }

  it('keeps owner-level acts away from every narrower scope', () => {
    for (const narrow of ['admin:users:write', 'admin:vendors:write', 'admin:*:read', 'pull,push,admin:users:write,admin:tokens:write']) {
      expect(check(token(narrow, OPERATOR), 'users.owner').ok).toBe(false);
      expect(check(token(narrow, OPERATOR), 'vendors.create').ok).toBe(false);
      expect(check(token(narrow, OPERATOR), 'vendors.other').ok).toBe(false);
    }
    expect(check(session('admin', OPERATOR), 'vendors.create').ok).toBe(false);
    expect(check(session('owner', OPERATOR), 'vendors.create').ok).toBe(true);
    expect(check(session('owner', ACME), 'vendors.create').ok).toBe(false);
    expect(check(token('admin:*:*', ACME), 'vendors.other').ok).toBe(false);
  });

  it('says what is missing, never more', () => {
    expect(check(token('admin:tokens:read'), 'tokens.create')).toEqual({ ok: false, why: 'this token lacks the admin:tokens:write scope' });
    expect(check(session('viewer'), 'users.write')).toEqual({ ok: false, why: 'the viewer role lacks the admin:users:write scope' });
    expect(check(token('admin:users:write'), 'users.owner')).toEqual({ ok: false, why: 'to give, change or remove the owner role needs owner-level authority (an owner, or a token with admin:*:*)' });
    expect(check(token('admin:*:*'), 'vendors.create')).toMatchObject({ ok: false, why: expect.stringMatching(/operator vendor/) });
  });
});

describe('authorizeMint: a new token holds no more than its maker', () => {
  it.each([
    // The escalation chain of the issue: admin:tokens:write alone mints no admin:*:* token.
    ['admin:tokens:write', 'vendor', 'pull,push,admin:*:*', /cannot give scopes it does not hold: pull, push, admin:\*:\*/],
    ['admin:tokens:write', 'vendor', 'admin:tokens:read', undefined],
    ['admin:tokens:write', 'vendor', 'admin:tokens:write', undefined],
    ['admin:tokens:write', 'vendor', 'admin:tokens:*', undefined],
    ['admin:tokens:write', 'vendor', 'admin:customers:read', /admin:customers:read/],
    ['admin:tokens:write,push', 'vendor', 'pull', /pull/],
    ['admin:tokens:write,pull,push', 'vendor', 'pull,push', undefined],
    ['admin:tokens:write', 'customer', 'pull', undefined],
    ['admin:tokens:read', 'customer', 'pull', /lacks the admin:tokens:write scope/],
    ['admin:*:write', 'vendor', 'admin:*:*', undefined],
  ])('%s minting a %s token with %s', (maker, type, scopes, refusal) => {
    const why = deniedWhy(() => authorizeMint(token(maker), type as 'vendor' | 'customer', parseScopeList(scopes)));
    if (refusal === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(refusal);
  });

  it('gives registry reach in the operator vendor only through owner-level callers', () => {
    expect(deniedWhy(() => authorizeMint(session('admin', OPERATOR), 'vendor', ['pull']))).toMatch(/only owner-level callers of the operator vendor mint tokens with pull or push/);
    expect(deniedWhy(() => authorizeMint(token('pull,push,admin:tokens:write', OPERATOR), 'vendor', ['push']))).toMatch(/operator/);
    expect(deniedWhy(() => authorizeMint(session('admin', OPERATOR), 'vendor', ['admin:usage:read']))).toBeUndefined();
    expect(deniedWhy(() => authorizeMint(session('owner', OPERATOR), 'vendor', ['pull', 'push', 'admin:*:*']))).toBeUndefined();
    expect(deniedWhy(() => authorizeMint(session('admin', ACME), 'vendor', ['pull', 'push']))).toBeUndefined();
  });

  it('a dashboard admin mints no admin:*:* token, and a viewer mints nothing', () => {
    expect(deniedWhy(() => authorizeMint(session('admin'), 'vendor', ['admin:*:*']))).toMatch(/the admin role cannot give scopes it does not hold: admin:\*:\*/);
    expect(deniedWhy(() => authorizeMint(session('admin'), 'vendor', ['admin:users:write']))).toBeUndefined();
    expect(deniedWhy(() => authorizeMint(session('viewer'), 'vendor', ['admin:usage:read']))).toMatch(/lacks the admin:tokens:write scope/);
  });
});

describe('authorizeRole: giving a role needs every scope of it; touching an owner needs owner-level authority', () => {
  const cases: [string, Authority, UserRole, boolean, boolean][] = [];
  for (const role of USER_ROLES) {
    const owner = role === 'owner';
    cases.push(['owner session', session('owner'), role, true, true]);
    cases.push(['admin session', session('admin'), role, !owner, !owner]);
    cases.push(['viewer session', session('viewer'), role, false, false]);
    // Whoever gives a role with a password it chose could log in as that user: pull and push count too.
    cases.push(['token admin:*:*', token('admin:*:*'), role, role === 'viewer', true]);
    cases.push(['token pull,push,admin:*:*', token('pull,push,admin:*:*'), role, true, true]);
    // The chain of the issue: a token an admin minted with admin:users:write makes no owner, and no admin either.
    cases.push(['token admin:users:write', token('admin:users:write'), role, false, !owner]);
    cases.push(['token pull,push,admin:*:write', token('pull,push,admin:*:write'), role, true, true]);
  }
  it.each(cases)('%s with %s: gives %s, manages %s', (_name, authority, role, gives, manages) => {
    expect(deniedWhy(() => authorizeRole(authority, role, 'give')) === undefined).toBe(gives);
    expect(deniedWhy(() => authorizeRole(authority, role, 'manage')) === undefined).toBe(manages);
  });

  it('names what the caller lacks', () => {
    expect(deniedWhy(() => authorizeRole(session('admin'), 'owner', 'give'))).toBe('to give, change or remove the owner role needs owner-level authority (an owner, or a token with admin:*:*)');
    expect(deniedWhy(() => authorizeRole(token('admin:users:write'), 'viewer', 'give'))).toMatch(/^this token cannot give the viewer role: it does not hold admin:tokens:read/);
  });

  it('a role never holds more than an owner', () => {
    for (const role of USER_ROLES) expect(scopesBeyond(roleScopes('owner'), roleScopes(role))).toEqual([]);
  });
});

describe('docs/authority.md', () => {
  it('lists every operation with its scope, level and words, as the table says', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../docs/authority.md', import.meta.url), 'utf8');
    const block = text.slice(text.indexOf('<!-- operations:start -->'), text.indexOf('<!-- operations:end -->'));
    const rows = block.split('\n').filter((l) => l.startsWith('| `'));
    const expected = (Object.keys(OPERATIONS) as Operation[]).map((op) => {
      const { scope, level, what } = OPERATIONS[op];
      return `| \`${op}\` | \`${scope}\` | ${level} | ${what} |`;
    });
    expect(rows).toEqual(expected);
  });
});
