import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseBasicAuthorization } from '../../core/basic-auth.js';
import type { Token } from '../../core/model.js';
import type { Runtime } from '../../runtime.js';
import { BAD_CREDENTIALS_MESSAGE, isRegistryPath, ociError } from '../error-catalogue.js';

declare module 'fastify' {
  interface FastifyRequest {
    token?: Token;
  }
}

const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' };

function challenge(reply: FastifyReply): FastifyReply {
  return reply
    .code(401)
    .headers(API_VERSION_HEADER)
    .header('www-authenticate', 'Basic realm="Portcullis"')
    .send(ociError('UNAUTHORIZED', BAD_CREDENTIALS_MESSAGE));
}

/**
 * /v2: every request is authenticated before any route runs, so even unknown
 * paths never answer a stranger with anything but the challenge.
 */
export function registerV2Routes(app: FastifyInstance, runtime: Runtime): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!isRegistryPath(request.url)) return;
    const basic = parseBasicAuthorization(request.headers.authorization);
    if (!basic) return challenge(reply);
    const result = await runtime.authenticator.check(basic.user, basic.password, request.ip, runtime.now());
    if (!result.ok) {
      request.log.info({ reason: result.reason }, 'credentials refused');
      return challenge(reply);
    }
    request.token = result.token;
    reply.headers(API_VERSION_HEADER);
  });

  const base = async () => ({});
  app.get('/v2/', base);
  app.get('/v2', base);
}
