import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TokenAction } from '../../../core/status.js';
import { presentCreatedToken, presentToken } from '../../../present.js';
import type { Runtime } from '../../../runtime.js';
import { changeTokenStatus, createToken, getToken, listTokens } from '../../../service/tokens.js';
import { byCreation, pageByKey } from './pagination.js';
import { adminRoute } from './route.js';
import { CreatedTokenBody, Nullable, Page, PageQuery, StringList, TokenBody } from './schemas.js';

const ListQuery = Type.Object(
  {
    type: Type.Optional(Type.String({ description: 'vendor or customer' })),
    customer: Type.Optional(Type.String({ maxLength: 200, description: 'customer id or name' })),
    status: Type.Optional(Type.String({ description: 'active, disabled, revoked or expired' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    type: Type.String({ description: 'vendor or customer' }),
    name: Type.String({ maxLength: 200 }),
    customer: Type.Optional(Type.String({ maxLength: 200, description: 'customer id or name (customer tokens)' })),
    scopes: Type.Optional(StringList),
    expires: Type.Optional(Type.String({ maxLength: 100, description: 'a duration (30d), a date or a timestamp; empty or never: no expiry' })),
    rate_limit: Type.Optional(Nullable(Type.Integer({ description: 'requests per hour; null: the configured default' }))),
  },
  { additionalProperties: false },
);

export const Username = Type.Object({ username: Type.String({ maxLength: 100 }) });

export function registerTokenApi(app: FastifyInstance, runtime: Runtime): void {
  const tag = 'tokens';
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/tokens', operation: 'tokens.read', tag, summary: 'List tokens, revoked ones included', querystring: ListQuery, response: { 200: Page(TokenBody) } },
    async (request) => {
      const q = request.query as Static<typeof ListQuery>;
      const tokens = await listTokens(runtime, request.caller, { type: q.type, customer: q.customer, status: q.status });
      const now = runtime.now();
      return pageByKey(tokens, (t) => byCreation(t), q, (t) => presentToken(t, now));
    },
  );
  adminRoute(
    app,
    runtime,
    { method: 'POST', url: '/api/v1/tokens', operation: 'tokens.create', tag, summary: 'Create a token; the answer carries its secret, once', body: CreateBody, response: { 201: CreatedTokenBody } },
    async (request, reply) => {
      const b = request.body as Static<typeof CreateBody>;
      const created = await createToken(runtime, request.caller, { type: b.type, name: b.name, customer: b.customer, scopes: b.scopes, expires: b.expires, rateLimit: b.rate_limit });
      reply.code(201).header('cache-control', 'no-store');
      return presentCreatedToken(created, runtime.now());
    },
  );
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/tokens/:username', operation: 'tokens.read', tag, summary: 'One token (never its secret)', params: Username, response: { 200: TokenBody } },
    async (request) => presentToken(await getToken(runtime, request.caller, (request.params as Static<typeof Username>).username), runtime.now()),
  );
  const actions: [TokenAction, string][] = [
    ['disable', 'Stop a token from working until it is enabled again'],
    ['enable', 'Let a disabled token work again'],
    ['revoke', 'End a token for good; it stays listed'],
  ];
  for (const [action, summary] of actions) {
    adminRoute(
      app,
      runtime,
      { method: 'POST', url: `/api/v1/tokens/:username/${action}`, operation: 'tokens.change', tag, summary, params: Username, response: { 200: TokenBody } },
      async (request) => presentToken(await changeTokenStatus(runtime, request.caller, (request.params as Static<typeof Username>).username, action), runtime.now()),
    );
  }
}
