import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Random } from '../core/ids.js';

/**
 * Refresh (identity) tokens that `docker login` stores instead of the secret.
 * Stateless: `rt1.<payload>.<mac>`, where the payload names the Portcullis
 * token and the time of issue, and the MAC is keyed from the pepper, so every
 * instance can check one and nobody else can make one. They are bound to
 * their token: a refresh only succeeds while that token is active and unexpired.
 */

const PREFIX = 'rt1';
const KEY_LABEL = 'portcullis refresh token v1';
const MAX_LENGTH = 512;

export interface RefreshClaims {
  tokenId: string;
  issuedAt: Date;
}

function macKey(pepper: Uint8Array): Buffer {
  // A key of its own, so a refresh MAC can never be confused with a secret hash.
  return createHmac('sha256', pepper).update(KEY_LABEL).digest();
}

function mac(pepper: Uint8Array, signed: string): Buffer {
  return createHmac('sha256', macKey(pepper)).update(signed).digest();
}

export function issueRefreshToken(pepper: Uint8Array, tokenId: string, now: Date, random: Random): string {
  const payload = Buffer.from(
    JSON.stringify({ t: tokenId, i: Math.floor(now.getTime() / 1000), n: Buffer.from(random(9)).toString('base64url') }),
  ).toString('base64url');
  const signed = `${PREFIX}.${payload}`;
  return `${signed}.${mac(pepper, signed).toString('base64url')}`;
}

/**
 * The claims of a genuine refresh token that has not outlived `ttlSeconds`
 * (null: no limit of its own), or undefined. Never throws on bad input.
 */
export function verifyRefreshToken(pepper: Uint8Array, text: string, now: Date, ttlSeconds: number | null): RefreshClaims | undefined {
  if (typeof text !== 'string' || text.length > MAX_LENGTH) return undefined;
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const signed = `${parts[0]}.${parts[1]}`;
  const given = Buffer.from(parts[2] ?? '', 'base64url');
  const expected = mac(pepper, signed);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const { t, i } = (claims ?? {}) as { t?: unknown; i?: unknown };
  if (typeof t !== 'string' || typeof i !== 'number' || !Number.isInteger(i)) return undefined;
  const issuedAt = new Date(i * 1000);
  if (ttlSeconds !== null && now.getTime() >= issuedAt.getTime() + ttlSeconds * 1000) return undefined;
  return { tokenId: t, issuedAt };
}
