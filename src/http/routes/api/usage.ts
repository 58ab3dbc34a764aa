import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { invalid } from '../../../core/errors.js';
import { parseSince } from '../../../core/since.js';
import type { Runtime } from '../../../runtime.js';
import type { Caller } from '../../../service/context.js';
import { resolveCustomer } from '../../../service/customers.js';
import { listUsageEvents, usageWithCustomers } from '../../../service/event-logs.js';
import { countUsage, presentUsage, presentUsageCount, usageCsv } from '../../../usage/usage-report.js';
import { pullSeries } from '../../../usage/usage-series.js';
import { DEFAULT_PAGE, eventCursor, eventPage } from './pagination.js';
import { adminRoute } from './route.js';
import { Page, PageQuery, UsageCountBody, UsageEventBody } from './schemas.js';

const Filter = {
  customer: Type.Optional(Type.String({ maxLength: 200, description: 'customer id or name' })),
  repo: Type.Optional(Type.String({ maxLength: 256, description: 'repository name' })),
  since: Type.Optional(Type.String({ maxLength: 100, description: 'a duration back from now (30d) or a date; default 7d' })),
};
const CountsQuery = Type.Object(Filter, { additionalProperties: false });
const SeriesQuery = Type.Object(
  { ...Filter, by: Type.Optional(Type.Union([Type.Literal('customer'), Type.Literal('repository')], { description: 'one series per customer (default) or per repository' })) },
  { additionalProperties: false },
);
const Series = Type.Object(
  {
    since: Type.String({ format: 'date-time' }),
    truncated: Type.Boolean(),
    days: Type.Array(Type.String({ format: 'date' }), { description: 'UTC days, oldest first' }),
    series: Type.Array(Type.Object({ key: Type.String({ description: 'customer id, "vendor" (vendor tokens), repository, or "other"' }), label: Type.String(), counts: Type.Array(Type.Integer(), { description: 'pulls per day, one per entry of days' }) })),
  },
  { title: 'UsageSeries' },
);
/** A chart of a year of days is as far as anyone looks; longer spans are refused rather than drawn unreadably. */
const MAX_SERIES_DAYS = 400;
const EventsQuery = Type.Object(
  { ...Filter, format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], { description: 'csv: every matching event (up to 100000) as text/csv' })), ...PageQuery },
  { additionalProperties: false },
);
/** Counting reads events whole; past this many the answer says it is truncated. */
const MAX_EVENTS = 100_000;

async function usageFilter(runtime: Runtime, caller: Caller, q: Static<typeof CountsQuery>) {
  const since = parseSince(q.since ?? '7d', runtime.now());
  const customer = q.customer === undefined ? undefined : await resolveCustomer(runtime.store, caller.vendorId, q.customer, true);
  return { since, customerId: customer?.id, repository: q.repo };
}

export function registerUsageApi(app: FastifyInstance, runtime: Runtime): void {
  const tag = 'usage';
  adminRoute(
    app,
    runtime,
    {
      method: 'GET',
      url: '/api/v1/usage',
      operation: 'usage.read',
      tag,
      summary: 'Pulls and pushes per repository and tag',
      querystring: CountsQuery,
      response: { 200: Type.Object({ since: Type.String({ format: 'date-time' }), truncated: Type.Boolean(), counts: Type.Array(UsageCountBody) }) },
    },
    async (request) => {
      const filter = await usageFilter(runtime, request.caller, request.query as Static<typeof CountsQuery>);
      const events = await listUsageEvents(runtime, request.caller, { ...filter, limit: MAX_EVENTS });
      return { since: filter.since.toISOString(), truncated: events.length === MAX_EVENTS, counts: countUsage(events).map(presentUsageCount) };
    },
  );
  adminRoute(
    app,
    runtime,
    {
      method: 'GET',
      url: '/api/v1/usage/events',
      operation: 'usage.read',
      tag,
      summary: 'The raw usage events, newest first (or all as CSV)',
      querystring: EventsQuery,
      response: { 200: Page(UsageEventBody) },
    },
    async (request, reply) => {
      const q = request.query as Static<typeof EventsQuery>;
      const filter = await usageFilter(runtime, request.caller, q);
      if (q.format === 'csv') {
        const events = await listUsageEvents(runtime, request.caller, { ...filter, limit: MAX_EVENTS });
        // Sent as a string: the JSON response schema does not apply to it.
        return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="usage.csv"').serializer((s: string) => s).send(usageCsv(events));
      }
      const limit = q.limit ?? DEFAULT_PAGE;
      const events = await listUsageEvents(runtime, request.caller, { ...filter, descending: true, after: eventCursor(q), limit: limit + 1 });
      return eventPage(events, limit, presentUsage);
    },
  );
  adminRoute(
    app,
    runtime,
    {
      method: 'GET',
      url: '/api/v1/usage/series',
      operation: 'usage.read',
      tag,
      summary: 'Pulls per day for each customer or repository (the dashboard chart)',
      querystring: SeriesQuery,
      response: { 200: Series },
    },
    async (request) => {
      const q = request.query as Static<typeof SeriesQuery>;
      const filter = await usageFilter(runtime, request.caller, { ...q, since: q.since ?? '30d' });
      const now = runtime.now();
      if (now.getTime() - filter.since.getTime() > MAX_SERIES_DAYS * 86_400_000) throw invalid(`since reaches back more than ${MAX_SERIES_DAYS} days`, 'since');
      const { events, customers } = await usageWithCustomers(runtime, request.caller, { ...filter, limit: MAX_EVENTS });
      const labels = new Map(customers.map((c) => [c.id, c.name]));
      return { since: filter.since.toISOString(), truncated: events.length === MAX_EVENTS, ...pullSeries(events, q.by ?? 'customer', filter.since, now, labels) };
    },
  );
}
