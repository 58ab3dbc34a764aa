import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';

/** The dashboard's one cookie; its value is the session secret (32 random bytes, base64url). */
export const SESSION_COOKIE = 'portcullis_session';
/**
 * Its name where clients come over HTTPS. Browsers keep a `__Host-` cookie only
 * if it is Secure, has Path=/ and no Domain, and was set over HTTPS, so neither
 * a sibling subdomain nor a plain-HTTP page can plant or overwrite it (session
 * fixation).
 */
export const HOST_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    /** Whether this request reaches the instance over HTTPS: served here, or an https public URL (TLS ends at a proxy). Set by registerSecureOrigin. */
    readonly secureOrigin?: boolean;
  }
}

/**
 * Gives every request `secureOrigin`, so that reading the cookie, which only
 * has the request at hand, picks the same name as setting it did.
 */
export function registerSecureOrigin(app: FastifyInstance, config: Readonly<Config>): void {
  const httpsPublicUrl = config.server.public_url?.startsWith('https:') ?? false;
  app.decorateRequest('secureOrigin', {
    getter(this: FastifyRequest) {
      return this.protocol === 'https' || httpsPublicUrl;
    },
  });
}

/** The session cookie's name for this request; a request of an app without registerSecureOrigin judges by its own protocol. */
function cookieName(request: FastifyRequest): string {
  return (request.secureOrigin ?? request.protocol === 'https') ? HOST_SESSION_COOKIE : SESSION_COOKIE;
}

/**
 * The session cookie's value, or undefined. One cookie read in one place, so
 * no cookie library: the value is base64url and needs no decoding; of two
 * cookies of that name (a stale one on another path) the first is taken, as
 * browsers send the most specific path first. Only the name in force counts:
 * over HTTPS an unprefixed cookie may have been planted, so it is ignored.
 */
export function readSessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  const name = cookieName(request);
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
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
  // Path=/ and no Domain, as the __Host- prefix requires.
  return `HttpOnly; Path=/; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** `secure` (cookieIsSecure) also picks the name: `__Host-` where the cookie is Secure. */
export function sessionCookie(secret: string, maxAgeSeconds: number, secure: boolean): string {
  return `${secure ? HOST_SESSION_COOKIE : SESSION_COOKIE}=${secret}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; ${attributes(secure)}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${secure ? HOST_SESSION_COOKIE : SESSION_COOKIE}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ${attributes(secure)}`;
}
