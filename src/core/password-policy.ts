import { invalid } from './errors.js';

export const MIN_PASSWORD_LENGTH = 10;
/** Long enough for any passphrase or manager-made password; short enough that hashing one costs nothing unusual. */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * The dashboard password rule, after NIST SP 800-63B: length is what makes a
 * password strong, so there are no composition rules; the one known-bad
 * choice refused besides is the account's own e-mail address. Length counts
 * characters (code points), as a person would.
 */
export function checkPassword(password: unknown, email: string, field = 'password'): string {
  if (typeof password !== 'string') throw invalid(`${field} must be text`, field);
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) throw invalid(`${field} must be at least ${MIN_PASSWORD_LENGTH} characters long`, field);
  if (length > MAX_PASSWORD_LENGTH) throw invalid(`${field} must be at most ${MAX_PASSWORD_LENGTH} characters long`, field);
  if (password.trim().toLowerCase() === email.trim().toLowerCase()) throw invalid(`${field} must not be the account's e-mail address`, field);
  return password;
}
