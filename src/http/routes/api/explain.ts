import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { presentExplanation } from '../../../present.js';
import type { Runtime } from '../../../runtime.js';
import { explainAccess } from '../../../service/explain.js';
import { adminRoute } from './route.js';
import { Nullable } from './schemas.js';

const Query = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 100, description: 'token username, e.g. ctok_…' }),
    scope: Type.String({ minLength: 1, maxLength: 1024, description: 'repository:NAME:ACTIONS' }),
    tag: Type.Optional(Type.String({ maxLength: 128, description: 'a tag, to apply license tag patterns' })),
  },
  { additionalProperties: false },
);

const Explanation = Type.Object(
  {
    at: Type.String({ format: 'date-time' }),
    token: Type.Unknown({ description: 'the token: username, type, status, state, expires_at, scopes' }),
    customer: Type.Unknown({ description: 'the customer of a customer token, or null' }),
    vendor: Type.Unknown({ description: 'the vendor whose rules applied, or null' }),
    repository: Type.String(),
    tag: Nullable(Type.String()),
    actions: Type.Array(Type.Object({ action: Type.String(), allowed: Type.Boolean(), license_id: Nullable(Type.String()), reason: Type.String() })),
    licenses: Type.Array(Type.Unknown(), { description: "every license of the customer with its check per action" }),
  },
  { title: 'Explanation' },
);

/** GET /api/v1/explain: why a token may or may not do each action of a scope. */
export function registerExplainApi(app: FastifyInstance, runtime: Runtime): void {
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/explain', operation: 'licenses.read', tag: 'explain', summary: 'Why a token may or may not do each action of a scope', querystring: Query, response: { 200: Explanation } },
    async (request) => presentExplanation(await explainAccess(runtime, request.caller, request.query as Static<typeof Query>)),
  );
}
