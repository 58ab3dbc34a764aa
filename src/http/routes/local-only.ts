import type { FastifyInstance } from 'fastify';
import { problem } from '../error-catalogue.js';

export const NO_TOKEN_ENDPOINT_MESSAGE =
  'there is no /token in local-only mode (auth.enabled = false): /v2 takes no credentials, and only from this machine';

/**
 * /token in local-only mode: nothing to sign for, so every method is refused
 * before its body is read, with words that say why rather than a bare 404.
 */
export function registerLocalOnlyTokenRoute(app: FastifyInstance): void {
  app.route({
    method: ['GET', 'POST'],
    url: '/token',
    onRequest: async (_request, reply) =>
      reply.code(404).type('application/problem+json').send(problem('not_found', 404, 'Not found', NO_TOKEN_ENDPOINT_MESSAGE)),
    handler: async () => undefined,
  });
}
