import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError } from '../../core/errors.js';
import { authorize } from '../../core/operations.js';
import type { Runtime } from '../../runtime.js';
import { tokenCaller } from '../admin-auth.js';
import { refuseBrowserPages } from '../cross-site.js';
import { ERROR_CATALOGUE, problem } from '../error-catalogue.js';
import type { Metrics } from '../metrics.js';
import { refuseLockedOut } from '../rate-limit.js';

/**
 * The series name every vendor's repositories, so a scraper must hold
 * admin:metrics:read in the operator vendor, the instance's own tenant
 * (operation metrics.read): a token of any other vendor is refused even with
 * the scope, as it would see the other tenants' names. A wrong secret counts
 * towards the address's lockout, as on the admin API.
 */
async function checkScraper(runtime: Runtime, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await refuseLockedOut(runtime, request, reply, 'metrics');
  const caller = await tokenCaller(runtime, request, reply, 'metrics');
  authorize(caller.authority, 'metrics.read');
}

/**
 * GET /metrics on `app`; with `requireToken`, only for a scraper checkScraper
 * accepts. The refusal is answered here rather than by the app's error
 * handler, so the separate metrics listener (metrics-listener.ts) answers the
 * same way as the main port.
 */
export function registerMetricsRoute(app: FastifyInstance, runtime: Runtime, metrics: Metrics, requireToken: boolean): void {
  // Scrapers poll this every few seconds; their request lines would drown the log.
  app.get('/metrics', { logLevel: 'warn' }, async (request, reply) => {
    try {
      // Scrapers are no browsers: a page (a rebinding one too) reads nothing here, token or not.
      refuseBrowserPages(request, '/metrics');
      if (requireToken) await checkScraper(runtime, request, reply);
    } catch (err) {
      if (!(err instanceof PortcullisError)) throw err;
      const entry = ERROR_CATALOGUE[err.code];
      return reply.code(entry.status).type('application/problem+json').send(problem(err.code, entry.status, entry.title, err.message));
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
