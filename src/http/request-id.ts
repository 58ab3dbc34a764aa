import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Ids as proxies make them (nginx's `$request_id`, a UUID): one kept from the
 * proxy lets its log and ours be joined. Anything else, which could break a
 * log line or smuggle text into it, is replaced.
 */
const INCOMING_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** Fastify's genReqId: the caller's X-Request-Id when it is a plain id, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && INCOMING_ID_RE.test(incoming) ? incoming : randomUUID();
}

/** Every answer names its request, so a user's report leads to its log lines. */
export function registerRequestIdHeader(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
}
