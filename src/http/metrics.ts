import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { CacheCounts } from '../auth/access-cache.js';

/**
 * One registry per app (not prom-client's global one), so several instances in
 * one process, as in tests, keep their counts apart.
 */
export interface Metrics {
  registry: Registry;
  tokenIssued: Counter;
  tokenRejected: Counter<'reason'>;
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  pulls: Counter<'repository' | 'kind'>;
  pushes: Counter<'repository'>;
  rateLimited: Counter<'surface' | 'kind'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's metrics, for serve's separate metrics listener (metrics.listen). */
    portcullisMetrics: Metrics;
  }
}

/** A cache's lookups so far, by cache name; read at each scrape, so the caches stay free of metrics code. */
export type CacheCountsSource = () => Readonly<Record<string, CacheCounts>>;

// prom-client's defaults end at 10 s; a large blob through the gateway takes longer.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export function createMetrics(caches: readonly CacheCountsSource[] = []): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_' });
  new Counter({
    name: 'portcullis_cache_requests_total',
    help: 'Cache lookups, by cache and result (hit or miss).',
    labelNames: ['cache', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const source of caches) {
        for (const [cache, counts] of Object.entries(source())) {
          this.inc({ cache, result: 'hit' }, counts.hits);
          this.inc({ cache, result: 'miss' }, counts.misses);
        }
      }
    },
  });
  return {
    registry,
    tokenIssued: new Counter({
      name: 'registry_token_issued_total',
      help: 'Registry tokens (JWTs) issued by /token.',
      registers: [registry],
    }),
    tokenRejected: new Counter({
      name: 'registry_token_rejected_total',
      help: 'Requests to /token refused, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern (/v2: the OCI endpoint) and status code, until the response ended.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    pulls: new Counter({
      name: 'portcullis_registry_pulls_total',
      help: 'Manifests served by GET, by repository and by how they were asked for (tag or digest).',
      labelNames: ['repository', 'kind'],
      registers: [registry],
    }),
    pushes: new Counter({
      name: 'portcullis_registry_pushes_total',
      help: 'Manifests stored by PUT, by repository.',
      labelNames: ['repository'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'portcullis_rate_limited_total',
      help: 'Requests answered 429, by surface (v2, token, api, metrics) and kind (token: over its budget; lockout: address locked after failed logins; account: a dashboard login refused after failed logins for its e-mail address).',
      labelNames: ['surface', 'kind'],
      registers: [registry],
    }),
  };
}
