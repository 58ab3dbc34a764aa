import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { presentPlan } from '../../../present.js';
import type { Runtime } from '../../../runtime.js';
import { createPlan, deletePlan, getPlan, listPlans } from '../../../service/plans.js';
import { byName, pageByKey } from './pagination.js';
import { adminRoute } from './route.js';
import { Nullable, Page, PageQuery, PlanBody, StringList } from './schemas.js';

const CreateBody = Type.Object(
  {
    name: Type.String({ maxLength: 200 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
    repositories: StringList,
    actions: Type.Optional(StringList),
  },
  { additionalProperties: false },
);
const PlanRef = Type.Object({ plan: Type.String({ maxLength: 200, description: 'plan id (pln_…) or name' }) });

export function registerPlanApi(app: FastifyInstance, runtime: Runtime): void {
  const tag = 'plans';
  const ref = (params: unknown) => (params as Static<typeof PlanRef>).plan;
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/plans', operation: 'plans.read', tag, summary: 'List plans', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: Page(PlanBody) } },
    async (request) => pageByKey(await listPlans(runtime, request.caller), byName, request.query as object, presentPlan),
  );
  adminRoute(
    app,
    runtime,
    { method: 'POST', url: '/api/v1/plans', operation: 'plans.write', tag, summary: 'Create a plan', body: CreateBody, response: { 201: PlanBody } },
    async (request, reply) => {
      const b = request.body as Static<typeof CreateBody>;
      reply.code(201);
      return presentPlan(await createPlan(runtime, request.caller, { name: b.name, description: b.description, repositories: b.repositories, actions: b.actions }));
    },
  );
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/plans/:plan', operation: 'plans.read', tag, summary: 'One plan', params: PlanRef, response: { 200: PlanBody } },
    async (request) => presentPlan(await getPlan(runtime, request.caller, ref(request.params))),
  );
  adminRoute(
    app,
    runtime,
    { method: 'DELETE', url: '/api/v1/plans/:plan', operation: 'plans.write', tag, summary: 'Delete a plan that no license references', params: PlanRef, response: { 200: PlanBody } },
    async (request) => presentPlan(await deletePlan(runtime, request.caller, ref(request.params))),
  );
}
