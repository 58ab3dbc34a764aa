import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { dueExpiryWarnings, expiryWarningKey } from './expiry-warnings.js';
import type { License, LicenseStatus, Token, TokenStatus } from './model.js';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const DAY = 86_400_000;
const inDays = (d: number) => new Date(NOW.getTime() + d * DAY);
const warnBefore = parseDuration('14d')!;

function token(id: string, expiresAt: Date | null, status: TokenStatus = 'active'): Token {
  return {
    id,
    type: 'customer',
    vendorId: 'ven_a',
    customerId: 'cus_1',
    name: `name-${id}`,
    scopes: ['pull'],
    status,
    expiresAt,
    rateLimit: null,
    lastUsedAt: null,
    lastUsedIp: null,
    createdBy: 'test',
    createdAt: NOW,
    updatedAt: NOW,
  };
}

function license(id: string, validUntil: Date | null, status: LicenseStatus = 'active'): License {
  return {
    id,
    vendorId: 'ven_a',
    customerId: 'cus_1',
    name: null,
    repositories: ['acme/app'],
    planId: null,
    tags: [],
    validFrom: new Date(NOW.getTime() - 30 * DAY),
    validUntil,
    status,
    createdAt: NOW,
    updatedAt: NOW,
  };
}

const ids = (input: Partial<Parameters<typeof dueExpiryWarnings>[0]>) =>
  dueExpiryWarnings({ tokens: [], licenses: [], now: NOW, warnBefore, sent: [], ...input }).map((w) => w.objectId);

describe('dueExpiryWarnings: which tokens are due', () => {
  it.each<[string, Token, boolean]>([
    ['ends in 3 days', token('t', inDays(3)), true],
    ['ends exactly at the horizon', token('t', inDays(14)), true],
    ['ends a second after the horizon', token('t', new Date(inDays(14).getTime() + 1000)), false],
    ['ends in a minute', token('t', new Date(NOW.getTime() + 60_000)), true],
    ['ended exactly now', token('t', NOW), false],
    ['ended yesterday', token('t', inDays(-1)), false],
    ['never ends', token('t', null), false],
    ['disabled', token('t', inDays(3), 'disabled'), false],
    ['revoked', token('t', inDays(3), 'revoked'), false],
  ])('a token that %s: due %s', (_, t, expected) => {
    expect(ids({ tokens: [t] })).toEqual(expected ? ['t'] : []);
  });
});

describe('dueExpiryWarnings: which licenses are due', () => {
  it.each<[string, License, boolean]>([
    ['ends in 10 days', license('l', inDays(10)), true],
    ['ends in 20 days', license('l', inDays(20)), false],
    ['has no end', license('l', null), false],
    ['ended', license('l', inDays(-2)), false],
    ['is suspended', license('l', inDays(10), 'suspended'), false],
    ['is revoked', license('l', inDays(10), 'revoked'), false],
  ])('a license that %s: due %s', (_, l, expected) => {
    expect(ids({ licenses: [l] })).toEqual(expected ? ['l'] : []);
  });
});

describe('dueExpiryWarnings: sent once per end', () => {
  it('skips a warning already sent for the same end', () => {
    expect(ids({ tokens: [token('t', inDays(3))], sent: [{ objectId: 't', endsAt: inDays(3) }] })).toEqual([]);
  });

  it('is due again when the end moved after the warning', () => {
    expect(ids({ tokens: [token('t', inDays(5))], sent: [{ objectId: 't', endsAt: inDays(3) }] })).toEqual(['t']);
  });

  it("keeps one object's warning apart from another's with the same end", () => {
    expect(ids({ tokens: [token('a', inDays(3)), token('b', inDays(3))], sent: [{ objectId: 'a', endsAt: inDays(3) }] })).toEqual(['b']);
  });

  it('keys a warning by object and exact end time', () => {
    expect(expiryWarningKey('lic_1', inDays(3))).toBe('lic_1@2026-11-27T12:00:00.000Z');
    expect(expiryWarningKey('lic_1', inDays(3))).not.toBe(expiryWarningKey('lic_1', new Date(inDays(3).getTime() + 1)));
  });
});

describe('dueExpiryWarnings: what a warning says', () => {
  it('names the event, object, owner, end and days left (rounded up), soonest first', () => {
    const warnings = dueExpiryWarnings({
      tokens: [token('ctok_a', new Date(inDays(3).getTime() + 5 * 3600_000))],
      licenses: [license('lic_b', inDays(10)), license('lic_c', new Date(NOW.getTime() + 3600_000))],
      now: NOW,
      warnBefore,
      sent: [],
    });
    expect(warnings).toEqual([
      { event: 'license.expiring', objectType: 'license', objectId: 'lic_c', vendorId: 'ven_a', customerId: 'cus_1', name: null, endsAt: new Date(NOW.getTime() + 3600_000), daysLeft: 1 },
      { event: 'token.expiring', objectType: 'token', objectId: 'ctok_a', vendorId: 'ven_a', customerId: 'cus_1', name: 'name-ctok_a', endsAt: new Date(inDays(3).getTime() + 5 * 3600_000), daysLeft: 4 },
      { event: 'license.expiring', objectType: 'license', objectId: 'lic_b', vendorId: 'ven_a', customerId: 'cus_1', name: null, endsAt: inDays(10), daysLeft: 10 },
    ]);
  });

  it('counts calendar warn_before from now (1M from 31 Jan reaches the end of February)', () => {
    const now = new Date('2026-01-31T00:00:00.000Z');
    const input = { licenses: [license('l', new Date('2026-02-28T00:00:00.000Z'))], now, warnBefore: parseDuration('1M')! };
    expect(ids(input)).toEqual(['l']);
    expect(ids({ ...input, licenses: [license('l', new Date('2026-03-01T00:00:00.000Z'))] })).toEqual([]);
  });
});
