import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, HTTPMethods } from 'fastify';
import type { Scope } from '../../../core/vendor-scopes.js';
import type { Runtime } from '../../../runtime.js';
import type { Caller } from '../../../service/context.js';
import { requireAdminScope, requireSession } from '../../admin-auth.js';
import { ERROR_RESPONSES } from './schemas.js';

export interface AdminRoute {
  method: HTTPMethods;
  url: string;
  /** admin:<area>:<read|write> the token must hold. */
  scope: Scope;
  summary: string;
  tag: string;
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  /** Success answers by status. */
  response: Record<number, TSchema>;
}

/**
 * Every admin route the same way: vendor-token auth with its scope, the caller
 * acting for that token's vendor, schemas that validate, serialize and document.
 */
export function adminRoute<T>(
  app: FastifyInstance,
  runtime: Runtime,
  spec: AdminRoute,
  handler: (request: FastifyRequest & { caller: Caller }, reply: FastifyReply) => Promise<T>,
): void {
  app.route({
    method: spec.method,
    url: spec.url,
    schema: routeSchema(spec, [{ bearer: [] }, { basic: [] }, { session: [] }], `Needs \`${spec.scope}\`.`),
    // Before validation: a stranger learns nothing from how a body would have been judged.
    preValidation: requireAdminScope(runtime, spec.scope),
    handler: (request, reply) => handler(request as FastifyRequest & { caller: Caller }, reply),
  });
}

export interface OpenRoute extends Omit<AdminRoute, 'scope'> {
  /**
   * none: anyone (logging in, an invitation link's holder); session: any
   * signed-in dashboard user, by its cookie (CSRF-checked like every route).
   */
  auth: 'none' | 'session';
  description: string;
}

/**
 * The routes outside the scope model: no credential yet, or the session's
 * own business. Documented and validated like every admin route.
 */
export function openRoute<T>(app: FastifyInstance, runtime: Runtime, spec: OpenRoute, handler: (request: FastifyRequest, reply: FastifyReply) => Promise<T>): void {
  app.route({
    method: spec.method,
    url: spec.url,
    schema: routeSchema(spec, spec.auth === 'none' ? [] : [{ session: [] }], spec.description),
    ...(spec.auth === 'session' ? { preValidation: requireSession(runtime) } : {}),
    handler,
  });
}

/** What validates, serializes and documents a route: the spec's schemas, its security, and the shared error answers. */
function routeSchema(spec: Omit<AdminRoute, 'scope'>, security: Record<string, string[]>[], description: string): FastifySchema {
  const schema: FastifySchema & Record<string, unknown> = {
    summary: spec.summary,
    tags: [spec.tag],
    security,
    description,
    response: { ...spec.response, ...ERROR_RESPONSES },
  };
  if (spec.params) schema.params = spec.params;
  if (spec.querystring) schema.querystring = spec.querystring;
  if (spec.body) schema.body = spec.body;
  return schema;
}
