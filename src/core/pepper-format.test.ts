import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/helpers/errors.js';
import { decodePepper } from './pepper-format.js';

const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 250) % 256));

describe('decodePepper', () => {
  it.each([
    ['base64url, as the data dir writes it', `${bytes.toString('base64url')}\n`],
    ['base64 with padding (openssl rand -base64 32)', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=+$/, '')],
    ['surrounded by blank lines', `\n  ${bytes.toString('base64')}  \n\n`],
  ])('%s', (_name, text) => {
    expect(Buffer.from(decodePepper(text))).toEqual(bytes);
  });

  it('keeps longer peppers whole', () => {
    const long = Buffer.alloc(64, 7);
    expect(decodePepper(long.toString('base64'))).toHaveLength(64);
  });

  it.each([
    ['', /^is empty$/],
    ['  \n', /^is empty$/],
    [`${bytes.toString('base64')}\nsecond line`, /more than one word/],
    [bytes.toString('hex').replace(/^../, 'zz!'), /is not base64/],
    [`${bytes.toString('base64')}===`, /is not base64/],
    ['A'.repeat(45), /is not base64/],
    [Buffer.alloc(31, 1).toString('base64'), /decodes to 31 bytes: a pepper needs at least 32/],
  ])('refuses %j without quoting it', (text, message) => {
    const err = errorOf(() => decodePepper(text));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toMatch(message);
    if (text.trim() !== '') expect(err.message).not.toContain(text.trim());
  });
});
