import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../../runtime.js';
import { registerAuditApi } from './audit.js';
import { registerCustomerApi } from './customers.js';
import { registerExplainApi } from './explain.js';
import { registerLicenseApi } from './licenses.js';
import { registerPlanApi } from './plans.js';
import { registerTokenApi } from './tokens.js';
import { registerUsageApi } from './usage.js';
import { registerVendorApi } from './vendors.js';
import { SHARED_SCHEMAS } from './schemas.js';

export const OPENAPI_PATH = '/api/v1/openapi.json';

/**
 * The admin REST API under /api/v1. The OpenAPI document is generated from the
 * same route schemas that validate requests; routes without a tag (/v2, /token,
 * health) stay out of it.
 */
export async function registerAdminApi(app: FastifyInstance, runtime: Runtime, version: string): Promise<void> {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Portcullis admin API',
        version,
        description:
          'Manage vendors, customers, licenses, plans and tokens; read the audit log and usage. Authenticate with a vendor token holding admin scopes: `Authorization: Bearer <username>.<secret>` or Basic. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'the full vendor token, <username>.<secret>' },
          basic: { type: 'http', scheme: 'basic', description: 'username and secret of a vendor token' },
        },
      },
    },
    hideUntagged: true,
  });
  registerTokenApi(app, runtime);
  registerCustomerApi(app, runtime);
  registerLicenseApi(app, runtime);
  registerPlanApi(app, runtime);
  registerVendorApi(app, runtime);
  registerAuditApi(app, runtime);
  registerUsageApi(app, runtime);
  registerExplainApi(app, runtime);
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
