import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { parseBasicAuthorization } from '../core/basic-auth.js';
import { PortcullisError } from '../core/errors.js';
import { roleScopes } from '../core/roles.js';
import { hasScope, type Scope } from '../core/vendor-scopes.js';
import type { Runtime } from '../runtime.js';
import type { Caller } from '../service/context.js';
import { csrfTokenMatches, sessionFromSecret, type SignedIn } from '../service/sessions.js';
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

function unauthenticated(reply: FastifyReply): PortcullisError {
  reply.header('www-authenticate', 'Bearer realm="Portcullis admin API"');
  return new PortcullisError('unauthenticated', BAD_CREDENTIALS_MESSAGE);
}

/**
 * The session of the request's cookie, or 401 (and the cookie cleared) when
 * it has none that lives. A request that may change something must also
 * carry the session's CSRF token in X-CSRF-Token, or it is refused (403
 * csrf_failed): a browser attaches the cookie to a cross-site request, but
 * only this origin's script can have read the token.
 */
async function sessionOf(runtime: Runtime, request: FastifyRequest, reply: FastifyReply): Promise<SignedIn & { secret: string }> {
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

function sessionCaller(request: FastifyRequest, signedIn: SignedIn): Caller {
  const { user } = signedIn;
  return { vendorId: user.vendorId, actor: { name: `user:${user.email}`, source: request.ip }, user: { id: user.id, role: user.role } };
}

/**
 * The dashboard's own routes (who am I, log out, change password): any
 * signed-in user, by its session cookie only; a token has no session.
 */
export function requireSession(runtime: Runtime): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    await refuseLockedOut(runtime, request, reply, 'api');
    const signedIn = await sessionOf(runtime, request, reply);
    request.signedIn = signedIn;
    request.caller = sessionCaller(request, signedIn);
  };
}

/**
 * Admin API routes need `scope` (admin:<area>:<read|write>), held by a vendor
 * token or by the role of the user whose session cookie came with the
 * request. The caller acts for the token's or user's own vendor: tenancy
 * follows from the credential. A request with an Authorization header is
 * judged by it alone; any cookie is then ignored.
 */
export function requireAdminScope(runtime: Runtime, scope: Scope): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    // Already set only in-process, for the CLI's own calls (AppOptions.localCaller); never from a request.
    if (request.caller) return;
    await refuseLockedOut(runtime, request, reply, 'api');
    if (request.headers.authorization === undefined && readSessionCookie(request) !== undefined) {
      const signedIn = await sessionOf(runtime, request, reply);
      const { user } = signedIn;
      if (user.mustChangePassword) throw new PortcullisError('denied', 'change the temporary password first (POST /api/v1/session/password)');
      if (!hasScope(roleScopes(user.role), scope)) throw new PortcullisError('denied', `the ${user.role} role lacks the ${scope} scope`);
      request.signedIn = signedIn;
      request.caller = sessionCaller(request, signedIn);
      return;
    }
    const creds = credentials(request);
    if (!creds) throw unauthenticated(reply);
    const result = await runtime.authenticator.check(creds.user, creds.password, request.ip, runtime.now());
    if (!result.ok) {
      request.log.info({ reason: result.reason }, 'credentials refused');
      await noteFailedLogin(runtime, request);
      throw unauthenticated(reply);
    }
    const token = result.token;
    await countTokenRequest(runtime, request, reply, 'api', token);
    if (token.type !== 'vendor') throw new PortcullisError('denied', 'the admin API takes vendor tokens only');
    if (!hasScope(token.scopes, scope)) throw new PortcullisError('denied', `token ${token.id} lacks the ${scope} scope`);
    request.caller = { vendorId: token.vendorId, actor: { name: token.id, source: request.ip } };
  };
}
