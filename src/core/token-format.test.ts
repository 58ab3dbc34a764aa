import { describe, it, expect } from 'vitest';
import {
  TOKEN_PREFIX,
  encodeTokenId,
  fullToken,
  isWellFormedSecret,
  newSecret,
  newUsername,
  parseUsername,
  splitCredentials,
  type RandomBytes,
} from './token-format.js';

/** Deterministic stand-in for a CSPRNG: cycles through the given bytes. */
function cycling(values: readonly number[]): RandomBytes {
  let i = 0;
  return (n) => Uint8Array.from({ length: n }, () => values[i++ % values.length] ?? 0);
}

/** Small xorshift generator so distribution tests are repeatable. */
function seeded(seed: number): RandomBytes {
  let x = seed >>> 0 || 1;
  return (n) =>
    Uint8Array.from({ length: n }, () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x & 0xff;
    });
}

const SECRET = 'Ab3dEf6hIj9lMn2pQr5tUv8xYz0bCd4F';
const USER = 'ctok_7f3k2q9x1m4p8z6c';

describe('encodeTokenId', () => {
  it.each([
    [new Uint8Array(10), '0000000000000000'],
    [new Uint8Array(10).fill(0xff), 'zzzzzzzzzzzzzzzz'],
    [Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), '0000000000000001'],
    [Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'g000000000000000'],
    [Uint8Array.from([0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21]), '1111111111111111'],
  ])('encodes %o as %s', (bytes, expected) => {
    expect(encodeTokenId(bytes)).toBe(expected);
  });

  it.each([0, 9, 11, 32])('rejects %i bytes', (n) => {
    expect(() => encodeTokenId(new Uint8Array(n))).toThrow(/exactly 10 bytes/);
  });

  it('only uses the Crockford alphabet', () => {
    const random = seeded(42);
    for (let i = 0; i < 200; i++) {
      expect(encodeTokenId(random(10))).toMatch(/^[0-9abcdefghjkmnpqrstvwxyz]{16}$/);
    }
  });
});

describe('newUsername / parseUsername', () => {
  it.each(['vendor', 'customer'] as const)('round-trips a %s username', (type) => {
    const username = newUsername(type, seeded(7));
    expect(username.startsWith(TOKEN_PREFIX[type])).toBe(true);
    expect(username).toHaveLength(TOKEN_PREFIX[type].length + 16);
    expect(parseUsername(username)).toEqual({ type, id: username.slice(5) });
  });

  it('asks the random source for exactly 10 bytes', () => {
    const asked: number[] = [];
    newUsername('vendor', (n) => {
      asked.push(n);
      return new Uint8Array(n);
    });
    expect(asked).toEqual([10]);
  });

  it.each([
    ['', null],
    ['ctok_', null],
    ['ctok_7f3k2q9x1m4p8z6', null],
    ['ctok_7f3k2q9x1m4p8z6cc', null],
    ['ctok_7F3K2Q9X1M4P8Z6C', null],
    ['ctok_7f3k2q9x1m4p8z6i', null],
    ['ctok_7f3k2q9x1m4p8z6l', null],
    ['ctok_7f3k2q9x1m4p8z6o', null],
    ['ctok_7f3k2q9x1m4p8z6u', null],
    ['xtok_7f3k2q9x1m4p8z6c', null],
    ['CTOK_7f3k2q9x1m4p8z6c', null],
    [' ctok_7f3k2q9x1m4p8z6c', null],
    ['token', null],
    [USER, { type: 'customer', id: '7f3k2q9x1m4p8z6c' }],
    ['vtok_0000000000000000', { type: 'vendor', id: '0000000000000000' }],
  ])('parseUsername(%j) = %j', (input, expected) => {
    expect(parseUsername(input)).toEqual(expected);
  });
});

describe('newSecret', () => {
  it('makes 32 base62 characters', () => {
    const random = seeded(1);
    for (let i = 0; i < 100; i++) {
      const s = newSecret(random);
      expect(s).toMatch(/^[0-9A-Za-z]{32}$/);
      expect(isWellFormedSecret(s)).toBe(true);
    }
  });

  it('drops bytes at or above 248 instead of folding them in', () => {
    // 248..255 would map to 0..7 and bias them; only the 61s should appear.
    expect(newSecret(cycling([248, 255, 61, 250]))).toBe('z'.repeat(32));
    expect(newSecret(cycling([247]))).toBe('z'.repeat(32));
    expect(newSecret(cycling([0, 62, 124, 186]))).toBe('0'.repeat(32));
  });

  it('gives up on a random source that never yields usable bytes', () => {
    expect(() => newSecret(cycling([255]))).toThrow(/random source/);
  });

  it('is close to uniform', () => {
    const random = seeded(12345);
    const counts = new Map<string, number>();
    const secrets = 2000;
    for (let i = 0; i < secrets; i++) {
      for (const c of newSecret(random)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const expected = (secrets * 32) / 62;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.15);
  });
});

describe('isWellFormedSecret', () => {
  it.each([
    [SECRET, true],
    ['0'.repeat(32), true],
    ['0'.repeat(31), false],
    ['0'.repeat(33), false],
    [`${'0'.repeat(31)}-`, false],
    [`${'0'.repeat(31)}.`, false],
    [`${'0'.repeat(31)} `, false],
    ['', false],
  ])('isWellFormedSecret(%j) = %s', (input, expected) => {
    expect(isWellFormedSecret(input)).toBe(expected);
  });
});

describe('splitCredentials', () => {
  const full = fullToken(USER, SECRET);

  it('joins username and secret with a dot', () => {
    expect(full).toBe(`${USER}.${SECRET}`);
  });

  it.each([
    ['username and secret', USER, SECRET, { username: USER, secret: SECRET }],
    ['full token with -u token', 'token', full, { username: USER, secret: SECRET }],
    ['full token with empty user', '', full, { username: USER, secret: SECRET }],
    ['full token with another username', 'vtok_0000000000000000', full, { username: USER, secret: SECRET }],
    ['full token with its own username', USER, full, { username: USER, secret: SECRET }],
    ['bad username', 'token', SECRET, null],
    ['short secret', USER, SECRET.slice(1), null],
    ['full token with bad secret', 'token', `${USER}.short`, null],
    ['full token with bad username', 'token', `ctok_nope.${SECRET}`, null],
    ['two dots', 'token', `${full}.x`, null],
    ['empty password', USER, '', null],
    ['both empty', '', '', null],
    ['dot only', USER, '.', null],
    ['unicode junk', '\u0000', '\uffff.\ud800', null],
  ])('%s', (_name, user, password, expected) => {
    expect(splitCredentials(user, password)).toEqual(expected);
  });

  it('never throws on odd input', () => {
    const odd: unknown[] = [undefined, null, 42, {}, 'x'.repeat(100_000), '.'.repeat(1000)];
    for (const a of odd) {
      for (const b of odd) {
        expect(() => splitCredentials(a as string, b as string)).not.toThrow();
      }
    }
  });
});
