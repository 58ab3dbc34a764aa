import { access, mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../runtime.js';

type Check = () => Promise<void>;

export function registerHealthRoutes(app: FastifyInstance, runtime: Runtime): void {
  // Liveness only: the process answers. Probes hit these every few seconds; their request lines would drown the log.
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  // Readiness: what a request needs can be reached.
  const { upstream } = runtime;
  const checks: Record<string, Check> = {
    store: async () => {
      await runtime.store.changeMarker();
    },
    // Gateway mode keeps no blobs: the upstream must answer, and accept our service token.
    ...(upstream
      ? { upstream: () => upstream.ping() }
      : {
          storage: async () => {
            await mkdir(runtime.blobs.root, { recursive: true });
            await access(runtime.blobs.root);
          },
        }),
  };
  app.get('/readyz', { logLevel: 'warn' }, async (request, reply) => {
    const results: Record<string, string> = {};
    let ready = true;
    for (const [name, check] of Object.entries(checks)) {
      try {
        await check();
        results[name] = 'ok';
      } catch (err) {
        ready = false;
        results[name] = 'failing';
        request.log.warn({ err, check: name }, 'readiness check failed');
      }
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });
}
