import { invalid } from './errors.js';

/** RFC 5321 caps a forward path at 256 octets, so 254 characters for the address itself. */
export const MAX_EMAIL_LENGTH = 254;

// One @, something before it, a dotted domain after it, no spaces or control characters:
// what an address must look like to be worth sending an invitation to. Deliverability is
// proven by the invitation arriving, not by a longer expression.
// eslint-disable-next-line no-control-regex
const SHAPE = /^[^\s@\u0000-\u001f\u007f]{1,64}@(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * The one spelling of an e-mail address the instance keeps and looks up:
 * trimmed and lower-cased, so `Ann@Example.com ` and `ann@example.com` are
 * the same account (nobody expects two logins that differ by case).
 */
export function normalizeEmail(value: unknown, field = 'email'): string {
  if (typeof value !== 'string') throw invalid(`${field} must be text`, field);
  const email = value.trim().toLowerCase();
  if (email === '') throw invalid(`${field} must not be empty`, field);
  if (email.length > MAX_EMAIL_LENGTH) throw invalid(`${field} is longer than ${MAX_EMAIL_LENGTH} characters`, field);
  if (!SHAPE.test(email)) throw invalid(`${field} does not look like an e-mail address (name@example.com)`, field);
  return email;
}
