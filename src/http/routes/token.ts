import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseBasicAuthorization } from '../../core/basic-auth.js';
import { PortcullisError } from '../../core/errors.js';
import type { Credential, TokenRequest } from '../../auth/token-server.js';
import type { Runtime } from '../../runtime.js';
import { BAD_CREDENTIALS_MESSAGE, ERROR_CATALOGUE, problem } from '../error-catalogue.js';
import type { Metrics } from '../metrics.js';
import { countTokenRequest, noteFailedLogin, refuseLockedOut } from '../rate-limit.js';
import { refuseBrowserPages } from '../cross-site.js';

/**
 * The Docker registry token endpoint: GET with Basic credentials, and the
 * OAuth2 POST form (`grant_type=password` or `refresh_token`) that
 * `docker login` and containers/image use once they hold an identity token.
 * Errors are problem+json with the OAuth2 `error` member beside `code`.
 */

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const BASIC_CHALLENGE = 'Basic realm="Portcullis"';

type Params = Record<string, string | string[] | undefined>;

function single(params: Params, name: string): string | undefined {
  const v = params[name];
  if (Array.isArray(v)) throw new PortcullisError('invalid_input', `${name} given more than once`, name);
  return v;
}

function all(params: Params, name: string): string[] {
  const v = params[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function required(params: Params, name: string, why: string): string {
  const v = single(params, name);
  if (v === undefined || v === '') throw new PortcullisError('invalid_input', `${name} is required ${why}`, name);
  return v;
}

// OAuth2 has no error for throttling; temporarily_unavailable (RFC 6749 4.1.2.1) is the nearest, and the status says 429.
const OAUTH_ERRORS: Partial<Record<PortcullisError['code'], string>> = {
  invalid_input: 'invalid_request',
  unauthenticated: 'invalid_grant',
  rate_limited: 'temporarily_unavailable',
};

function oauthError(code: PortcullisError['code']): string {
  return OAUTH_ERRORS[code] ?? 'server_error';
}

function sendProblem(reply: FastifyReply, err: PortcullisError, oauth = oauthError(err.code)): FastifyReply {
  const entry = ERROR_CATALOGUE[err.code];
  return reply
    .code(entry.status)
    .headers(NO_STORE)
    .type('application/problem+json')
    .send({ ...problem(err.code, entry.status, entry.title, err.message, err.field), error: oauth, error_description: err.message });
}

/** application/x-www-form-urlencoded, the OAuth2 body: repeated keys become arrays, as in a query string. */
function parseForm(body: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export function registerTokenRoutes(app: FastifyInstance, runtime: Runtime, metrics: Metrics): void {
  // An encapsulated scope, so the form parser below serves /token alone: every other route takes JSON
  // only, and a cross-site HTML form (which can only send forms and text) cannot post to the admin API.
  app.register(async (scope) => tokenRoutes(scope, runtime, metrics));
}

function tokenRoutes(app: FastifyInstance, runtime: Runtime, metrics: Metrics): void {
  // Registry clients send no Origin or Sec-Fetch-Site: a browser sent here by a page would only spend failed
  // guesses of the visitor's address, locking it out of every surface.
  app.addHook('onRequest', async (request) => refuseBrowserPages(request, '/token'));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });

  async function answer(request: FastifyRequest, reply: FastifyReply, build: () => TokenRequest | undefined, challenge: boolean) {
    let tokenRequest: TokenRequest | undefined;
    try {
      await refuseLockedOut(runtime, request, reply, 'token');
      tokenRequest = build();
      if (tokenRequest === undefined) {
        metrics.tokenRejected.inc({ reason: 'no_credentials' });
        return refuse(reply, challenge);
      }
      const result = await runtime.tokenServer.issue(tokenRequest, (token) => countTokenRequest(runtime, request, reply, 'token', token));
      if (!result.ok) {
        metrics.tokenRejected.inc({ reason: result.reason });
        if (tokenRequest.credential.kind === 'password') await noteFailedLogin(runtime, request);
        request.log.info({ reason: result.reason }, 'token refused');
        return refuse(reply, challenge);
      }
      metrics.tokenIssued.inc();
      request.log.info({ token: result.tokenId, access: result.access }, 'token issued');
      return reply.headers(NO_STORE).send(result.response);
    } catch (err) {
      if (err instanceof PortcullisError && err.code === 'invalid_input') {
        metrics.tokenRejected.inc({ reason: 'invalid_request' });
        const unsupported = err.field === 'grant_type' && err.message.startsWith('unsupported');
        return sendProblem(reply, err, unsupported ? 'unsupported_grant_type' : undefined);
      }
      if (err instanceof PortcullisError && err.code === 'rate_limited') return sendProblem(reply, err);
      throw err;
    }
  }

  function refuse(reply: FastifyReply, challenge: boolean): FastifyReply {
    if (challenge) reply.header('www-authenticate', BASIC_CHALLENGE);
    return sendProblem(reply, new PortcullisError('unauthenticated', BAD_CREDENTIALS_MESSAGE));
  }

  app.get('/token', async (request, reply) =>
    answer(
      request,
      reply,
      () => {
        const q = request.query as Params;
        const offline = single(q, 'offline_token');
        // Validated before the credential is looked at, so a bad scope is a 400 for anyone.
        const tokenRequest = {
          ...runtime.tokenServer.validate({ service: single(q, 'service'), scopes: all(q, 'scope') }),
          offline: offline === 'true',
          ip: request.ip,
        };
        const basic = parseBasicAuthorization(request.headers.authorization);
        if (!basic) return undefined;
        const credential: Credential = { kind: 'password', user: basic.user, password: basic.password };
        return { ...tokenRequest, credential };
      },
      true,
    ),
  );

  app.post('/token', async (request, reply) =>
    answer(
      request,
      reply,
      () => {
        const isForm = /^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '');
        if (!isForm || typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
          throw new PortcullisError('invalid_input', 'expected an application/x-www-form-urlencoded body with grant_type', 'grant_type');
        }
        const params = request.body as Params;
        const grantType = required(params, 'grant_type', '(password or refresh_token)');
        required(params, 'client_id', 'to identify the client, e.g. docker');
        const tokenRequest = {
          ...runtime.tokenServer.validate({ service: single(params, 'service'), scopes: all(params, 'scope') }),
          offline: single(params, 'access_type') === 'offline',
          ip: request.ip,
        };
        let credential: Credential;
        if (grantType === 'password') {
          credential = { kind: 'password', user: required(params, 'username', 'for grant_type=password'), password: required(params, 'password', 'for grant_type=password') };
        } else if (grantType === 'refresh_token') {
          credential = { kind: 'refresh_token', refreshToken: required(params, 'refresh_token', 'for grant_type=refresh_token') };
        } else {
          throw new PortcullisError('invalid_input', `unsupported grant_type "${grantType}": expected password or refresh_token`, 'grant_type');
        }
        return { ...tokenRequest, credential };
      },
      false,
    ),
  );
}
