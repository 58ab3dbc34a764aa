import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { V2Route } from '../core/oci-reference.js';
import type { Metrics } from './metrics.js';

/** /v2 has one Fastify route; its OCI endpoints are what an operator tells apart. */
const V2_LABELS: Record<V2Route['route'], string> = {
  base: '/v2/',
  catalog: '/v2/_catalog',
  tags: '/v2/<name>/tags/list',
  manifest: '/v2/<name>/manifests/<reference>',
  blob: '/v2/<name>/blobs/<digest>',
  uploads: '/v2/<name>/blobs/uploads/',
  upload: '/v2/<name>/blobs/uploads/<id>',
  referrers: '/v2/<name>/referrers/<digest>',
  'invalid-name': '/v2/<invalid-name>',
};

/**
 * The route pattern, never the URL: names, digests and ids in paths would
 * give every request a series of its own.
 */
export function routeLabel(request: FastifyRequest): string {
  const pattern = request.routeOptions.url;
  if (pattern === undefined || request.is404) return 'unmatched';
  if (pattern === '/v2/*') {
    // The /v2 hook parsed the path before anything could refuse the request.
    return request.v2Route ? V2_LABELS[request.v2Route.route] : pattern;
  }
  return pattern;
}

export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  // One hook for every per-request metric: it runs on each answer, /v2 and /token included.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.requestDuration.observe({ method: request.method, route: routeLabel(request), status_code: reply.statusCode }, reply.elapsedTime / 1000);
    if (request.rateLimited) metrics.rateLimited.inc(request.rateLimited);
    done();
  });
}
