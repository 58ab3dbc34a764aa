import { STATUS_CODES } from 'node:http';
import { Ajv } from 'ajv';
import Fastify, { type FastifySchemaValidationError, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { PortcullisError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import type { Caller } from '../service/context.js';
import { packageVersion } from '../version.js';
import { ERROR_CATALOGUE, isRegistryPath, ociError, problem } from './error-catalogue.js';
import { createMetrics, type CacheCountsSource } from './metrics.js';
import { registerRequestIdHeader, requestIdOf } from './request-id.js';
import { registerRequestMetrics } from './request-metrics.js';
import { registerAdminApi } from './routes/api/index.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerLocalOnlyTokenRoute } from './routes/local-only.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerClientAddress } from './client-address.js';
import { registerTokenRoutes } from './routes/token.js';
import { registerRegistryRoutes, type ManifestEvent } from './routes/registry.js';
import { builtinBackend } from './routes/registry-builtin.js';
import { gatewayBackend } from './routes/registry-gateway.js';
import { registerUpstreamEventRoutes } from './routes/upstream-events.js';
import { registerWebRoutes } from './routes/web.js';
import { publicBase, registerV2Auth } from './routes/v2.js';
import { declareRouteAccess, type DeclaredRoute } from './route-access.js';
import { serverLimits } from './server-limits.js';
import { closeIfBodyPending } from './unread-body.js';
import { httpsServerOptions, registerTransportSecurity, type TlsPair } from './tls.js';
import { answerFrameworkError } from './framework-errors.js';

export interface AppOptions {
  logger?: FastifyBaseLogger;
  /**
   * The CLI runs its management commands through the admin API in-process
   * (app.inject, never listening): every request then acts as this caller,
   * the operator or --vendor, as whoever can read the data dir may.
   */
  localCaller?: Caller;
  /** The built dashboard to serve at `/`; dist/web unless a test points elsewhere. */
  webDir?: string;
  /** serve's certificate and key (src/http/tls.ts): the one port then speaks HTTPS. */
  tls?: TlsPair;
}

export { REDACTED_PATHS } from './logger.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with how it is guarded, complete once the app is ready (test/http/authority.test.ts walks it). */
    declaredRoutes: DeclaredRoute[];
  }
}

/** The one Fastify app: every HTTP surface of an instance hangs off it. */
export async function buildApp(runtime: Runtime, options: AppOptions = {}): Promise<FastifyInstance> {
  const limits = serverLimits(runtime.config.server);
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Body, header and timeout limits (docs/deployment.md), from [server].
    ...limits,
    ...(options.tls ? { https: httpsServerOptions(limits.http, options.tls) } : {}),
    frameworkErrors: answerFrameworkError,
    routerOptions: { maxParamLength: 512 },
    // The public URL comes from config; client addresses are the socket's, or from [server] trusted_proxies (client-address.ts).
    trustProxy: false,
    // requestIdOf reads X-Request-Id itself, keeping it only when it is a plain id.
    requestIdHeader: false,
    genReqId: requestIdOf,
  });
  // First: every later hook and the request logs read the client address it sets.
  registerClientAddress(app, runtime.config.server);
  // JSON bodies are typed strictly (a number is not a name); query strings are text, so their numbers are coerced.
  // Neither drops unknown fields silently: they are refused by name.
  const bodyAjv = new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  const textAjv = new Ajv({ coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => lazyValidator(httpPart === 'body' ? bodyAjv : textAjv, schema));
  // Response schemas document the admin API; compiling a serializer for each of them cost ~9 MB of
  // resident memory for routes that are far from the hot path. The presenters (src/present.ts) already
  // build the exact shapes, and test/http/admin-api.test.ts checks answers against the schemas.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((err: FastifyError | PortcullisError, request, reply) => {
    const isV2 = isRegistryPath(request.url);
    if (err instanceof PortcullisError) {
      const entry = ERROR_CATALOGUE[err.code];
      if (isV2) return reply.code(entry.status).send(ociError(entry.oci, err.message));
      return reply.code(entry.status).type('application/problem+json').send(problem(err.code, entry.status, entry.title, err.message, err.field));
    }
    if (err.validation && !isV2) {
      const { message, field } = describeValidation(err);
      return reply.code(400).type('application/problem+json').send(problem('invalid_input', 400, ERROR_CATALOGUE.invalid_input.title, message, field));
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    // A 5xx shows nothing internal; a 4xx from Fastify itself (bad JSON, body too large) is safe to describe.
    const message = status >= 500 ? 'internal error' : err.message;
    if (isV2) return reply.code(status).send(ociError(status >= 500 ? 'UNKNOWN' : 'UNSUPPORTED', message));
    return reply.code(status).type('application/problem+json').send(problem(status >= 500 ? 'internal' : 'invalid_input', status, status >= 500 ? 'Internal error' : (STATUS_CODES[status] ?? 'Bad request'), message));
  });

  const answerNotFound = (request: FastifyRequest, reply: FastifyReply) => {
    if (isRegistryPath(request.url)) return reply.code(404).send(ociError('NAME_UNKNOWN', 'repository name not known to registry'));
    const path = request.url.split('?')[0]!;
    const why = !runtime.config.auth.enabled && /^\/api(?:\/|$)/.test(path) ? ': the admin API is off in local-only mode (auth.enabled = false)' : '';
    return reply.code(404).type('application/problem+json').send(problem('route_not_found', 404, 'Not found', `no route for ${request.method} ${path}${why}`));
  };
  app.setNotFoundHandler(answerNotFound);
  // Whatever refused a request before its body was read (credentials, a missing route, a lockout), the body stays unread.
  app.addHook('onSend', async (request, reply) => {
    if (reply.statusCode >= 400) closeIfBodyPending(request, reply);
  });

  const routes = declareRouteAccess(app);
  app.decorate('declaredRoutes', routes);
  const caches: CacheCountsSource[] = [() => runtime.access.cacheCounts()];
  if (runtime.graphs.cacheCounts) caches.push(() => runtime.graphs.cacheCounts!());
  const metrics = createMetrics(caches);
  registerRequestIdHeader(app);
  registerTransportSecurity(app, runtime.config, options.tls !== undefined);
  registerRequestMetrics(app, metrics);
  registerHealthRoutes(app, runtime);
  registerMetricsRoute(app, runtime, metrics, runtime.config.metrics.access === 'token');
  // serve's separate metrics listener (metrics.listen) reads the same registry.
  app.decorate('portcullisMetrics', metrics);
  if (runtime.config.auth.enabled) registerTokenRoutes(app, runtime, metrics);
  else registerLocalOnlyTokenRoute(app);
  registerKeyRoutes(app, runtime);
  if (options.localCaller) {
    const caller = options.localCaller;
    app.addHook('onRequest', async (request) => {
      request.caller = caller;
    });
  }
  const onManifest: ManifestEvent = (request, action, repository, tag, digest) => {
    if (action === 'pull') metrics.pulls.inc({ repository, kind: tag === null ? 'digest' : 'tag' });
    else metrics.pushes.inc({ repository });
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
  const backend = upstream
    ? gatewayBackend({ upstream, graphs, onManifest })
    : builtinBackend({ store: runtime.store, blobs: runtime.blobs, now: runtime.now, onManifest });
  // Local-only mode (auth.enabled = false) serves no admin API: every /api route stays inside this condition.
  // The CLI's in-process app (localCaller, never listening) still needs it to manage the instance.
  if (runtime.config.auth.enabled || options.localCaller) await registerAdminApi(app, runtime, packageVersion(), backend);
  // On the root, not in a plugin: the /v2 auth hook must also guard paths that match no route.
  const base = publicBase(runtime.config, () => {
    const address = app.server.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  });
  registerV2Auth(app, runtime, base);
  registerRegistryRoutes(app, {
    base,
    access: runtime.registryAccess,
    backend,
  });
  // Only a gateway hears from an upstream; elsewhere the path is no route at all (404 route_not_found).
  if (upstream) registerUpstreamEventRoutes(app, runtime);
  // The dashboard talks only to the admin API: none in local-only mode, nor in the CLI's in-process app.
  if (runtime.config.auth.enabled && !options.localCaller) await registerWebRoutes(app, { dir: options.webDir });
  // No route: answered on arrival, after every other arrival hook (request id, HSTS, the /v2 challenge),
  // so a body sent to nowhere is never read or parsed.
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return answerNotFound(request, reply);
  });
  return app;
}

/** A schema failure as one sentence naming the input, e.g. `body.name: must be string`. */
function describeValidation(err: FastifyError): { message: string; field?: string } {
  const first = err.validation![0]!;
  const params = first.params as Record<string, unknown>;
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const context = err.validationContext ?? 'request';
  if (typeof params.additionalProperty === 'string') {
    const field = [path, params.additionalProperty].filter(Boolean).join('.');
    return { message: `${context}: unknown field "${field}"`, field };
  }
  if (typeof params.missingProperty === 'string') {
    const field = [path, params.missingProperty].filter(Boolean).join('.');
    return { message: `${context}: "${field}" is required`, field };
  }
  return { message: `${context}${path ? `.${path}` : ''}: ${first.message ?? 'is not valid'}`, ...(path ? { field: path } : {}) };
}

type Validator = ((data: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null };

/**
 * Compiles a route's schema on its first request: an instance serving images
 * rarely calls most admin routes, and compiled validators for all of them
 * would sit in memory from the start.
 */
function lazyValidator(ajv: Ajv, schema: object): Validator {
  let compiled: ReturnType<Ajv['compile']> | undefined;
  const validate: Validator = (data) => {
    compiled ??= ajv.compile(schema);
    const ok = compiled(data) as boolean;
    validate.errors = compiled.errors as FastifySchemaValidationError[] | null | undefined;
    return ok;
  };
  return validate;
}
