import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { LicenseAction } from '../../../core/status.js';
import { presentLicense } from '../../../present.js';
import type { Runtime } from '../../../runtime.js';
import { previewExistingLicense, previewLicenseInput, type RepositoryCatalog } from '../../../service/license-preview.js';
import { changeLicenseStatus, createLicense, getLicense, listLicenses } from '../../../service/licenses.js';
import { byCreation, pageByKey } from './pagination.js';
import { adminRoute } from './route.js';
import { LicenseBody, Nullable, Page, PageQuery, StringList } from './schemas.js';

const ListQuery = Type.Object(
  {
    customer: Type.Optional(Type.String({ maxLength: 200, description: 'customer id or name' })),
    status: Type.Optional(Type.String({ description: 'active, suspended or revoked' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
const CreateBody = Type.Object(
  {
    customer: Type.String({ maxLength: 200, description: 'customer id or name' }),
    name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    repositories: Type.Optional(StringList),
    plan: Type.Optional(Type.String({ maxLength: 200, description: 'plan id or name, instead of repositories' })),
    tags: Type.Optional(StringList),
    valid_from: Type.Optional(Type.String({ maxLength: 100, description: 'date or timestamp; default now' })),
    valid_until: Type.Optional(Type.String({ maxLength: 100, description: 'date, timestamp, or a duration from valid_from (1y); empty or never: no end' })),
  },
  { additionalProperties: false },
);
const LicenseId = Type.Object({ id: Type.String({ maxLength: 100 }) });
const PreviewBody = Type.Object(
  {
    repositories: Type.Optional(StringList),
    plan: Type.Optional(Type.String({ maxLength: 200, description: 'plan id or name, instead of repositories' })),
    tags: Type.Optional(StringList),
  },
  { additionalProperties: false },
);
const Preview = Type.Object(
  {
    repositories: Type.Array(Type.Object({ name: Type.String(), tags: Type.Array(Type.Object({ tag: Type.String(), opened: Type.Boolean() })) })),
    truncated: Type.Boolean({ description: 'more repositories or tags matched than listed (200 repositories, 500 tags each)' }),
  },
  { title: 'LicensePreview' },
);

export function registerLicenseApi(app: FastifyInstance, runtime: Runtime, catalog: RepositoryCatalog): void {
  const tag = 'licenses';
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/licenses', operation: 'licenses.read', tag, summary: 'List licenses', querystring: ListQuery, response: { 200: Page(LicenseBody) } },
    async (request) => {
      const q = request.query as Static<typeof ListQuery>;
      const licenses = await listLicenses(runtime, request.caller, { customer: q.customer, status: q.status });
      return pageByKey(licenses, byCreation, q, presentLicense);
    },
  );
  adminRoute(
    app,
    runtime,
    { method: 'POST', url: '/api/v1/licenses', operation: 'licenses.write', tag, summary: 'Create a license for a customer', body: CreateBody, response: { 201: LicenseBody } },
    async (request, reply) => {
      const b = request.body as Static<typeof CreateBody>;
      const license = await createLicense(runtime, request.caller, {
        customer: b.customer,
        name: b.name,
        repositories: b.repositories,
        plan: b.plan,
        tags: b.tags,
        validFrom: b.valid_from,
        validUntil: b.valid_until,
      });
      reply.code(201);
      return presentLicense(license);
    },
  );
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/licenses/:id', operation: 'licenses.read', tag, summary: 'One license', params: LicenseId, response: { 200: LicenseBody } },
    async (request) => presentLicense(await getLicense(runtime, request.caller, (request.params as Static<typeof LicenseId>).id)),
  );
  const actions: [LicenseAction, string][] = [
    ['suspend', 'Stop a license from opening anything until it is resumed'],
    ['resume', 'Let a suspended license work again'],
    ['revoke', 'End a license for good; it stays listed'],
  ];
  for (const [action, summary] of actions) {
    adminRoute(
      app,
      runtime,
      { method: 'POST', url: `/api/v1/licenses/:id/${action}`, operation: 'licenses.write', tag, summary, params: LicenseId, response: { 200: LicenseBody } },
      async (request) => presentLicense(await changeLicenseStatus(runtime, request.caller, (request.params as Static<typeof LicenseId>).id, action)),
    );
  }
  adminRoute(
    app,
    runtime,
    {
      method: 'POST',
      url: '/api/v1/licenses/preview',
      operation: 'licenses.read',
      tag,
      summary: 'Which existing repositories and tags a license with these patterns would open (nothing is written)',
      body: PreviewBody,
      response: { 200: Preview },
    },
    async (request) => previewLicenseInput(runtime, request.caller, catalog, request.body as Static<typeof PreviewBody>),
  );
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/licenses/:id/preview', operation: 'licenses.read', tag, summary: 'Which existing repositories and tags a license opens', params: LicenseId, response: { 200: Preview } },
    async (request) => previewExistingLicense(runtime, request.caller, catalog, (request.params as Static<typeof LicenseId>).id),
  );
}
