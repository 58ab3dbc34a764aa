import { describe, it, expect } from 'vitest';
import { parseBasicAuthorization } from './basic-auth.js';

/** Base64 of UTF-8 text, built from globals only like the code under test. */
function b64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function b64Bytes(bytes: number[]): string {
  return btoa(String.fromCharCode(...bytes));
}

describe('parseBasicAuthorization', () => {
  it.each([
    ['plain pair', `Basic ${b64('alice:secret')}`, { user: 'alice', password: 'secret' }],
    ['lower-case scheme', `basic ${b64('alice:secret')}`, { user: 'alice', password: 'secret' }],
    ['upper-case scheme', `BASIC ${b64('alice:secret')}`, { user: 'alice', password: 'secret' }],
    ['split at the first colon', `Basic ${b64('token:a:b:c')}`, { user: 'token', password: 'a:b:c' }],
    ['empty user', `Basic ${b64(':pw')}`, { user: '', password: 'pw' }],
    ['empty password', `Basic ${b64('user:')}`, { user: 'user', password: '' }],
    ['only a colon', `Basic ${b64(':')}`, { user: '', password: '' }],
    ['UTF-8', `Basic ${b64('jürgen:päss✓')}`, { user: 'jürgen', password: 'päss✓' }],
    ['missing padding', `Basic ${b64('alice:secre').replace(/=+$/, '')}`, { user: 'alice', password: 'secre' }],
    ['full token', `Basic ${b64('token:ctok_7f3k2q9x1m4p8z6c.abc')}`, { user: 'token', password: 'ctok_7f3k2q9x1m4p8z6c.abc' }],
  ])('%s', (_name, header, expected) => {
    expect(parseBasicAuthorization(header)).toEqual(expected);
  });

  it.each([
    ['no header', undefined],
    ['empty header', ''],
    ['scheme only', 'Basic'],
    ['scheme and space', 'Basic '],
    ['bearer', `Bearer ${b64('alice:secret')}`],
    ['two spaces', `Basic  ${b64('alice:secret')}`],
    ['tab separator', `Basic\t${b64('alice:secret')}`],
    ['leading space', ` Basic ${b64('alice:secret')}`],
    ['trailing space', `Basic ${b64('alice:secret')} `],
    ['no colon', `Basic ${b64('alicesecret')}`],
    ['not base64', 'Basic !!!!'],
    ['url-safe alphabet', `Basic ${b64('a:?>?>').replace(/\+/g, '-').replace(/\//g, '_')}`],
    ['impossible length', 'Basic YWJjZ'],
    ['padding in the middle', 'Basic YQ==YQ=='],
    ['too much padding', 'Basic YQ==='],
    ['bad padding length', 'Basic YWI=='],
    ['invalid UTF-8', `Basic ${b64Bytes([0x61, 0x3a, 0xff, 0xfe])}`],
    ['control character in password', `Basic ${b64('alice:sec\nret')}`],
    ['NUL in user', `Basic ${b64('al\u0000ice:secret')}`],
    ['DEL', `Basic ${b64('alice:\u007f')}`],
    ['too long', `Basic ${b64(`alice:${'x'.repeat(8 * 1024)}`)}`],
  ])('returns null for %s', (_name, header) => {
    expect(parseBasicAuthorization(header)).toBeNull();
  });

  it('accepts a header of exactly 8 KiB and refuses a longer one', () => {
    // 6139 bytes encode to 8186 characters without padding; with "Basic " that is 8192.
    const password = 'x'.repeat(6137);
    const header = `Basic ${b64(`u:${password}`).replace(/=+$/, '')}`;
    expect(header).toHaveLength(8192);
    expect(parseBasicAuthorization(header)).toEqual({ user: 'u', password });
    const over = `Basic ${b64(`u:${password}xxx`).replace(/=+$/, '')}`;
    expect(over).toHaveLength(8196);
    expect(parseBasicAuthorization(over)).toBeNull();
  });

  it('never throws on odd input', () => {
    const odd: unknown[] = [null, 42, {}, 'Basic \u{1F600}', 'Basic ====', `Basic ${'A'.repeat(100_000)}`];
    for (const header of odd) expect(() => parseBasicAuthorization(header as string)).not.toThrow();
  });
});
