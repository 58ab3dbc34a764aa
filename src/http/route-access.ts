import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Operation } from '../core/operations.js';

/**
 * How a route is guarded, for the routes outside the admin operation table:
 * - public: no credential, nothing tenant-specific (health, keys, the dashboard's files, the API document);
 * - none: an open API route, a browser's write judged by origin and body type (login, invitations);
 * - session: any signed-in dashboard user, by its cookie;
 * - registry: /v2, registry credentials and decide() on every request;
 * - token: /token, the token endpoint's own credentials;
 * - upstream: the upstream registry's notifications, by their shared secret;
 * - metrics: the [metrics] settings.
 */
export type RouteAccess = 'public' | 'none' | 'session' | 'registry' | 'token' | 'upstream' | 'metrics';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An admin route: what it does, judged by src/core/operations.ts. */
    operation?: Operation;
    access?: RouteAccess;
  }
}

/** The routes registered without a declaration of their own, by path; anything else must declare one. */
const BY_PATH: [RegExp, RouteAccess][] = [
  [/^\/v2(?:\/|$)/, 'registry'],
  [/^\/token$/, 'token'],
  [/^\/metrics$/, 'metrics'],
  [/^\/api\/v1\/upstream\/events$/, 'upstream'],
  [/^\/(?:healthz|readyz)$/, 'public'],
  [/^\/\.well-known\//, 'public'],
  [/^\/api\/v1\/openapi\.json$/, 'public'],
];

export interface DeclaredRoute {
  method: string;
  url: string;
  operation?: Operation;
  access?: RouteAccess;
}

/**
 * Makes every route of the app say how it is guarded: admin routes by their
 * operation, the others by their own `config.access`, by a path above, or,
 * for the dashboard's files, by the scope they are registered in
 * (publicScope). An app with a route that says nothing does not start.
 * Returns the list, which the authority test walks.
 */
export function declareRouteAccess(app: FastifyInstance): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  const options: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    options.push(route);
  });
  app.addHook('onReady', async () => {
    routes.length = 0;
    for (const route of options) {
      const config = route.config ?? {};
      const access = config.operation === undefined ? (config.access ?? BY_PATH.find(([re]) => re.test(route.url))?.[1]) : undefined;
      for (const method of [route.method].flat()) {
        if (config.operation === undefined && access === undefined) throw new Error(`route ${method} ${route.url} declares neither an operation nor an access`);
        routes.push({ method, url: route.url, ...(config.operation ? { operation: config.operation } : { access }) });
      }
    }
  });
  return routes;
}

/** Every route registered in `scope` is public: the dashboard's pages and assets. */
export function publicScope(scope: FastifyInstance): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, access: route.config?.access ?? 'public' };
  });
}
