import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { invalid } from '../core/errors.js';
import { parseListenAddress } from '../core/listen-address.js';
import type { Runtime } from '../runtime.js';
import { registerClientAddress } from './client-address.js';
import { problem } from './error-catalogue.js';
import type { Metrics } from './metrics.js';
import { registerRequestIdHeader, requestIdOf } from './request-id.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { serverLimits } from './server-limits.js';

/**
 * `[metrics] listen`: a second, small server that answers /metrics only,
 * from the main app's registry, on an address the operator keeps private
 * (a loopback or cluster-internal address). Whoever reaches it may scrape
 * unless `require_token` asks for the same token as the main port.
 */
export async function listenForMetrics(runtime: Runtime, metrics: Metrics, logger?: FastifyBaseLogger): Promise<FastifyInstance | undefined> {
  const { metrics: settings, server } = runtime.config;
  if (settings.listen === '') return undefined;
  const { host, port } = parseListenAddress(settings.listen, 'metrics.listen');
  const app = Fastify({
    ...(logger ? { loggerInstance: logger.child({ listener: 'metrics' }) } : { logger: false }),
    ...serverLimits(server),
    trustProxy: false,
    requestIdHeader: false,
    genReqId: requestIdOf,
  });
  registerClientAddress(app, server);
  registerRequestIdHeader(app);
  registerMetricsRoute(app, runtime, metrics, settings.require_token);
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send(problem('route_not_found', 404, 'Not found', `no route for ${request.method} ${request.url.split('?')[0]}: this address (metrics.listen) serves GET /metrics only`)),
  );
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    throw invalid(`cannot listen on ${settings.listen} (metrics.listen): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'metrics.listen');
  }
  const address = app.server.address();
  app.log.info({ host, port: typeof address === 'object' && address ? address.port : port, require_token: settings.require_token }, 'metrics listening');
  return app;
}
