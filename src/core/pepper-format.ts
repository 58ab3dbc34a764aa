import { invalid } from './errors.js';

/** Fewer bytes than the HMAC-SHA-256 output would weaken every stored secret hash. */
export const PEPPER_MIN_BYTES = 32;

// Node's decoder skips characters outside the alphabet; a pepper that is not clean base64 is refused instead.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * A pepper written the way the data dir's `pepper` file holds it: one line of
 * base64url (plain base64 is accepted too) of at least 32 bytes, such as
 * `openssl rand -base64 32` prints. Messages never quote the text.
 */
export function decodePepper(text: string): Uint8Array {
  const value = text.trim();
  if (value === '') throw invalid('is empty');
  if (/\s/.test(value)) throw invalid('is more than one word: expected one line of base64');
  if (!BASE64.test(value) || value.replace(/=+$/, '').length % 4 === 1) {
    throw invalid('is not base64: expected base64 or base64url of at least 32 bytes, like `openssl rand -base64 32` prints');
  }
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.length < PEPPER_MIN_BYTES) throw invalid(`decodes to ${bytes.length} bytes: a pepper needs at least ${PEPPER_MIN_BYTES} (\`openssl rand -base64 32\`)`);
  return new Uint8Array(bytes);
}
