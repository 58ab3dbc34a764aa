import { describe, expect, it } from 'vitest';
import { normalizeEmail } from './email-address.js';

/** Addresses that are one plain mailbox, with the spelling kept. */
const PLAIN_MAILBOXES: [string, string][] = [
  ['ann@example.com', 'ann@example.com'],
  ['  Ann@Example.COM ', 'ann@example.com'],
  ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
  ["o'brien@example.ie", "o'brien@example.ie"],
  ['x@a-b.example', 'x@a-b.example'],
  ['under_score-dash@example.com', 'under_score-dash@example.com'],
  ['a/b=c?d^e`f{g|h}i~j#k$l&m*n@example.com', 'a/b=c?d^e`f{g|h}i~j#k$l&m*n@example.com'],
  ['jörg@example.de', 'jörg@example.de'],
  // The same letter written decomposed (o + combining diaeresis) is the same account.
  ['jo\u0308rg@example.de', 'jörg@example.de'],
  ['ann@xn--bcher-kva.example', 'ann@xn--bcher-kva.example'],
  ['ann@123.example', 'ann@123.example'],
  [`${'a'.repeat(64)}@example.com`, `${'a'.repeat(64)}@example.com`],
];

/**
 * What must never be taken for one mailbox: each would let a mail library
 * (nodemailer's address parser among them) send elsewhere or to several.
 */
const NOT_ONE_MAILBOX: string[] = [
  // lists
  'x,evil@example.com',
  'ann@example.com,evil@example.com',
  'x;evil@example.com',
  'ann@example.com;evil@example.com',
  // groups and display names
  'x:evil@example.com',
  'team:evil@example.com;',
  'x<evil@example.com>',
  'Ann <evil@example.com>',
  '<evil@example.com>',
  'x>evil@example.com',
  // quotes and comments
  '"x"@example.com',
  '"x,y"@example.com',
  'x(comment)@example.com',
  'x@example.com(evil@example.com)',
  'a\\b@example.com',
  // mail routing relics
  'a%evil.example@example.com',
  'evil.example!a@example.com',
  '@relay.example:ann@example.com',
  // whitespace and control characters of every kind, inside the address
  'x\u0085evil@example.com',
  'x\u2028@example.com',
  'x\u2029@example.com',
  'x\u00a0y@example.com',
  'x\u200b@example.com',
  'x\u202eevil@example.com',
  'x\ufeffy@example.com',
  'x\u0000@example.com',
  'x\r\nbcc:evil@example.com',
  'x\ty@example.com',
  'ann@example.com\u0085',
  // dots in the wrong places
  '.ann@example.com',
  'ann.@example.com',
  'a..b@example.com',
  // domains that are not plain DNS names
  'ann@[127.0.0.1]',
  'ann@1.2.3.4',
  'ann@example.com.',
  'ann@exam_ple.com',
  'ann@bücher.example',
  'a@b@example.com',
];

describe('normalizeEmail', () => {
  it.each(PLAIN_MAILBOXES)('%j → %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });

  it.each(NOT_ONE_MAILBOX)('refuses %j: not one plain mailbox', (input) => {
    expect(() => normalizeEmail(input)).toThrow(/^email does not look like an e-mail address: one plain mailbox/);
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
