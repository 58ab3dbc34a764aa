import { describe, it, expect } from 'vitest';
import { ADMIN_AREAS, CUSTOMER_SCOPES, DEFAULT_VENDOR_SCOPES, hasScope, parseScopeList } from './vendor-scopes.js';

describe('parseScopeList', () => {
  it.each([
    ['pull', ['pull']],
    ['push,pull', ['pull', 'push']],
    ['push pull', ['pull', 'push']],
    ['  pull ,  push  ', ['pull', 'push']],
    ['pull\tpush\nadmin:tokens:read', ['pull', 'push', 'admin:tokens:read']],
    ['admin:usage:read, admin:audit:write pull', ['pull', 'admin:audit:write', 'admin:usage:read']],
    ['admin:*:*', ['admin:*:*']],
    ['admin:tokens:* admin:*:read', ['admin:*:read', 'admin:tokens:*']],
    ['pull pull,pull', ['pull']],
    ['PULL Admin:Tokens:Read', ['pull', 'admin:tokens:read']],
    ['', []],
    ['   ', []],
    [['push', 'pull'], ['pull', 'push']],
    [['pull, push', 'admin:status:read'], ['pull', 'push', 'admin:status:read']],
    [[], []],
  ] as [string | string[], string[]][])('%j → %j', (input, expected) => {
    expect(parseScopeList(input)).toEqual(expected);
  });

  it('accepts every area with every access level', () => {
    for (const area of [...ADMIN_AREAS, '*']) {
      for (const access of ['read', 'write', '*']) {
        expect(parseScopeList(`admin:${area}:${access}`)).toEqual([`admin:${area}:${access}`]);
      }
    }
  });

  it.each([
    ['pull,,push', /empty entry in scopes "pull,,push"/],
    ['pull,', /empty entry/],
    [',pull', /empty entry/],
    [['pull', ''], /empty entry in scopes/],
    [['pull', '  '], /empty entry in scopes/],
    ['delete', /unknown scope "delete": expected pull, push or admin:<area>:<read\|write\|\*> with area one of tokens, customers/],
    ['admin', /unknown scope "admin"/],
    ['admin:tokens', /unknown scope "admin:tokens"/],
    ['admin:tokens:read:x', /unknown scope "admin:tokens:read:x"/],
    ['admin:billing:read', /unknown admin area "billing" in scope "admin:billing:read": expected one of tokens, customers, licenses/],
    ['admin:tokens:delete', /unknown access "delete" in scope "admin:tokens:delete": expected read, write or \*/],
    ['admin::read', /unknown admin area ""/],
    ['pull:x', /unknown scope "pull:x"/],
  ] as [string | string[], RegExp][])('rejects %j', (input, message) => {
    expect(() => parseScopeList(input)).toThrow(message);
  });

  it('reports the field', () => {
    expect(() => parseScopeList('nope', 'token.scopes')).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'token.scopes' }));
  });
});

describe('defaults', () => {
  it('gives vendors pull and push, customers only pull', () => {
    expect(DEFAULT_VENDOR_SCOPES).toEqual(['pull', 'push']);
    expect(CUSTOMER_SCOPES).toEqual(['pull']);
  });
});

describe('hasScope', () => {
  const cases: [granted: string[], wanted: string, allowed: boolean][] = [
    [['pull'], 'pull', true],
    [['pull'], 'push', false],
    [['push'], 'pull', false],
    [[], 'pull', false],
    [['admin:*:*'], 'pull', false],
    [['admin:*:*'], 'push', false],
    [['admin:*:*'], 'admin:tokens:write', true],
    [['admin:*:*'], 'admin:status:read', true],
    [['admin:tokens:read'], 'admin:tokens:read', true],
    [['admin:tokens:read'], 'admin:tokens:write', false],
    [['admin:tokens:write'], 'admin:tokens:read', true],
    [['admin:tokens:write'], 'admin:tokens:write', true],
    [['admin:tokens:write'], 'admin:customers:read', false],
    [['admin:tokens:*'], 'admin:tokens:write', true],
    [['admin:tokens:*'], 'admin:licenses:read', false],
    [['admin:*:read'], 'admin:audit:read', true],
    [['admin:*:read'], 'admin:audit:write', false],
    [['admin:*:write'], 'admin:usage:read', true],
    [['pull', 'admin:audit:read'], 'admin:audit:read', true],
    [['pull', 'push'], 'admin:audit:read', false],
    [['garbage', 'admin:x'], 'admin:audit:read', false],
    [['admin:tokens:read'], 'admin:*:read', false],
    [['admin:*:read'], 'admin:*:read', true],
    [['admin:tokens:write'], 'admin:tokens:*', false],
  ];

  it.each(cases)('%j wants %j → %s', (granted, wanted, expected) => {
    expect(hasScope(granted, wanted)).toBe(expected);
  });

  it.each(['', 'admin', 'admin:tokens', 'admin:billing:read', 'admin:tokens:delete', 'PULL'])(
    'throws for the malformed wanted scope %j',
    (wanted) => {
      expect(() => hasScope(['admin:*:*', 'pull'], wanted)).toThrow(/malformed wanted scope/);
    },
  );
});
