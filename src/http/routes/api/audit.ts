import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { parseSince } from '../../../core/since.js';
import { presentAudit } from '../../../present.js';
import type { Runtime } from '../../../runtime.js';
import { listAuditEvents } from '../../../service/event-logs.js';
import { DEFAULT_PAGE, eventCursor, eventPage } from './pagination.js';
import { adminRoute } from './route.js';
import { AuditBody, Page, PageQuery } from './schemas.js';

const Query = Type.Object(
  {
    since: Type.Optional(Type.String({ maxLength: 100, description: 'a duration back from now (7d) or a date' })),
    object: Type.Optional(Type.String({ maxLength: 200, description: 'only events about this object id' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export function registerAuditApi(app: FastifyInstance, runtime: Runtime): void {
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/audit', operation: 'audit.read', tag: 'audit', summary: "The vendor's audit log, newest first", querystring: Query, response: { 200: Page(AuditBody) } },
    async (request) => {
      const q = request.query as Static<typeof Query>;
      const limit = q.limit ?? DEFAULT_PAGE;
      const events = await listAuditEvents(runtime, request.caller, {
        since: q.since === undefined ? undefined : parseSince(q.since, runtime.now()),
        objectId: q.object,
        descending: true,
        after: eventCursor(q),
        limit: limit + 1,
      });
      return eventPage(events, limit, presentAudit);
    },
  );
}
