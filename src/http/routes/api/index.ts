import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../../runtime.js';
import type { RepositoryCatalog } from '../../../service/license-preview.js';
import { registerAuditApi } from './audit.js';
import { registerCustomerApi } from './customers.js';
import { registerExplainApi } from './explain.js';
import { registerLicenseApi } from './licenses.js';
import { registerInvitationApi } from './invitations.js';
import { registerPlanApi } from './plans.js';
import { registerSessionApi } from './session.js';
import { registerTokenApi } from './tokens.js';
import { registerUsageApi } from './usage.js';
import { registerUserApi } from './users.js';
import { registerVendorApi } from './vendors.js';
import { SHARED_SCHEMAS } from './schemas.js';

export const OPENAPI_PATH = '/api/v1/openapi.json';

/**
 * The admin REST API under /api/v1. The OpenAPI document is generated from the
 * same route schemas that validate requests; routes without a tag (/v2, /token,
 * health) stay out of it.
 */
export async function registerAdminApi(app: FastifyInstance, runtime: Runtime, version: string, catalog: RepositoryCatalog): Promise<void> {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Portcullis admin API',
        version,
        description:
          'Manage vendors, customers, licenses, plans, tokens and dashboard users; read the audit log and usage. Authenticate with a vendor token holding admin scopes (`Authorization: Bearer <username>.<secret>` or Basic), or with the dashboard session cookie of a user, whose role gives the scopes (requests other than GET and HEAD then carry `X-CSRF-Token`). Errors are RFC 9457 problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'the full vendor token, <username>.<secret>' },
          basic: { type: 'http', scheme: 'basic', description: 'username and secret of a vendor token' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'portcullis_session',
            description:
              'the dashboard session cookie set by POST /api/v1/session; named `__Host-portcullis_session` where clients reach the instance over HTTPS (TLS served here, or an https public_url); requests other than GET and HEAD also need its X-CSRF-Token header',
          },
        },
      },
    },
    hideUntagged: true,
  });
  registerTokenApi(app, runtime);
  registerCustomerApi(app, runtime);
  registerLicenseApi(app, runtime, catalog);
  registerPlanApi(app, runtime);
  registerVendorApi(app, runtime);
  registerAuditApi(app, runtime);
  registerUsageApi(app, runtime);
  registerExplainApi(app, runtime);
  registerSessionApi(app, runtime);
  registerUserApi(app, runtime);
  registerInvitationApi(app, runtime);
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
