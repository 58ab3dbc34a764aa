import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isRegistryPath, ociError, problem } from './error-catalogue.js';

/**
 * Requests Fastify's router refuses before any route or hook runs: a path
 * whose percent-escapes do not decode, or a path parameter longer than the
 * router allows. Fastify's own answer is neither problem+json nor the OCI
 * envelope and repeats the whole path; this one is short and in the shape
 * of the surface asked.
 */
export function answerFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const status = tooLong ? 414 : 400;
  const message = tooLong ? 'a path segment is too long' : err.code === 'FST_ERR_BAD_URL' ? 'the URL holds a percent-escape that does not decode' : 'the request cannot be routed';
  if (isRegistryPath(request.url)) {
    void reply.code(status).send(ociError(tooLong ? 'NAME_INVALID' : 'UNSUPPORTED', message));
    return;
  }
  void reply.code(status).type('application/problem+json').send(problem('invalid_input', status, tooLong ? 'URI Too Long' : 'Bad Request', message));
}
