import { describe, expect, it } from 'vitest';
import { checkPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy.js';

const email = 'ann@example.com';

describe('checkPassword', () => {
  it.each([
    ['a'.repeat(MIN_PASSWORD_LENGTH)],
    ['correct horse battery staple'],
    ['ünïcødé-pä'],
    ['x'.repeat(MAX_PASSWORD_LENGTH)],
    ['ann@example.co'],
    ['  spaces count too  '],
  ])('accepts %j', (password) => {
    expect(checkPassword(password, email)).toBe(password);
  });

  it.each([
    [undefined, /password must be text/],
    [12345678901, /password must be text/],
    ['', /at least 10 characters/],
    ['a'.repeat(MIN_PASSWORD_LENGTH - 1), /at least 10 characters/],
    // Nine characters, though more than ten UTF-16 units: length is what a person counts.
    ['😀'.repeat(9), /at least 10 characters/],
    ['x'.repeat(MAX_PASSWORD_LENGTH + 1), /at most 1024 characters/],
    [email, /must not be the account's e-mail address/],
    ['ANN@Example.com', /must not be the account's e-mail address/],
  ])('rejects %j', (password, message) => {
    expect(() => checkPassword(password, email)).toThrow(message);
  });

  it('names the field', () => {
    try {
      checkPassword('short', email, 'new_password');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/^new_password must be at least/);
      expect((err as { field?: string }).field).toBe('new_password');
    }
  });
});
