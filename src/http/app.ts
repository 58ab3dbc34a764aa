import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { PortcullisError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import { ERROR_CATALOGUE, isRegistryPath, ociError, problem } from './error-catalogue.js';
import { createMetrics } from './metrics.js';
import { registerExplainRoute } from './routes/explain.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerTokenRoutes } from './routes/token.js';
import { registerRegistryRoutes, type ManifestEvent } from './routes/registry.js';
import { builtinBackend } from './routes/registry-builtin.js';
import { gatewayBackend } from './routes/registry-gateway.js';
import { registerUpstreamEventRoutes } from './routes/upstream-events.js';
import { publicBase, registerV2Auth } from './routes/v2.js';

export interface AppOptions {
  logger?: FastifyBaseLogger;
}

/** Headers whose values are credentials: never in a log line. */
export const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]'];

/** The one Fastify app: every HTTP surface of an instance hangs off it. */
export async function buildApp(runtime: Runtime, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 512 },
    // The public URL comes from config; client addresses are the socket's unless a proxy is configured later.
    trustProxy: false,
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
  });

  app.setErrorHandler((err: FastifyError | PortcullisError, request, reply) => {
    const isV2 = isRegistryPath(request.url);
    if (err instanceof PortcullisError) {
      const entry = ERROR_CATALOGUE[err.code];
      if (isV2) return reply.code(entry.status).send(ociError(entry.oci, err.message));
      return reply.code(entry.status).type('application/problem+json').send(problem(err.code, entry.status, entry.title, err.message, err.field));
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    // A 5xx shows nothing internal; a 4xx from Fastify itself (bad JSON, body too large) is safe to describe.
    const message = status >= 500 ? 'internal error' : err.message;
    if (isV2) return reply.code(status).send(ociError(status >= 500 ? 'UNKNOWN' : 'UNSUPPORTED', message));
    return reply.code(status).type('application/problem+json').send(problem(status >= 500 ? 'internal' : 'invalid_input', status, status >= 500 ? 'Internal error' : 'Bad request', message));
  });

  app.setNotFoundHandler((request, reply) => {
    if (isRegistryPath(request.url)) return reply.code(404).send(ociError('NAME_UNKNOWN', 'repository name not known to registry'));
    return reply.code(404).type('application/problem+json').send(problem('route_not_found', 404, 'Not found', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });

  const metrics = createMetrics();
  registerHealthRoutes(app, runtime);
  registerMetricsRoute(app, metrics);
  registerTokenRoutes(app, runtime, metrics);
  registerKeyRoutes(app, runtime);
  registerExplainRoute(app, runtime);
  // On the root, not in a plugin: the /v2 auth hook must also guard paths that match no route.
  const base = publicBase(runtime.config, () => {
    const address = app.server.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  });
  registerV2Auth(app, runtime, base);
  const onManifest: ManifestEvent = (request, action, repository, tag, digest) => {
    const caller = request.registryCaller;
    if (!caller) return;
    runtime.usage.record({
      at: runtime.now(),
      vendorId: caller.token.vendorId,
      tokenId: caller.token.id,
      customerId: caller.token.customerId,
      action,
      repository,
      tag,
      digest,
      ip: caller.ip,
      userAgent: String(request.headers['user-agent'] ?? '').slice(0, 512),
    });
  };
  const { upstream, graphs } = runtime;
  registerRegistryRoutes(app, {
    base,
    access: runtime.registryAccess,
    backend: upstream
      ? gatewayBackend({ upstream, graphs, onManifest })
      : builtinBackend({ store: runtime.store, blobs: runtime.blobs, now: runtime.now, onManifest }),
  });
  registerUpstreamEventRoutes(app, { secret: upstream ? runtime.config.registry.notification_secret : undefined, graphs });
  return app;
}
