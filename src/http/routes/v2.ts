import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { publicUrl } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { parseBasicAuthorization } from '../../core/basic-auth.js';
import { parseV2Path, type V2Route } from '../../core/oci-reference.js';
import { verifyRegistryToken } from '../../auth/registry-jwt.js';
import { isLoopbackAddress, isLoopbackHost } from '../../core/loopback.js';
import { refuseCrossSite } from '../cross-site.js';
import type { RegistryCaller } from '../../registry/access.js';
import { localOnlyCaller } from '../../registry/local-only-caller.js';
import type { Runtime } from '../../runtime.js';
import { BAD_CREDENTIALS_MESSAGE, isRegistryPath, ociError } from '../error-catalogue.js';
import { countTokenRequest, noteFailedLogin, refuseLockedOut } from '../rate-limit.js';

/** Where clients reach this instance: server.public_url, or the configured host and the port actually bound. */
export interface PublicBase {
  url(): string;
  service: string;
}

export function publicBase(config: Readonly<Config>, boundPort: () => number | undefined): PublicBase {
  return {
    url: () => {
      const port = boundPort();
      if (config.server.public_url || port === undefined) return publicUrl(config);
      return publicUrl({ ...config, server: { ...config.server, port } });
    },
    service: config.auth.services[0]!,
  };
}

const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' };
const BEARER_RE = /^bearer ([A-Za-z0-9_.-]+)$/i;

/**
 * The Bearer challenge of the token spec. The realm is server.public_url +
 * /token, from config only: never from Host or X-Forwarded-* headers.
 */
export function challengeFor(base: PublicBase, scope: string | undefined, error?: 'invalid_token' | 'insufficient_scope'): string {
  const parts = [`realm="${base.url()}/token"`, `service="${base.service}"`];
  if (scope !== undefined) parts.push(`scope="${scope}"`);
  if (error !== undefined) parts.push(`error="${error}"`);
  return `Bearer ${parts.join(',')}`;
}

/** The scope a client needs for a request, to put in the challenge. */
export function scopeForRequest(route: V2Route | undefined, method: string): string | undefined {
  if (!route || route.route === 'base' || route.route === 'invalid-name') return undefined;
  if (route.route === 'catalog') return 'registry:catalog:*';
  const action = method === 'DELETE' ? 'delete' : method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push';
  return `repository:${route.name}:${action}`;
}

function v2Path(url: string): V2Route | undefined {
  const path = url.split('?')[0]!.replace(/^\/v2\/?/, '');
  try {
    return parseV2Path(decodeURIComponent(path));
  } catch {
    return undefined;
  }
}

function challenge(reply: FastifyReply, base: PublicBase, route: V2Route | undefined, method: string, bearerGiven: boolean): FastifyReply {
  return reply
    .code(401)
    .headers(API_VERSION_HEADER)
    .header('www-authenticate', challengeFor(base, scopeForRequest(route, method), bearerGiven ? 'invalid_token' : undefined))
    .send(ociError('UNAUTHORIZED', BAD_CREDENTIALS_MESSAGE));
}

async function authenticate(request: FastifyRequest, runtime: Runtime): Promise<RegistryCaller | undefined> {
  const header = request.headers.authorization;
  const now = runtime.now();
  const ip = request.ip ?? '';
  const bearer = typeof header === 'string' ? BEARER_RE.exec(header) : null;
  let tokenResult;
  let jwtAccess;
  if (bearer?.[1]) {
    const verified = await verifyRegistryToken(bearer[1], runtime.keys, runtime.config.auth, now);
    if (!verified) {
      request.log.info({ reason: 'bad_jwt' }, 'credentials refused');
      return undefined;
    }
    // The JWT names the token; the token itself must still be usable now.
    tokenResult = await runtime.authenticator.checkBound(verified.tokenId, ip, now);
    jwtAccess = verified.access;
  } else {
    const basic = parseBasicAuthorization(header);
    if (!basic) return undefined;
    tokenResult = await runtime.authenticator.check(basic.user, basic.password, ip, now);
    if (!tokenResult.ok) await noteFailedLogin(runtime, request);
  }
  if (!tokenResult.ok) {
    request.log.info({ reason: tokenResult.reason }, 'credentials refused');
    return undefined;
  }
  const principal = await runtime.access.principal(tokenResult.token);
  if (!principal) return undefined;
  return { token: tokenResult.token, principal, ip, ...(jwtAccess ? { jwtAccess } : {}) };
}

/**
 * /v2: every request is authenticated before any route runs, so even unknown
 * paths never answer a stranger with anything but the challenge.
 */
export function registerV2Auth(app: FastifyInstance, runtime: Runtime, base: PublicBase): void {
  if (!runtime.config.auth.enabled) return registerLocalOnlyV2(app, runtime);
  app.addHook('onRequest', async (request, reply) => {
    if (!isRegistryPath(request.url)) return;
    reply.headers(API_VERSION_HEADER);
    // Parsed once, first: the challenge, the metrics label and the routes all use it, refused or not.
    const route = v2Path(request.url);
    request.v2Route = route;
    await refuseLockedOut(runtime, request, reply, 'v2');
    const caller = await authenticate(request, runtime);
    if (!caller) return challenge(reply, base, route, request.method, /^bearer /i.test(request.headers.authorization ?? ''));
    await countTokenRequest(runtime, request, reply, 'v2', caller.token);
    request.registryCaller = caller;
  });
}

export const LOCAL_ONLY_MESSAGE = 'this instance runs in local-only mode (auth.enabled = false): /v2 answers only callers on the same machine (loopback)';

/**
 * Local-only mode: no credentials, and no challenge either (there is no /token
 * to send a client to). The socket's own address decides, never a forwarded
 * header: loopback callers act as the operator with every right, anyone else
 * gets 403.
 */
function registerLocalOnlyV2(app: FastifyInstance, runtime: Runtime): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!isRegistryPath(request.url)) return;
    reply.headers(API_VERSION_HEADER);
    const address = request.socket.remoteAddress;
    if (!isLoopbackAddress(address)) {
      request.log.info({ address }, 'local-only mode: refused a caller that is not on loopback');
      return reply.code(403).send(ociError('DENIED', LOCAL_ONLY_MESSAGE));
    }
    // A page the developer visits can rebind its own name to 127.0.0.1: its requests then come from loopback
    // but name that page's host (and origin). Only requests naming this machine are the developer's own.
    if (!namesLoopback(request.headers.host)) {
      request.log.info({ host: String(request.headers.host ?? '').slice(0, 100) }, 'local-only mode: refused a request naming another host');
      return reply.code(403).send(ociError('DENIED', `${LOCAL_ONLY_MESSAGE}, and only requests to localhost or a loopback address`));
    }
    refuseCrossSite(request, runtime.config, { json: false });
    request.registryCaller = localOnlyCaller(runtime.operator, address ?? '', runtime.now());
    request.v2Route = v2Path(request.url);
  });
}

function namesLoopback(host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return isLoopbackHost(new URL(`http://${host}`).hostname);
  } catch {
    return false;
  }
}
