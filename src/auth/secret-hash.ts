import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

const SCHEME = 'hmac-sha256';

/**
 * Token secrets are 190 random bits, so a keyed fast hash is the right tool:
 * a slow KDF would add nothing against guessing and cost every request.
 * The pepper lives outside the database, so a stolen database alone is useless.
 */
export function hashSecret(pepper: Uint8Array, secret: string): string {
  return `${SCHEME}:${createHmac('sha256', pepper).update(secret, 'utf8').digest('base64url')}`;
}

export function verifySecret(pepper: Uint8Array, secret: string, stored: string): boolean {
  const expected = Buffer.from(stored, 'utf8');
  const actual = Buffer.from(hashSecret(pepper, secret), 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Two shared secrets compared in constant time, whatever their lengths. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
