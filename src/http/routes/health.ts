import type { FastifyInstance } from 'fastify';

export function registerHealthRoutes(app: FastifyInstance): void {
  // Liveness only: the process answers. Readiness (store, upstream) is /readyz, added with the registry.
  app.get('/healthz', async () => ({ status: 'ok' }));
}
