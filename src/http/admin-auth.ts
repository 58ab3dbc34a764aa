import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { parseBasicAuthorization } from '../core/basic-auth.js';
import { sessionAuthority, tokenAuthority } from '../core/authority.js';
import { PortcullisError } from '../core/errors.js';
import { authorize, type Operation } from '../core/operations.js';
import type { Runtime } from '../runtime.js';
import type { Caller } from '../service/context.js';
import { csrfTokenMatches, sessionFromSecret, type SignedIn } from '../service/sessions.js';
import { refuseCrossSite } from './cross-site.js';
import { BAD_CREDENTIALS_MESSAGE } from './error-catalogue.js';
import { countTokenRequest, noteFailedLogin, refuseLockedOut } from './rate-limit.js';
import { clearedSessionCookie, cookieIsSecure, CSRF_HEADER, readSessionCookie } from './session-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
    /** The dashboard session the request authenticated with (its cookie), if it did. */
    signedIn?: SignedIn & { secret: string };
  }
}

/** Methods a cookie alone may call: they change nothing, so a cross-site request gains nothing by them. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

const BEARER_RE = /^bearer ([^\s]+)$/i;

/** `Authorization: Bearer <username>.<secret>` or Basic with the same credentials as /v2. */
function credentials(request: FastifyRequest): { user: string; password: string } | null {
  const header = request.headers.authorization;
  const bearer = typeof header === 'string' ? BEARER_RE.exec(header) : null;
  if (bearer?.[1]) return { user: 'token', password: bearer[1] };
  return parseBasicAuthorization(header);
}

const REALMS = { api: 'Portcullis admin API', metrics: 'Portcullis metrics' } as const;

function unauthenticated(reply: FastifyReply, surface: keyof typeof REALMS = 'api'): PortcullisError {
  reply.header('www-authenticate', `Bearer realm="${REALMS[surface]}"`);
  return new PortcullisError('unauthenticated', BAD_CREDENTIALS_MESSAGE);
}

/**
 * The session of the request's cookie, or 401 (and the cookie cleared) when
 * it has none that lives. A request that may change something must also
 * come from the dashboard's origin and carry the session's CSRF token in
 * X-CSRF-Token, or it is refused (403 csrf_failed): a browser attaches the
 * cookie to a cross-site request, but only this origin's script can have
 * read the token.
 */
async function sessionOf(runtime: Runtime, request: FastifyRequest, reply: FastifyReply): Promise<SignedIn & { secret: string }> {
  if (!SAFE_METHODS.has(request.method)) refuseCrossSite(request, runtime.config, { json: true });
  const secret = readSessionCookie(request);
  const signedIn = secret === undefined ? undefined : await sessionFromSecret(runtime, secret);
  if (!signedIn || secret === undefined) {
    request.log.info({ reason: 'session' }, 'credentials refused');
    reply.header('set-cookie', clearedSessionCookie(cookieIsSecure(request, runtime.config)));
    throw unauthenticated(reply);
  }
  if (!SAFE_METHODS.has(request.method)) {
    const given = request.headers[CSRF_HEADER];
    if (!csrfTokenMatches(runtime, secret, typeof given === 'string' ? given : undefined)) {
      throw new PortcullisError('csrf_failed', 'the X-CSRF-Token header is missing or wrong: send the csrf_token of the login (or GET /api/v1/session) answer');
    }
  }
  return { ...signedIn, secret };
}

function sessionCaller(request: FastifyRequest, { user, vendor }: SignedIn): Caller {
  return { vendorId: user.vendorId, actor: { name: `user:${user.email}`, source: request.ip }, authority: sessionAuthority(user, vendor) };
}

/**
 * The dashboard's own routes (who am I, log out, change password): any
 * signed-in user, by its session cookie only; a token has no session.
 */
export function requireSession(runtime: Runtime): onRequestAsyncHookHandler {
  return async (request, reply) => {
    await refuseLockedOut(runtime, request, reply, 'api');
    const signedIn = await sessionOf(runtime, request, reply);
    request.signedIn = signedIn;
    request.caller = sessionCaller(request, signedIn);
  };
}

/** The caller a request's credentials make: a vendor token's, or a signed-in user's; 401 for anything else. */
async function authenticate(runtime: Runtime, request: FastifyRequest, reply: FastifyReply): Promise<Caller> {
  if (request.headers.authorization === undefined && readSessionCookie(request) !== undefined) {
    const signedIn = await sessionOf(runtime, request, reply);
    if (signedIn.user.mustChangePassword) throw new PortcullisError('denied', 'change the temporary password first (POST /api/v1/session/password)');
    request.signedIn = signedIn;
    return sessionCaller(request, signedIn);
  }
  return tokenCaller(runtime, request, reply, 'api');
}

/**
 * The caller of a vendor token in `Authorization` (Bearer `<username>.<secret>`
 * or Basic), for the admin API and /metrics alike: 401 with a challenge for
 * a missing or bad one (counted towards the address's lockout), 403 for a
 * customer token. The request counts against the token's budget.
 */
export async function tokenCaller(runtime: Runtime, request: FastifyRequest, reply: FastifyReply, surface: 'api' | 'metrics'): Promise<Caller> {
  const creds = credentials(request);
  if (!creds) throw unauthenticated(reply, surface);
  const result = await runtime.authenticator.check(creds.user, creds.password, request.ip, runtime.now());
  if (!result.ok) {
    request.log.info({ reason: result.reason }, 'credentials refused');
    await noteFailedLogin(runtime, request);
    throw unauthenticated(reply, surface);
  }
  const token = result.token;
  await countTokenRequest(runtime, request, reply, surface, token);
  if (token.type !== 'vendor') throw new PortcullisError('denied', `the ${surface === 'api' ? 'admin API' : 'metrics endpoint'} takes vendor tokens only`);
  const vendor = await runtime.store.getVendor(token.vendorId);
  if (!vendor) throw unauthenticated(reply, surface);
  return { vendorId: token.vendorId, actor: { name: token.id, source: request.ip }, authority: tokenAuthority(token, vendor) };
}

/**
 * Admin API routes: the caller's authority (a vendor token's scopes, or the
 * role of the user whose session cookie came with the request) must allow
 * the route's operation (src/core/operations.ts). It runs on the request's
 * arrival, before any body is read, so a stranger learns nothing from how a
 * body would have been judged and costs nothing by sending a large one.
 * The caller acts for its own vendor: tenancy follows from the credential.
 * A request with an Authorization header is judged by it alone; any cookie
 * is then ignored.
 */
export function requireOperation(runtime: Runtime, operation: Operation): onRequestAsyncHookHandler {
  return async (request, reply) => {
    // Already set only in-process, for the CLI's own calls (AppOptions.localCaller); never from a request.
    if (!request.caller) {
      await refuseLockedOut(runtime, request, reply, 'api');
      request.caller = await authenticate(runtime, request, reply);
    }
    authorize(request.caller.authority, operation);
  };
}
