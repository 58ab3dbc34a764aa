import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';

/** The dashboard's one cookie; its value is the session secret (32 random bytes, base64url). */
export const SESSION_COOKIE = 'portcullis_session';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * The session cookie's value, or undefined. One cookie read in one place, so
 * no cookie library: the value is base64url and needs no decoding; of two
 * cookies of that name (a stale one on another path) the first is taken, as
 * browsers send the most specific path first.
 */
export function readSessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** Secure when the request came over TLS, or when clients reach the instance by an https public URL (TLS ends at a proxy). */
export function cookieIsSecure(request: FastifyRequest, config: Readonly<Config>): boolean {
  return request.protocol === 'https' || (config.server.public_url?.startsWith('https:') ?? false);
}

function attributes(secure: boolean): string {
  // Lax: sent on top-level navigations to the dashboard, never on a cross-site POST or fetch.
  return `HttpOnly; Path=/; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function sessionCookie(secret: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${secret}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; ${attributes(secure)}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ${attributes(secure)}`;
}
