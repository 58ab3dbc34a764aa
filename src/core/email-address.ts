import { invalid } from './errors.js';

/** RFC 5321 caps a forward path at 256 octets, so 254 characters for the address itself. */
export const MAX_EMAIL_LENGTH = 254;

/**
 * One plain mailbox, `local@domain`, and nothing a mail library could read as
 * more: mail addressing also knows lists (`a@x.com, b@y.com`, `;`), groups
 * (`name:`), display names (`Ann <ann@x.com>`), quoted strings and comments,
 * so an address holding any of their characters can send an invitation to
 * someone else. The local part is RFC 5322's dot-atom (letters of any script,
 * digits and `'*+-/=?^_`{|}~#$&`, dots only between them) without `!` and
 * `%`, which some mail servers still take for routing onward (`a%evil.example@x`).
 * The domain is dotted DNS labels (IDNs in their xn-- form) ending in a label
 * that is not all digits. No space, control, format or separator character of
 * any Unicode kind (U+0085, U+2028, U+200B, U+202E…) can match.
 */
const ATOM = String.raw`[\p{L}\p{M}\p{N}'*+\-/=?^_\x60{|}~#$&]+`;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const TOP_LABEL = '(?=[a-z0-9-]*[a-z])' + LABEL;
const SHAPE = new RegExp(`^(?=[^@]{1,64}@)${ATOM}(?:\\.${ATOM})*@(?=.{1,253}$)(?:${LABEL}\\.)+${TOP_LABEL}$`, 'u');

/**
 * The one spelling of an e-mail address the instance keeps and looks up:
 * trimmed, lower-cased and in Unicode NFC, so `Ann@Example.com ` and
 * `ann@example.com` are the same account (nobody expects two logins that
 * differ by case). Deliverability is proven by the invitation arriving, not
 * by a longer expression here.
 */
export function normalizeEmail(value: unknown, field = 'email'): string {
  if (typeof value !== 'string') throw invalid(`${field} must be text`, field);
  const email = value.trim().toLowerCase().normalize('NFC');
  if (email === '') throw invalid(`${field} must not be empty`, field);
  if (email.length > MAX_EMAIL_LENGTH) throw invalid(`${field} is longer than ${MAX_EMAIL_LENGTH} characters`, field);
  if (!SHAPE.test(email)) throw invalid(`${field} does not look like an e-mail address: one plain mailbox, name@example.com, with no display name, quotes, comments, spaces or list separators`, field);
  return email;
}
