/**
 * Token identifiers and secrets. A token is a public username (type prefix +
 * 80-bit id) and a random secret; clients may also send both joined as one
 * string, the "full token", in the password field.
 */

export type TokenType = 'vendor' | 'customer';

/** Source of cryptographically secure random bytes, injected so the core stays pure. */
export type RandomBytes = (n: number) => Uint8Array;

export const TOKEN_PREFIX: Record<TokenType, string> = { vendor: 'vtok_', customer: 'ctok_' };

// Crockford base32 without i, l, o, u: ids survive being read aloud or retyped.
const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const TOKEN_ID_BYTES = 10;
export const TOKEN_ID_LENGTH = 16;
export const SECRET_LENGTH = 32;

const ID_RE = /^[0-9a-hjkmnp-tv-z]{16}$/;
const SECRET_RE = /^[0-9A-Za-z]{32}$/;

// 248 = 4 * 62: bytes at or above it would make the first 8 symbols more likely.
const UNBIASED_LIMIT = 248;
// A real CSPRNG needs about 35 bytes; this bound only stops a broken source from spinning forever.
const MAX_SECRET_ROUNDS = 64;

export function encodeTokenId(bytes: Uint8Array): string {
  if (bytes.length !== TOKEN_ID_BYTES) {
    throw new Error(`token id needs exactly ${TOKEN_ID_BYTES} bytes, got ${bytes.length}`);
  }
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(buffer >> bits) & 31];
    }
    // Keep only the bits not yet emitted so the number never grows past 32 bits.
    buffer &= (1 << bits) - 1;
  }
  return out;
}

export function newUsername(type: TokenType, random: RandomBytes): string {
  return TOKEN_PREFIX[type] + encodeTokenId(random(TOKEN_ID_BYTES));
}

export function newSecret(random: RandomBytes): string {
  let out = '';
  for (let round = 0; round < MAX_SECRET_ROUNDS; round++) {
    for (const byte of random(SECRET_LENGTH + 8)) {
      if (byte >= UNBIASED_LIMIT) continue;
      out += BASE62[byte % 62];
      if (out.length === SECRET_LENGTH) return out;
    }
  }
  throw new Error('random source keeps returning unusable bytes; is it broken?');
}

export function parseUsername(s: string): { type: TokenType; id: string } | null {
  if (typeof s !== 'string') return null;
  for (const type of ['vendor', 'customer'] as const) {
    const prefix = TOKEN_PREFIX[type];
    if (s.length === prefix.length + TOKEN_ID_LENGTH && s.startsWith(prefix)) {
      const id = s.slice(prefix.length);
      return ID_RE.test(id) ? { type, id } : null;
    }
  }
  return null;
}

export function isWellFormedSecret(s: string): boolean {
  return typeof s === 'string' && SECRET_RE.test(s);
}

export function fullToken(username: string, secret: string): string {
  return `${username}.${secret}`;
}

/**
 * Works out which token a Basic auth pair names. Returns null for anything
 * malformed so callers can reject it without touching the database.
 */
export function splitCredentials(user: string, password: string): { username: string; secret: string } | null {
  if (typeof user !== 'string' || typeof password !== 'string') return null;
  // Neither part of a full token contains a dot, so the first dot is the only split point.
  const dot = password.indexOf('.');
  if (dot >= 0) {
    const username = password.slice(0, dot);
    const secret = password.slice(dot + 1);
    return parseUsername(username) && isWellFormedSecret(secret) ? { username, secret } : null;
  }
  return parseUsername(user) && isWellFormedSecret(password) ? { username: user, secret: password } : null;
}
