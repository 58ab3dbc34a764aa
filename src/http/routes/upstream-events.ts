import type { FastifyInstance } from 'fastify';
import { PortcullisError } from '../../core/errors.js';
import { summarizeNotification } from '../../core/upstream-proxy.js';
import { sameSecret } from '../../auth/secret-hash.js';
import type { Runtime } from '../../runtime.js';
import { BAD_CREDENTIALS_MESSAGE } from '../error-catalogue.js';
import { noteFailedLogin, refuseLockedOut } from '../rate-limit.js';
import { BODY_LIMIT_BYTES } from '../server-limits.js';

export const UPSTREAM_EVENTS_PATH = '/api/v1/upstream/events';
const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';
const BEARER_RE = /^bearer (.+)$/i;

/**
 * Gateway mode only (app.ts registers it when registry.upstream is set): the
 * upstream's notifications (distribution's `notifications: endpoints`) tell
 * Portcullis that a repository's tags or manifests changed, so the cached
 * graph that by-digest checks walk is dropped at once. The upstream proves
 * itself with the shared secret as a Bearer header, checked before a byte of
 * the body is read: an unauthenticated caller costs no parsing and no memory.
 */
export function registerUpstreamEventRoutes(app: FastifyInstance, runtime: Runtime): void {
  const secret = runtime.config.registry.notification_secret;
  app.register(async (scope) => {
    // onRequest runs before Fastify reads the body; hooks added in this scope guard this route only.
    scope.addHook('onRequest', async (request, reply) => {
      if (secret === undefined) {
        throw new PortcullisError('not_found', 'upstream notifications are not enabled: set registry.notification_secret');
      }
      // The same per-address lockout as failed logins: the secret cannot be guessed one request at a time.
      await refuseLockedOut(runtime, request, reply, 'api');
      const authorization = request.headers.authorization;
      const given = BEARER_RE.exec(authorization ?? '')?.[1];
      if (given === undefined || !sameSecret(given, secret)) {
        // A request without any credential is not a guess; one with a wrong one is.
        if (authorization !== undefined) await noteFailedLogin(runtime, request);
        reply.header('www-authenticate', 'Bearer realm="Portcullis upstream notifications"');
        throw new PortcullisError('unauthenticated', BAD_CREDENTIALS_MESSAGE);
      }
    });

    // distribution's own media type, and plain JSON for hand-made calls; both parsed here only.
    scope.addContentTypeParser([EVENTS_MEDIA_TYPE, 'application/json'], { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new PortcullisError('invalid_input', 'the notification body is not JSON', 'body'), undefined);
      }
    });

    scope.post(UPSTREAM_EVENTS_PATH, { bodyLimit: BODY_LIMIT_BYTES }, async (request, reply) => {
      const summary = summarizeNotification(request.body);
      for (const repository of summary.changed) runtime.graphs.changed(repository);
      if (summary.changed.length > 0) request.log.info({ repositories: summary.changed }, 'upstream changed: cached graphs dropped');
      return reply.send({ events: summary.events, changed: summary.changed });
    });
  });
}
