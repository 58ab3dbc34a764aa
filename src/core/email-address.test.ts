import { describe, expect, it } from 'vitest';
import { normalizeEmail } from './email-address.js';

describe('normalizeEmail', () => {
  it.each([
    ['ann@example.com', 'ann@example.com'],
    ['  Ann@Example.COM ', 'ann@example.com'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ['o\'brien@example.ie', 'o\'brien@example.ie'],
    ['x@a-b.example', 'x@a-b.example'],
    [`${'a'.repeat(64)}@example.com`, `${'a'.repeat(64)}@example.com`],
  ])('%j → %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });

  it.each([
    [42, /email must be text/],
    [null, /email must be text/],
    ['', /email must not be empty/],
    ['   ', /email must not be empty/],
    ['ann', /does not look like an e-mail address/],
    ['ann@', /does not look like/],
    ['@example.com', /does not look like/],
    ['ann@localhost', /does not look like/],
    ['ann@@example.com', /does not look like/],
    ['ann smith@example.com', /does not look like/],
    ['ann@exa mple.com', /does not look like/],
    ['ann@-example.com', /does not look like/],
    ['ann@example..com', /does not look like/],
    ['ann\n@example.com', /does not look like/],
    [`${'a'.repeat(65)}@example.com`, /does not look like/],
    [`a@${'b'.repeat(250)}.com`, /longer than 254 characters/],
  ])('rejects %j', (input, message) => {
    expect(() => normalizeEmail(input)).toThrow(message);
    try {
      normalizeEmail(input);
    } catch (err) {
      expect((err as { field?: string }).field).toBe('email');
    }
  });

  it('names the field it was given', () => {
    expect(() => normalizeEmail('nope', 'to')).toThrow(/^to does not look like/);
  });
});
