import type { FastifyInstance } from 'fastify';
import { PortcullisError } from '../../core/errors.js';
import { summarizeNotification } from '../../core/upstream-proxy.js';
import { sameSecret } from '../../auth/secret-hash.js';
import type { GraphSource } from '../../registry/graph-source.js';
import { BAD_CREDENTIALS_MESSAGE } from '../error-catalogue.js';

export const UPSTREAM_EVENTS_PATH = '/api/v1/upstream/events';
const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';
const BEARER_RE = /^bearer (.+)$/i;

/**
 * Gateway mode: the upstream's notifications (distribution's `notifications:
 * endpoints`) tell Portcullis that a repository's tags or manifests changed,
 * so the cached graph that by-digest checks walk is dropped at once. The
 * upstream proves itself with the shared secret as a Bearer header.
 */
export function registerUpstreamEventRoutes(app: FastifyInstance, options: { secret: string | undefined; graphs: GraphSource }): void {
  app.register(async (scope) => {
    // distribution's own media type, and plain JSON for hand-made calls; both parsed here only.
    scope.addContentTypeParser([EVENTS_MEDIA_TYPE, 'application/json'], { parseAs: 'string', bodyLimit: 16 * 1024 * 1024 }, (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new PortcullisError('invalid_input', 'the notification body is not JSON', 'body'), undefined);
      }
    });

    scope.post(UPSTREAM_EVENTS_PATH, async (request, reply) => {
      const { secret } = options;
      if (secret === undefined) throw new PortcullisError('not_found', 'upstream notifications are not enabled: set registry.notification_secret');
      const given = BEARER_RE.exec(request.headers.authorization ?? '')?.[1];
      if (given === undefined || !sameSecret(given, secret)) {
        reply.header('www-authenticate', 'Bearer realm="Portcullis upstream notifications"');
        throw new PortcullisError('unauthenticated', BAD_CREDENTIALS_MESSAGE);
      }
      const summary = summarizeNotification(request.body);
      for (const repository of summary.changed) options.graphs.changed(repository);
      if (summary.changed.length > 0) request.log.info({ repositories: summary.changed }, 'upstream changed: cached graphs dropped');
      return reply.send({ events: summary.events, changed: summary.changed });
    });
  });
}
