import { describe, it, expect } from 'vitest';
import { decide, grantedActions, type LicenseGrant, type Principal, type RegistryAction } from './decide.js';
import type { Customer, License, Plan, Token, Vendor } from './model.js';
import { parseScope, parseScopeParams } from './registry-scope.js';
import { grantAccess } from './access.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const T0 = new Date('2026-01-01T00:00:00.000Z');

const vendor: Vendor = { id: 'ven_acme', name: 'acme', namespaces: ['acme/**'], isOperator: false, createdAt: T0 };
const operator: Vendor = { ...vendor, id: 'ven_op', name: 'op', namespaces: ['**'], isOperator: true };
const customer: Customer = {
  id: 'cus_1',
  vendorId: vendor.id,
  name: 'Globex',
  contact: null,
  createdAt: T0,
  updatedAt: T0,
  deletedAt: null,
};

function token(over: Partial<Token> = {}): Token {
  return {
    id: 'vtok_0000000000000000',
    type: 'vendor',
    vendorId: vendor.id,
    customerId: null,
    name: 't',
    scopes: ['pull', 'push'],
    status: 'active',
    expiresAt: null,
    rateLimit: null,
    lastUsedAt: null,
    lastUsedIp: null,
    createdBy: 'cli:root',
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

function license(over: Partial<License> = {}): License {
  return {
    id: 'lic_x',
    vendorId: vendor.id,
    customerId: customer.id,
    name: null,
    repositories: ['acme/app'],
    planId: null,
    tags: [],
    validFrom: T0,
    validUntil: null,
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

function plan(over: Partial<Plan> = {}): Plan {
  return {
    id: 'pln_gold',
    vendorId: vendor.id,
    name: 'gold',
    description: null,
    repositories: ['acme/*'],
    actions: ['pull'],
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

function vendorP(tok: Partial<Token> = {}, v: Vendor = vendor): Principal {
  return { kind: 'vendor', token: token({ vendorId: v.id, ...tok }), vendor: v };
}

function customerP(grants: LicenseGrant[], tok: Partial<Token> = {}, cus: Partial<Customer> = {}): Principal {
  return {
    kind: 'customer',
    token: token({ id: 'ctok_0000000000000000', type: 'customer', customerId: customer.id, scopes: ['pull'], ...tok }),
    vendor,
    customer: { ...customer, ...cus },
    grants,
  };
}

const g = (l: Partial<License> = {}, p: Plan | null = null): LicenseGrant => ({ license: license(l), plan: p });

type Row = [string, Principal, RegistryAction, string, string | undefined, string | RegExp | null];

// [case, principal, action, repository, tag, deny reason or null for allow]
const rows: Row[] = [
  // token state
  ['disabled token', vendorP({ status: 'disabled' }), 'pull', 'acme/app', undefined, /^token vtok_\w+ is disabled$/],
  ['revoked token', customerP([g()], { status: 'revoked' }), 'pull', 'acme/app', undefined, /^token ctok_\w+ is revoked$/],
  ['expired token (expiresAt == now)', vendorP({ expiresAt: NOW }), 'pull', 'acme/app', undefined, /^token vtok_\w+ expired 20\d\d-/],
  ['token expiring later', vendorP({ expiresAt: new Date(NOW.getTime() + 1) }), 'pull', 'acme/app', undefined, null],
  ['token of another vendor', { ...vendorP(), token: token({ vendorId: 'ven_other' }) }, 'pull', 'acme/app', undefined, /does not belong to this principal$/],
  ['customer token of another customer', customerP([g()], { customerId: 'cus_2' }), 'pull', 'acme/app', undefined, /does not belong to customer/],
  ['deleted customer', customerP([g()], {}, { deletedAt: T0 }), 'pull', 'acme/app', undefined, /was deleted$/],
  ['vendor-typed token as customer', customerP([g()], { type: 'vendor' }), 'pull', 'acme/app', undefined, /does not belong to this principal$/],

  // vendor tokens
  ['vendor pull inside namespace', vendorP(), 'pull', 'acme/app', undefined, null],
  ['vendor push deep inside namespace', vendorP(), 'push', 'acme/team/app', undefined, null],
  ['vendor delete with push', vendorP(), 'delete', 'acme/app', '1.0', null],
  ['vendor outside namespace', vendorP(), 'pull', 'other/db', undefined, 'other/db is outside the namespaces of vendor acme'],
  ['vendor without pull scope', vendorP({ scopes: ['push'] }), 'pull', 'acme/app', undefined, 'token lacks the pull scope'],
  ['vendor push without push scope', vendorP({ scopes: ['pull'] }), 'push', 'acme/app', undefined, 'token lacks the push scope'],
  ['vendor delete without push scope', vendorP({ scopes: ['pull'] }), 'delete', 'acme/app', undefined, 'token lacks the push scope'],
  ['vendor admin-only token', vendorP({ scopes: ['admin:*:*'] }), 'pull', 'acme/app', undefined, 'token lacks the pull scope'],
  ['vendor single-segment wildcard', vendorP({}, { ...vendor, namespaces: ['acme/*'] }), 'pull', 'acme/a/b', undefined, 'acme/a/b is outside the namespaces of vendor acme'],

  // customer tokens: action and namespace
  ['customer push', customerP([g()]), 'push', 'acme/app', undefined, 'customer tokens are pull-only'],
  ['customer delete', customerP([g()]), 'delete', 'acme/app', undefined, 'customer tokens are pull-only'],
  ['customer outside vendor namespaces', customerP([g({ repositories: ['**'] })]), 'pull', 'other/db', undefined, 'other/db is outside the namespaces of vendor acme'],

  // customer tokens: coverage
  ['license covers repository', customerP([g()]), 'pull', 'acme/app', undefined, null],
  ['no license at all', customerP([]), 'pull', 'acme/db', undefined, 'no active license covers acme/db'],
  ['license for another repository', customerP([g()]), 'pull', 'acme/db', undefined, 'no active license covers acme/db'],
  ['wildcard license', customerP([g({ repositories: ['acme/*'] })]), 'pull', 'acme/db', undefined, null],
  ['wildcard does not span segments', customerP([g({ repositories: ['acme/*'] })]), 'pull', 'acme/x/db', undefined, 'no active license covers acme/x/db'],
  ['globstar license', customerP([g({ repositories: ['acme/**'] })]), 'pull', 'acme/x/db', undefined, null],
  ['license of another customer ignored', customerP([g({ customerId: 'cus_2' })]), 'pull', 'acme/app', undefined, 'no active license covers acme/app'],

  // plans
  ['plan repositories apply when license has none', customerP([g({ repositories: [], planId: 'pln_gold' }, plan())]), 'pull', 'acme/db', undefined, null],
  ['license repositories win over plan', customerP([g({ repositories: ['acme/app'], planId: 'pln_gold' }, plan())]), 'pull', 'acme/db', undefined, 'no active license covers acme/db'],
  ['plan without pull', customerP([g({ repositories: [], planId: 'pln_gold' }, plan({ actions: ['push'] }))]), 'pull', 'acme/db', undefined, 'plan gold of license lic_x does not allow pull'],
  ['plan not loaded fails closed', customerP([g({ repositories: [], planId: 'pln_gold' }, null)]), 'pull', 'acme/db', undefined, 'no active license covers acme/db'],
  ['plan with another id fails closed', customerP([g({ repositories: ['acme/db'], planId: 'pln_gold' }, plan({ id: 'pln_other' }))]), 'pull', 'acme/db', undefined, 'no active license covers acme/db'],

  // status
  ['suspended license', customerP([g({ status: 'suspended' })]), 'pull', 'acme/app', undefined, 'license lic_x for acme/app is suspended'],
  ['revoked license', customerP([g({ status: 'revoked' })]), 'pull', 'acme/app', undefined, 'license lic_x for acme/app is revoked'],

  // validity window, exact boundaries
  ['validFrom == now allowed', customerP([g({ validFrom: NOW })]), 'pull', 'acme/app', undefined, null],
  ['validFrom just after now', customerP([g({ validFrom: new Date(NOW.getTime() + 1) })]), 'pull', 'acme/app', undefined, 'license for acme/app starts 2026-06-01'],
  ['not started', customerP([g({ validFrom: new Date('2027-01-01T00:00:00Z') })]), 'pull', 'acme/app', undefined, 'license for acme/app starts 2027-01-01'],
  ['validUntil == now denied', customerP([g({ validUntil: NOW })]), 'pull', 'acme/app', undefined, 'license for acme/app ended 2026-06-01'],
  ['validUntil just after now allowed', customerP([g({ validUntil: new Date(NOW.getTime() + 1) })]), 'pull', 'acme/app', undefined, null],
  ['ended', customerP([g({ validUntil: new Date('2026-03-01T00:00:00Z') })]), 'pull', 'acme/app', undefined, 'license for acme/app ended 2026-03-01'],

  // tags
  ['empty tag list allows every tag', customerP([g({ tags: [] })]), 'pull', 'acme/app', 'anything', null],
  ['glob tag inside', customerP([g({ tags: ['1.*'] })]), 'pull', 'acme/app', '1.4.2', null],
  ['glob tag outside', customerP([g({ tags: ['1.*'] })]), 'pull', 'acme/app', '2.0.1', 'tag 2.0.1 is outside 1.*'],
  ['several patterns', customerP([g({ tags: ['1.*', 'semver:^3'] })]), 'pull', 'acme/app', '2.0.1', 'tag 2.0.1 is outside 1.*, semver:^3'],
  ['semver range inside', customerP([g({ tags: ['semver:>=1.2.0 <2.0.0'] })]), 'pull', 'acme/app', 'v1.5.0', null],
  ['semver prerelease inside', customerP([g({ tags: ['semver:^1.4'] })]), 'pull', 'acme/app', '1.5.0-rc.1', null],
  ['semver range outside', customerP([g({ tags: ['semver:^1.4'] })]), 'pull', 'acme/app', '1.3.9', 'tag 1.3.9 is outside semver:^1.4'],
  ['non-version tag outside semver range', customerP([g({ tags: ['semver:^1.4'] })]), 'pull', 'acme/app', 'latest', 'tag latest is outside semver:^1.4'],
  ['no tag: patterns not checked', customerP([g({ tags: ['1.*'] })]), 'pull', 'acme/app', undefined, null],
  ['invalid tag', customerP([g()]), 'pull', 'acme/app', '-bad', 'tag "-bad" is not a valid tag'],
  ['broken stored tag pattern fails closed', customerP([g({ tags: ['semver:>=x'] })]), 'pull', 'acme/app', '1.0.0', 'tag 1.0.0 is outside semver:>=x'],

  // several grants: any allows; otherwise the most specific reason
  ['second grant allows', customerP([g({ id: 'lic_a', status: 'revoked' }), g({ id: 'lic_b' })]), 'pull', 'acme/app', undefined, null],
  ['tag beats ended', customerP([g({ id: 'lic_a', validUntil: T0 }), g({ id: 'lic_b', tags: ['1.*'] })]), 'pull', 'acme/app', '2.0.1', 'tag 2.0.1 is outside 1.*'],
  ['ended beats not started', customerP([g({ id: 'lic_a', validFrom: new Date('2027-01-01T00:00:00Z') }), g({ id: 'lic_b', validUntil: new Date('2026-03-01T00:00:00Z') })]), 'pull', 'acme/app', undefined, 'license for acme/app ended 2026-03-01'],
  ['not started beats status', customerP([g({ id: 'lic_a', status: 'suspended' }), g({ id: 'lic_b', validFrom: new Date('2027-01-01T00:00:00Z') })]), 'pull', 'acme/app', undefined, 'license for acme/app starts 2027-01-01'],
  ['status beats action', customerP([g({ id: 'lic_a', repositories: [], planId: 'pln_gold' }, plan({ actions: [] })), g({ id: 'lic_b', status: 'revoked' })]), 'pull', 'acme/app', undefined, 'license lic_b for acme/app is revoked'],
  ['a grant not covering the repository never gives the reason', customerP([g({ id: 'lic_a', repositories: ['acme/db'] }), g({ id: 'lic_b', status: 'suspended' })]), 'pull', 'acme/app', undefined, 'license lic_b for acme/app is suspended'],
];

describe('decide', () => {
  it.each(rows)('%s', (_name, p, action, repository, tag, reason) => {
    const d = decide(p, action, repository, tag === undefined ? undefined : { tag }, NOW);
    if (reason === null) {
      expect(d).toMatchObject({ allow: true });
    } else {
      expect(d).toMatchObject({ allow: false, reason: reason instanceof RegExp ? expect.stringMatching(reason) : reason });
    }
  });

  it('records a check per grant; of several allowing licenses names the first that lasts longest', () => {
    const d = decide(
      customerP([
        g({ id: 'lic_a', status: 'suspended' }),
        g({ id: 'lic_b', repositories: [], planId: 'pln_gold' }, plan()),
        g({ id: 'lic_c' }),
      ]),
      'pull',
      'acme/app',
      { tag: '1.0' },
      NOW,
    );
    expect(d.allow).toBe(true);
    expect(d).toMatchObject({ licenseId: 'lic_b' });
    const ends = (a: Date | null, b: Date | null, c: Date | null) =>
      decide(customerP([g({ id: 'lic_a', validUntil: a }), g({ id: 'lic_b', validUntil: b }), g({ id: 'lic_c', validUntil: c })]), 'pull', 'acme/app', undefined, NOW);
    const later = new Date(NOW.getTime() + 86_400_000);
    const latest = new Date(NOW.getTime() + 2 * 86_400_000);
    expect(ends(later, latest, later)).toMatchObject({ licenseId: 'lic_b' });
    expect(ends(later, latest, null)).toMatchObject({ licenseId: 'lic_c' });
    expect(ends(null, latest, null)).toMatchObject({ licenseId: 'lic_a' });
    expect(d.checks.map((c) => [c.licenseId, c.planId, c.outcome])).toEqual([
      ['lic_a', null, 'status'],
      ['lic_b', 'pln_gold', 'allows'],
      ['lic_c', null, 'allows'],
    ]);
  });

  it('records each outcome kind', () => {
    const d = decide(
      customerP([
        g({ id: 'lic_r', repositories: ['acme/db'] }),
        g({ id: 'lic_a', repositories: [], planId: 'pln_gold' }, plan({ actions: ['push'] })),
        g({ id: 'lic_s', status: 'revoked' }),
        g({ id: 'lic_n', validFrom: new Date('2027-01-01T00:00:00Z') }),
        g({ id: 'lic_e', validUntil: T0 }),
        g({ id: 'lic_t', tags: ['1.*'] }),
      ]),
      'pull',
      'acme/app',
      { tag: '2.0' },
      NOW,
    );
    expect(d.checks.map((c) => c.outcome)).toEqual(['repository', 'action', 'status', 'not_started', 'ended', 'tag']);
    expect(d).toMatchObject({ allow: false, reason: 'tag 2.0 is outside 1.*' });
  });

  it('vendor allows carry no license and no checks', () => {
    expect(decide(vendorP(), 'push', 'acme/app', undefined, NOW)).toEqual({ allow: true, checks: [] });
  });

  it('the operator\'s customers reach no tenant\'s namespaces, however wide their license', () => {
    const operatorCustomer = (repositories: string[]): Principal => ({
      kind: 'customer',
      token: token({ id: 'ctok_0000000000000000', type: 'customer', vendorId: operator.id, customerId: customer.id, scopes: ['pull'] }),
      vendor: operator,
      customer: { ...customer, vendorId: operator.id },
      grants: [g({ vendorId: operator.id, repositories })],
      foreign: ['acme/**', 'beta/**'],
    });
    // The reason is the plain one: the operator's customers learn nothing of which namespaces tenants own.
    expect(decide(operatorCustomer(['**']), 'pull', 'acme/app', undefined, NOW)).toMatchObject({ allow: false, reason: 'no active license covers acme/app' });
    expect(decide(operatorCustomer(['beta/**']), 'pull', 'beta/secret/db', undefined, NOW).allow).toBe(false);
    expect(decide(operatorCustomer(['**']), 'pull', 'tools/cli', undefined, NOW).allow).toBe(true);
    // A tenant pattern that does not compile stands for a tenant all the same: isolation does not fail open.
    expect(decide({ ...operatorCustomer(['**']), foreign: ['Broken/**', 'beta/**'] } as Principal, 'pull', 'acme/app', undefined, NOW).allow).toBe(false);
    // The operator's own vendor tokens keep their reach over every namespace.
    expect(decide(vendorP({ vendorId: operator.id }, operator), 'pull', 'acme/app', undefined, NOW).allow).toBe(true);
  });

  it('customer deny before grants are evaluated has no checks', () => {
    expect(decide(customerP([g()]), 'push', 'acme/app', undefined, NOW)).toEqual({
      allow: false,
      reason: 'customer tokens are pull-only',
      checks: [],
    });
  });
});

describe('grantedActions', () => {
  const cases: [string, Principal, string, string[]][] = [
    ['customer asks pull,push', customerP([g()]), 'repository:acme/app:pull,push', ['pull']],
    ['customer asks *', customerP([g()]), 'repository:acme/app:*', ['pull']],
    ['customer without license', customerP([]), 'repository:acme/app:pull', []],
    ['customer with ended license', customerP([g({ validUntil: NOW })]), 'repository:acme/app:pull', []],
    ['customer with tag-limited license still gets pull', customerP([g({ tags: ['1.*'] })]), 'repository:acme/app:pull', ['pull']],
    ['vendor asks *', vendorP(), 'repository:acme/app:*', ['pull', 'push', 'delete']],
    ['vendor pull-only asks pull,push', vendorP({ scopes: ['pull'] }), 'repository:acme/app:pull,push', ['pull']],
    ['vendor push-only asks *', vendorP({ scopes: ['push'] }), 'repository:acme/app:*', ['push', 'delete']],
    ['vendor outside namespace', vendorP(), 'repository:other/app:pull,push', []],
    ['unknown actions dropped', vendorP(), 'repository:acme/app:pull,frob', ['pull']],
    ['* with explicit duplicates', vendorP(), 'repository:acme/app:push,*', ['push', 'pull', 'delete']],
    ['plugin class treated as repository', vendorP(), 'repository(plugin):acme/app:pull', ['pull']],
    ['inactive token gets nothing', vendorP({ status: 'revoked' }), 'repository:acme/app:*', []],
    ['catalog for operator vendor with pull', vendorP({}, operator), 'registry:catalog:*', ['*']],
    ['catalog for operator without pull', vendorP({ scopes: ['push'] }, operator), 'registry:catalog:*', []],
    ['catalog for non-operator vendor', vendorP(), 'registry:catalog:*', []],
    ['catalog for customer', customerP([g()]), 'registry:catalog:*', []],
    ['catalog for expired operator token', vendorP({ expiresAt: NOW }, operator), 'registry:catalog:*', []],
    ['unknown type', vendorP({}, operator), 'thing:acme/app:pull', []],
  ];

  it.each(cases)('%s', (_name, p, scope, expected) => {
    expect(grantedActions(p, parseScope(scope), NOW)).toEqual(expected);
  });

  it('works on merged scopes, as skopeo sends for a cross-repository mount', () => {
    const p = customerP([g({ repositories: ['acme/base'] })]);
    const scopes = parseScopeParams(['repository:acme/app:pull,push', 'repository:acme/base:pull', 'repository:acme/app:delete']);
    expect(scopes.map((s) => [s.name, grantedActions(p, s, NOW)])).toEqual([
      ['acme/app', []],
      ['acme/base', ['pull']],
    ]);
    const v = vendorP({ scopes: ['pull'] });
    expect(scopes.map((s) => grantedActions(v, s, NOW))).toEqual([['pull'], ['pull']]);
  });
});

describe('grantAccess', () => {
  const day = 86_400_000;
  const at = (days: number) => new Date(NOW.getTime() + days * day);

  it('keeps every requested scope, cut to the allowed actions', () => {
    const grant = grantAccess(customerP([g()]), parseScopeParams(['repository:acme/app:pull,push', 'repository:acme/db:pull']), NOW);
    expect(grant.access).toEqual([
      { type: 'repository', name: 'acme/app', actions: ['pull'] },
      { type: 'repository', name: 'acme/db', actions: [] },
    ]);
  });

  it('notAfter is the token expiry when no license ends earlier', () => {
    expect(grantAccess(vendorP({ expiresAt: at(3) }), [parseScope('repository:acme/app:push')], NOW).notAfter).toEqual(at(3));
    expect(grantAccess(vendorP(), [parseScope('repository:acme/app:push')], NOW).notAfter).toBeNull();
  });

  it('notAfter is the end of the longest-lasting license that grants each repository, the earliest over repositories', () => {
    const p = customerP(
      [
        g({ id: 'lic_a', repositories: ['acme/app'], validUntil: at(10) }),
        g({ id: 'lic_b', repositories: ['acme/app'], validUntil: at(20) }),
        g({ id: 'lic_c', repositories: ['acme/db'], validUntil: at(5) }),
      ],
      { expiresAt: at(30) },
    );
    expect(grantAccess(p, [parseScope('repository:acme/app:pull')], NOW).notAfter).toEqual(at(20));
    expect(grantAccess(p, parseScopeParams(['repository:acme/app:pull', 'repository:acme/db:pull']), NOW).notAfter).toEqual(at(5));
    // A repository that is not granted does not shorten the token.
    expect(grantAccess(p, parseScopeParams(['repository:acme/app:pull', 'repository:acme/other:pull']), NOW).notAfter).toEqual(at(20));
  });

  it('a license without end leaves the token expiry as the cap', () => {
    const p = customerP([g({ validUntil: null })], { expiresAt: at(2) });
    expect(grantAccess(p, [parseScope('repository:acme/app:pull')], NOW).notAfter).toEqual(at(2));
  });
});
