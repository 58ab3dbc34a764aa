import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { parseBasicAuthorization } from '../core/basic-auth.js';
import { PortcullisError } from '../core/errors.js';
import { hasScope, type Scope } from '../core/vendor-scopes.js';
import type { Runtime } from '../runtime.js';
import type { Caller } from '../service/context.js';
import { BAD_CREDENTIALS_MESSAGE } from './error-catalogue.js';
import { countTokenRequest, noteFailedLogin, refuseLockedOut } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

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
 * Admin API routes need a vendor token holding `scope` (admin:<area>:<read|write>).
 * The caller acts for the token's own vendor: tenancy follows from the token.
 */
export function requireAdminScope(runtime: Runtime, scope: Scope): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    // Already set only in-process, for the CLI's own calls (AppOptions.localCaller); never from a request.
    if (request.caller) return;
    await refuseLockedOut(runtime, request, reply, 'api');
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
