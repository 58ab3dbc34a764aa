import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { presentVendor } from '../../../present.js';
import type { Runtime } from '../../../runtime.js';
import { createVendor, getVendorFor, listVendors } from '../../../service/vendors.js';
import { byCreation, pageByKey } from './pagination.js';
import { adminRoute } from './route.js';
import { Page, PageQuery, StringList, VendorBody } from './schemas.js';

const CreateBody = Type.Object(
  { name: Type.String({ maxLength: 100 }), namespaces: Type.Optional(StringList) },
  { additionalProperties: false },
);
const VendorRef = Type.Object({ vendor: Type.String({ maxLength: 200, description: 'vendor id (ven_…) or name' }) });

/**
 * The operator vendor sees and creates every vendor; any other vendor sees
 * only itself, and another vendor is "not found" to it, never "forbidden".
 */
export function registerVendorApi(app: FastifyInstance, runtime: Runtime): void {
  const tag = 'vendors';
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/vendors', operation: 'vendors.read', tag, summary: 'List vendors (a non-operator vendor sees itself only)', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: Page(VendorBody) } },
    async (request) => pageByKey(await listVendors(runtime, request.caller), byCreation, request.query as object, presentVendor),
  );
  adminRoute(
    app,
    runtime,
    { method: 'POST', url: '/api/v1/vendors', operation: 'vendors.create', tag, summary: 'Create a vendor (operator only)', body: CreateBody, response: { 201: VendorBody } },
    async (request, reply) => {
      const b = request.body as Static<typeof CreateBody>;
      const vendor = await createVendor(runtime, request.caller, { name: b.name, namespaces: b.namespaces });
      reply.code(201);
      return presentVendor(vendor);
    },
  );
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/vendors/:vendor', operation: 'vendors.read', tag, summary: 'One vendor', params: VendorRef, response: { 200: VendorBody } },
    async (request) => presentVendor(await getVendorFor(runtime, request.caller, (request.params as Static<typeof VendorRef>).vendor)),
  );
}
