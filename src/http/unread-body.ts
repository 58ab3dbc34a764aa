import type { FastifyReply, FastifyRequest } from 'fastify';

/** Whether the request carries a body, by its head: a length above 0, or a chunked one. */
export function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A request refused before its body was read keeps that body unread. Node
 * would otherwise drain it to keep the connection alive, however long it is;
 * closing the connection once the answer is written ends the upload instead
 * (as Fastify does after a 413).
 */
export function closeIfBodyPending(request: FastifyRequest, reply: FastifyReply): void {
  if (hasBody(request) && !request.raw.complete) reply.header('connection', 'close');
}
