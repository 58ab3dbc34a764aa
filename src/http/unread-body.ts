import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A request refused before its body was read keeps that body unread. Node
 * would otherwise drain it to keep the connection alive, however long it is;
 * closing the connection once the answer is written ends the upload instead
 * (as Fastify does after a 413).
 */
export function closeIfBodyPending(request: FastifyRequest, reply: FastifyReply): void {
  const length = request.headers['content-length'];
  const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !request.raw.complete) reply.header('connection', 'close');
}
