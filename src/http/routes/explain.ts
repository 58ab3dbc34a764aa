import type { FastifyInstance } from 'fastify';
import { presentExplanation } from '../../present.js';
import type { Runtime } from '../../runtime.js';
import { explainAccess } from '../../service/explain.js';
import { requireAdminScope } from '../admin-auth.js';

const querySchema = {
  type: 'object',
  required: ['token', 'scope'],
  additionalProperties: false,
  properties: {
    token: { type: 'string', minLength: 1, maxLength: 100, description: 'token username, e.g. ctok_…' },
    scope: { type: 'string', minLength: 1, maxLength: 1024, description: 'repository:NAME:ACTIONS' },
    tag: { type: 'string', maxLength: 128, description: 'a tag, to apply license tag patterns' },
  },
} as const;

/** GET /api/v1/explain: why a token may or may not do each action of a scope. */
export function registerExplainRoute(app: FastifyInstance, runtime: Runtime): void {
  app.get<{ Querystring: { token: string; scope: string; tag?: string } }>(
    '/api/v1/explain',
    { schema: { querystring: querySchema }, preHandler: requireAdminScope(runtime, 'admin:licenses:read') },
    async (request) => presentExplanation(await explainAccess(runtime, request.caller!, request.query)),
  );
}
