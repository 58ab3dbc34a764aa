import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  // Scrapers poll this every few seconds; their request lines would drown the log.
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
