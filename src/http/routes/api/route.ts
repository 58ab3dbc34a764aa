import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, HTTPMethods } from 'fastify';
import { LEVEL_NEEDS, OPERATIONS, type Operation } from '../../../core/operations.js';
import type { Runtime } from '../../../runtime.js';
import type { Caller } from '../../../service/context.js';
import { requireOperation, requireSession } from '../../admin-auth.js';
import { refuseCrossSite } from '../../cross-site.js';
import { ERROR_RESPONSES } from './schemas.js';

export interface AdminRoute {
  method: HTTPMethods;
  url: string;
  /** What the route does, in the one table of who may do what (src/core/operations.ts). */
  operation: Operation;
  summary: string;
  tag: string;
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  /** Success answers by status. */
  response: Record<number, TSchema>;
}

/**
 * Every admin route the same way: the caller's authority judged against the
 * route's operation, the caller acting for its own vendor, schemas that
 * validate, serialize and document.
 */
export function adminRoute<T>(
  app: FastifyInstance,
  runtime: Runtime,
  spec: AdminRoute,
  handler: (request: FastifyRequest & { caller: Caller }, reply: FastifyReply) => Promise<T>,
): void {
  const rule = OPERATIONS[spec.operation];
  const level = rule.level === 'member' ? '' : `, and ${LEVEL_NEEDS[rule.level]}`;
  app.route({
    method: spec.method,
    url: spec.url,
    schema: routeSchema(spec, [{ bearer: [] }, { basic: [] }, { session: [] }], `Needs \`${rule.scope}\`${level}: operation \`${spec.operation}\`.`),
    config: { operation: spec.operation },
    // On arrival, before the body is read: a stranger learns nothing from how a body would have been judged.
    onRequest: requireOperation(runtime, spec.operation),
    handler: (request, reply) => handler(request as FastifyRequest & { caller: Caller }, reply),
  });
}

export interface OpenRoute extends Omit<AdminRoute, 'operation'> {
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
    config: { access: spec.auth },
    // Logging in and invitation links are for the dashboard's own pages: another site's page gets nothing
    // judged or counted (a failed guess would lock the visitor's address out), and its writes are JSON.
    onRequest: spec.auth === 'session' ? requireSession(runtime) : async (request) => refuseCrossSite(request, runtime.config, { json: true }),
    handler,
  });
}

/** What validates, serializes and documents a route: the spec's schemas, its security, and the shared error answers. */
function routeSchema(spec: Omit<AdminRoute, 'operation'>, security: Record<string, string[]>[], description: string): FastifySchema {
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
