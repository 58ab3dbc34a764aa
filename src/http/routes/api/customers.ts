import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { presentCustomer, presentCustomerAction } from '../../../present.js';
import { CUSTOMER_ACTIONS, previewCustomerAction, resumeCustomer, revokeCustomer, suspendCustomer } from '../../../service/customer-actions.js';
import type { Runtime } from '../../../runtime.js';
import { createCustomer, deleteCustomer, getCustomer, listCustomers, updateCustomer } from '../../../service/customers.js';
import { byName, pageByKey } from './pagination.js';
import { adminRoute } from './route.js';
import { CustomerBody, Nullable, Page, PageQuery } from './schemas.js';

const CreateBody = Type.Object(
  { name: Type.String({ maxLength: 200 }), contact: Type.Optional(Nullable(Type.String({ maxLength: 200, description: 'contact person or e-mail' }))) },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  { name: Type.Optional(Type.String({ maxLength: 200 })), contact: Type.Optional(Nullable(Type.String({ maxLength: 200, description: 'null or empty clears it' }))) },
  { additionalProperties: false, minProperties: 1 },
);
export const CustomerRef = Type.Object({ customer: Type.String({ maxLength: 200, description: 'customer id (cus_…) or name' }) });
const DeleteQuery = Type.Object({ force: Type.Optional(Type.Boolean({ description: 'revoke its tokens and licenses and delete it' })) }, { additionalProperties: false });
const ActionQuery = Type.Object(
  { dry_run: Type.Optional(Type.Boolean({ description: 'say what would change, change nothing' })) },
  { additionalProperties: false },
);
const ActionSummary = Type.Object(
  {
    action: Type.String(),
    customer: Type.Object({ id: Type.String(), name: Type.String() }),
    tokens: Type.Array(Type.String(), { description: 'tokens this changed (or would change)' }),
    licenses: Type.Array(Type.String(), { description: 'licenses this changed (or would change)' }),
  },
  { title: 'CustomerActionSummary' },
);
const RUN_ACTION = { suspend: suspendCustomer, resume: resumeCustomer, revoke: revokeCustomer };
const ACTION_SUMMARY = {
  suspend: 'Disable every active token and suspend every active license of a customer, in one transaction',
  resume: 'Undo a customer suspend: re-enable exactly the tokens and licenses it changed',
  revoke: 'Revoke every token and license of a customer, for good',
};
const Deletion = Type.Composite([CustomerBody, Type.Object({ revoked_tokens: Type.Array(Type.String()), revoked_licenses: Type.Array(Type.String()) })]);

export function registerCustomerApi(app: FastifyInstance, runtime: Runtime): void {
  const tag = 'customers';
  const ref = (params: unknown) => (params as Static<typeof CustomerRef>).customer;
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/customers', operation: 'customers.read', tag, summary: 'List customers', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: Page(CustomerBody) } },
    async (request) => pageByKey(await listCustomers(runtime, request.caller), byName, request.query as object, presentCustomer),
  );
  adminRoute(
    app,
    runtime,
    { method: 'POST', url: '/api/v1/customers', operation: 'customers.write', tag, summary: 'Create a customer', body: CreateBody, response: { 201: CustomerBody } },
    async (request, reply) => {
      const b = request.body as Static<typeof CreateBody>;
      reply.code(201);
      return presentCustomer(await createCustomer(runtime, request.caller, { name: b.name, contact: b.contact }));
    },
  );
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/customers/:customer', operation: 'customers.read', tag, summary: 'One customer', params: CustomerRef, response: { 200: CustomerBody } },
    async (request) => presentCustomer(await getCustomer(runtime, request.caller, ref(request.params))),
  );
  adminRoute(
    app,
    runtime,
    { method: 'PATCH', url: '/api/v1/customers/:customer', operation: 'customers.write', tag, summary: 'Rename a customer or change its contact', params: CustomerRef, body: UpdateBody, response: { 200: CustomerBody } },
    async (request) => {
      const b = request.body as Static<typeof UpdateBody>;
      return presentCustomer(await updateCustomer(runtime, request.caller, ref(request.params), { name: b.name, contact: b.contact === null ? '' : b.contact }));
    },
  );
  adminRoute(
    app,
    runtime,
    {
      method: 'DELETE',
      url: '/api/v1/customers/:customer',
      operation: 'customers.write',
      tag,
      summary: 'Delete a customer; one with tokens or licenses needs force=true, which revokes them in the same transaction',
      params: CustomerRef,
      querystring: DeleteQuery,
      response: { 200: Deletion },
    },
    async (request) => {
      const r = await deleteCustomer(runtime, request.caller, ref(request.params), Boolean((request.query as Static<typeof DeleteQuery>).force));
      return { ...presentCustomer(r.customer), revoked_tokens: r.revokedTokens, revoked_licenses: r.revokedLicenses };
    },
  );
  for (const action of CUSTOMER_ACTIONS) {
    adminRoute(
      app,
      runtime,
      { method: 'POST', url: `/api/v1/customers/:customer/${action}`, operation: 'customers.write', tag, summary: ACTION_SUMMARY[action], params: CustomerRef, querystring: ActionQuery, response: { 200: ActionSummary } },
      async (request) => {
        const customer = ref(request.params);
        const dryRun = Boolean((request.query as Static<typeof ActionQuery>).dry_run);
        const summary = dryRun ? await previewCustomerAction(runtime, request.caller, customer, action) : await RUN_ACTION[action](runtime, request.caller, customer);
        return presentCustomerAction(summary);
      },
    );
  }
}
