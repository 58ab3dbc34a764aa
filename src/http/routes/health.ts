import type { FastifyInstance } from 'fastify';

export function registerHealthRoutes(app: FastifyInstance): void {
  // Liveness only: the process answers. Readiness (store, upstream) is /readyz, added with the registry.
  // Probes hit this every few seconds; their request lines would drown the log.
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
}
