import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { FormatRegistry, type TObject } from '@sinclair/typebox';
import { buildApp } from '../../src/http/app.js';
import { AuditBody, CreatedTokenBody, CustomerBody, LicenseBody, PlanBody, TokenBody, UsageEventBody, UserBody, VendorBody } from '../../src/http/routes/api/schemas.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { createCustomer } from '../../src/service/customers.js';
import { createLicense } from '../../src/service/licenses.js';
import { createPlan } from '../../src/service/plans.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createUser } from '../../src/service/users.js';
import { createVendor } from '../../src/service/vendors.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const bearer = (t: CreatedToken) => `Bearer ${t.token.id}.${t.secret}`;
const basic = (t: CreatedToken) => `Basic ${Buffer.from(`${t.token.id}:${t.secret}`).toString('base64')}`;

interface Operation {
  method: string;
  /** OpenAPI path, e.g. /api/v1/tokens/{username}. */
  path: string;
  scope: string;
  /** The table asks more than the scope: owner-level authority (src/core/operations.ts). */
  ownerLevel: boolean;
}

/**
 * The routes outside the scope model, and so outside the matrix below
 * (test/http/dashboard-auth.test.ts covers them): logging in and an
 * invitation link's lookup and accept need no credential; the session's own
 * routes take any signed-in user's cookie and no token.
 */
const UNAUTHENTICATED_ROUTES = ['POST /api/v1/session', 'GET /api/v1/invitations/{token}', 'POST /api/v1/invitations/accept'];
const SESSION_ROUTES = ['GET /api/v1/session', 'DELETE /api/v1/session', 'POST /api/v1/session/password'];
const NOT_SCOPED = new Set([...UNAUTHENTICATED_ROUTES, ...SESSION_ROUTES]);

describe('admin API', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let doc: { openapi: string; paths: Record<string, Record<string, { description: string; security: unknown[]; tags: string[]; responses: Record<string, unknown> }>> };
  let operations: Operation[];
  // Objects of the operator vendor, which the scope matrix acts on.
  const own: Record<string, string> = {};
  // A second vendor, for tenancy.
  let acme: Caller;
  const acmeObj: Record<string, string> = {};
  let acmeAdmin: CreatedToken;
  const scoped = new Map<string, CreatedToken>();

  /** A vendor token of the operator vendor holding exactly these scopes (made once). */
  async function tokenWith(scopes: string): Promise<CreatedToken> {
    let t = scoped.get(scopes);
    if (!t) {
      t = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: `scopes ${scopes}`, scopes });
      scoped.set(scopes, t);
    }
    return t;
  }

  let addresses = 0;
  /** Each call from its own address, so the brute-force lockout of failed logins never joins in. */
  const call = (method: string, url: string, authorization?: string, payload?: unknown) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: authorization ? { authorization } : {},
      remoteAddress: `10.1.${Math.floor(++addresses / 250) % 250}.${addresses % 250}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  function urlFor(path: string, ids: Record<string, string>): string {
    return path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);
  }

  beforeAll(async () => {
    inst = await startInstance();
    app = await buildApp(inst.runtime);
    const rt = inst.runtime;
    const customer = await createCustomer(rt, inst.caller, { name: 'globex' });
    const plan = await createPlan(rt, inst.caller, { name: 'tools', repositories: 'tools/*' });
    own.customer = customer.id;
    own.plan = plan.id;
    own.id = (await createLicense(rt, inst.caller, { customer: customer.id, repositories: 'app/**' })).id;
    own.username = (await createToken(rt, inst.caller, { type: 'customer', name: 'target', customer: customer.id })).token.id;
    own.vendor = inst.runtime.operator.id;
    own.user = (await createUser(rt, inst.caller, { email: 'viewer@operator.test', role: 'viewer', password: 'a long enough password' })).id;
    await createUser(rt, inst.caller, { email: 'spare@operator.test', role: 'viewer', password: 'a long enough password' });

    const vendor = await createVendor(rt, inst.caller, { name: 'acme' });
    acme = ownerCaller(vendor, { name: 'test', source: 'test' });
    const ac = await createCustomer(rt, acme, { name: 'initech' });
    acmeObj.customer = ac.id;
    acmeObj.plan = (await createPlan(rt, acme, { name: 'acme-tools', repositories: 'acme/tools/*' })).id;
    acmeObj.id = (await createLicense(rt, acme, { customer: ac.id, repositories: 'acme/**' })).id;
    acmeObj.username = (await createToken(rt, acme, { type: 'customer', name: 'acme-target', customer: ac.id })).token.id;
    acmeObj.vendor = vendor.id;
    acmeObj.user = (await createUser(rt, acme, { email: 'viewer@acme.test', role: 'viewer', password: 'a long enough password' })).id;
    acmeAdmin = await createToken(rt, acme, { type: 'vendor', name: 'acme admin', scopes: 'admin:*:*' });

    const res = await call('GET', '/api/v1/openapi.json');
    expect(res.statusCode).toBe(200);
    doc = res.json();
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => !NOT_SCOPED.has(`${method.toUpperCase()} ${path}`))
        .map(([method, op]) => ({ method: method.toUpperCase(), path, scope: /`(admin:[a-z*]+:[a-z*]+)`/.exec(op.description)![1]!, ownerLevel: /owner-level/.test(op.description) })),
    );
  });

  afterAll(async () => {
    await app.close();
    await inst.cleanup();
  });

  describe('OpenAPI document', () => {
    it('is OpenAPI 3 and lists every admin area with its scope, security and problem answers', () => {
      expect(doc.openapi).toMatch(/^3\./);
      const areas = new Set(Object.values(doc.paths).flatMap((m) => Object.values(m).flatMap((op) => op.tags)));
      expect([...areas].sort()).toEqual(['audit', 'customers', 'explain', 'invitations', 'licenses', 'plans', 'session', 'tokens', 'usage', 'users', 'vendors']);
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          const name = `${method.toUpperCase()} ${path}`;
          // Exactly the named routes go without a scope; the unauthenticated ones say so with an empty security list.
          expect(/`admin:[a-z*]+:[a-z*]+`/.test(op.description), name).toBe(!NOT_SCOPED.has(name));
          expect(op.security, name).toEqual(UNAUTHENTICATED_ROUTES.includes(name) ? [] : expect.arrayContaining([{ session: [] }]));
        }
      }
      for (const op of operations.flatMap(({ method, path }) => doc.paths[path]![method.toLowerCase()]!)) {
        expect(op.security.length).toBeGreaterThan(0);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '401', '403', '404']));
      }
      // Only the admin API is documented here; /v2, /token and health are not.
      expect(Object.keys(doc.paths).every((p) => p.startsWith('/api/v1/'))).toBe(true);
    });

    it('lists every route outside the scope model, and those of the session answer 401 to a token', async () => {
      for (const name of NOT_SCOPED) {
        const [method, path] = name.split(' ') as [string, string];
        expect(doc.paths[path]?.[method.toLowerCase()], name).toBeDefined();
      }
      const admin = bearer(await tokenWith('admin:*:*'));
      for (const name of SESSION_ROUTES) {
        const [method, path] = name.split(' ') as [string, string];
        const res = await call(method, path, admin, method === 'GET' || method === 'DELETE' ? undefined : {});
        expect(res.statusCode, name).toBe(401);
        expect(res.json().code).toBe('unauthenticated');
      }
    });

    it('matches the routes the app really has', () => {
      for (const op of operations) {
        expect(app.hasRoute({ method: op.method as 'GET', url: op.path.replace(/\{(\w+)\}/g, ':$1') }), `${op.method} ${op.path}`).toBe(true);
      }
      expect(operations.length).toBeGreaterThanOrEqual(20);
    });
  });

  describe('authentication and scopes, for every route', () => {
    it('401 with a Bearer challenge without credentials or with bad ones, before any validation', async () => {
      for (const op of operations) {
        const url = urlFor(op.path, own);
        const none = await call(op.method, url, undefined, op.method === 'GET' ? undefined : { junk: true });
        expect(none.statusCode, `${op.method} ${op.path}`).toBe(401);
        expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(none.json().code).toBe('unauthenticated');
        expect(none.headers['www-authenticate']).toMatch(/^Bearer /);
        const wrong = await call(op.method, url, `Bearer ${own.username}.wrongwrongwrongwrongwrongwrong12`);
        expect(wrong.statusCode, `${op.method} ${op.path}`).toBe(401);
        // Unknown username: the very same answer.
        const unknown = await call(op.method, url, 'Bearer vtok_aaaaaaaaaaaaaaaa.wrongwrongwrongwrongwrongwrong12');
        expect(unknown.json()).toEqual(wrong.json());
      }
    });

    it('403 for a vendor token without the scope, one with another area, one with read only (for writes), and customer tokens', async () => {
      const noAdmin = await tokenWith('pull,push');
      const customer = await createToken(inst.runtime, inst.caller, { type: 'customer', name: 'cust', customer: own.customer! });
      for (const op of operations) {
        const url = urlFor(op.path, own);
        const [, area, level] = op.scope.split(':');
        const otherArea = area === 'tokens' ? 'plans' : 'tokens';
        const tries = [noAdmin, customer, await tokenWith(`admin:${otherArea}:write`)];
        if (level === 'write') tries.push(await tokenWith(`admin:${area}:read`));
        for (const t of tries) {
          const res = await call(op.method, url, bearer(t), op.method === 'GET' ? undefined : {});
          expect(res.statusCode, `${op.method} ${op.path} with ${t.token.scopes.join(',')}`).toBe(403);
          expect(res.json().code).toBe('denied');
        }
      }
    });

    it('passes with exactly the needed scope, with write for reads, and with admin:*:* (Bearer or Basic)', async () => {
      for (const op of operations) {
        const url = urlFor(op.path, own);
        const [, area] = op.scope.split(':');
        for (const t of [await tokenWith(op.scope), await tokenWith(`admin:${area}:write`), await tokenWith('admin:*:*')]) {
          for (const authorization of [bearer(t), basic(t)]) {
            const res = await call(op.method, url, authorization, op.method === 'GET' ? undefined : {});
            if (op.ownerLevel && !t.token.scopes.includes('admin:*:*')) {
              // The scope alone is not enough where the table asks for owner-level authority.
              expect(res.statusCode, `${op.method} ${op.path} with ${t.token.scopes.join(',')}`).toBe(403);
              continue;
            }
            // Past authentication and scope: whatever the route then says (200, or 400 for the empty body, 409…).
            expect([401, 403], `${op.method} ${op.path} with ${t.token.scopes.join(',')}: ${res.body}`).not.toContain(res.statusCode);
            expect(res.statusCode).toBeLessThan(500);
          }
        }
      }
    });
  });

  describe('tenancy: another vendor is never seen or touched (404, not 403)', () => {
    it('every route with an object in its path answers 404 for another vendor\'s object', async () => {
      for (const op of operations.filter((o) => o.path.includes('{'))) {
        const url = urlFor(op.path, acmeObj);
        const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : op.method === 'PATCH' ? (op.path.startsWith('/api/v1/users/') ? { role: 'admin' } : { contact: 'x' }) : {};
        const res = await call(op.method, url, bearer(await tokenWith('admin:*:*')), body);
        // The operator vendor manages vendors, so it alone may read another vendor's own record.
        const expected = op.path === '/api/v1/vendors/{vendor}' ? 200 : 404;
        expect(res.statusCode, `${op.method} ${url}: ${res.body}`).toBe(expected);
        // And the other way round: acme's admin cannot reach the operator's objects.
        const back = await call(op.method, urlFor(op.path, own), bearer(acmeAdmin), body);
        expect(back.statusCode, `${op.method} ${op.path} as acme: ${back.body}`).toBe(404);
        expect(back.json().code).toBe('not_found');
      }
      // Nothing of acme changed: its token is still active, its license too.
      const t = await call('GET', `/api/v1/tokens/${acmeObj.username}`, bearer(acmeAdmin));
      expect(t.json().status).toBe('active');
      const l = await call('GET', `/api/v1/licenses/${acmeObj.id}`, bearer(acmeAdmin));
      expect(l.json().status).toBe('active');
    });

    it('lists show only the caller\'s own objects', async () => {
      for (const [path, key] of [
        ['/api/v1/tokens', 'username'],
        ['/api/v1/customers', 'id'],
        ['/api/v1/licenses', 'id'],
        ['/api/v1/plans', 'id'],
        ['/api/v1/users', 'id'],
      ] as const) {
        const mine = (await call('GET', `${path}?limit=500`, bearer(acmeAdmin))).json().items.map((x: Record<string, string>) => x[key]);
        expect(mine.length, path).toBeGreaterThan(0);
        const theirs = (await call('GET', `${path}?limit=500`, bearer(await tokenWith('admin:*:*')))).json().items.map((x: Record<string, string>) => x[key]);
        expect(mine.filter((id: string) => theirs.includes(id)), path).toEqual([]);
      }
    });

    it('a filter naming another vendor\'s customer is 404', async () => {
      for (const path of ['/api/v1/tokens', '/api/v1/licenses', '/api/v1/usage', '/api/v1/usage/events']) {
        const res = await call('GET', `${path}?customer=${acmeObj.customer}`, bearer(await tokenWith('admin:*:*')));
        expect(res.statusCode, path).toBe(404);
      }
    });

    it('explain on another vendor\'s token is 404', async () => {
      const res = await call('GET', `/api/v1/explain?token=${acmeObj.username}&scope=repository:acme/app:pull`, bearer(await tokenWith('admin:*:*')));
      expect(res.statusCode).toBe(404);
    });

    it('audit and usage show only the caller\'s vendor', async () => {
      const at = inst.clock.now;
      const event = (vendorId: string, id: string) => ({ id, at, vendorId, tokenId: 'ctok_x', customerId: null, action: 'pull' as const, repository: 'r/x', tag: 't', digest: 'sha256:00', ip: '10.0.0.1', userAgent: 'ua' });
      await inst.runtime.store.insertUsage([event(acme.vendorId, 'evt_acme-usage'), event(inst.runtime.operator.id, 'evt_operator-usage')]);
      const acmeUsage = (await call('GET', '/api/v1/usage/events', bearer(acmeAdmin))).json().items.map((e: { id: string }) => e.id);
      expect(acmeUsage).toEqual(['evt_acme-usage']);
      const acmeAudit = (await call('GET', '/api/v1/audit?limit=500', bearer(acmeAdmin))).json().items;
      expect(acmeAudit.length).toBeGreaterThan(0);
      const acmeIds = new Set(Object.values(acmeObj));
      for (const e of acmeAudit) expect(acmeIds.has(e.object_id) || e.object_id === acmeAdmin.token.id, JSON.stringify(e)).toBe(true);
    });

    it('only the operator vendor creates vendors; others see only themselves', async () => {
      const res = await call('POST', '/api/v1/vendors', bearer(acmeAdmin), { name: 'sneaky' });
      expect(res.statusCode).toBe(403);
      expect(res.json().detail).toMatch(/owner-level authority of the operator vendor/);
      const list = (await call('GET', '/api/v1/vendors', bearer(acmeAdmin))).json().items.map((v: { name: string }) => v.name);
      expect(list).toEqual(['acme']);
      const all = (await call('GET', '/api/v1/vendors', bearer(await tokenWith('admin:*:*')))).json().items.map((v: { name: string }) => v.name);
      expect(all).toEqual(expect.arrayContaining(['operator', 'acme']));
      // admin:vendors:write alone is not owner-level: creating a vendor is the operator owner's act.
      expect((await call('POST', '/api/v1/vendors', bearer(await tokenWith('admin:vendors:write')), { name: 'initrode' })).statusCode).toBe(403);
      const made = await call('POST', '/api/v1/vendors', bearer(await tokenWith('admin:*:*')), { name: 'initrode', namespaces: ['initrode/**'] });
      expect(made.statusCode).toBe(201);
      expect(made.json()).toMatchObject({ name: 'initrode', namespaces: ['initrode/**'], operator: false });
    });
  });

  describe('behaviour', () => {
    it('cursor pagination walks every item once, in order, and refuses a forged cursor', async () => {
      const admin = bearer(await tokenWith('admin:*:*'));
      for (let i = 0; i < 7; i++) expect((await call('POST', '/api/v1/customers', admin, { name: `page-${i}` })).statusCode).toBe(201);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await call('GET', `/api/v1/customers?limit=3${cursor ? `&cursor=${cursor}` : ''}`, admin);
        expect(res.statusCode).toBe(200);
        const body = res.json() as { items: { name: string }[]; next_cursor: string | null };
        expect(body.items.length).toBeLessThanOrEqual(3);
        seen.push(...body.items.map((c) => c.name));
        cursor = body.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      const all = (await call('GET', '/api/v1/customers?limit=500', admin)).json().items.map((c: { name: string }) => c.name);
      expect(seen).toEqual(all);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((n) => n.startsWith('page-'))).toHaveLength(7);
      for (const bad of ['not-a-cursor!', 'Zm9v', '']) {
        const res = await call('GET', `/api/v1/customers?cursor=${encodeURIComponent(bad)}`, admin);
        expect(res.statusCode, bad).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      for (const limit of ['0', '501', 'ten']) {
        const res = await call('GET', `/api/v1/customers?limit=${limit}`, admin);
        expect(res.statusCode, limit).toBe(400);
        expect(res.json()).toMatchObject({ code: 'invalid_input', field: 'limit' });
      }
    });

    it('audit events page newest first through the cursor', async () => {
      const admin = bearer(await tokenWith('admin:*:*'));
      const first = (await call('GET', '/api/v1/audit?limit=2', admin)).json();
      const second = (await call('GET', `/api/v1/audit?limit=2&cursor=${first.next_cursor}`, admin)).json();
      const times = [...first.items, ...second.items].map((e: { at: string; id: string }) => `${e.at} ${e.id}`);
      expect(times).toEqual([...times].sort().reverse());
      expect(new Set(times).size).toBe(4);
    });

    it('problem+json errors with a stable code and the field at fault', async () => {
      const admin = bearer(await tokenWith('admin:*:*'));
      const cases: [string, string, unknown, number, string, string?][] = [
        ['POST', '/api/v1/customers', { name: 'x', extra: 1 }, 400, 'invalid_input', 'extra'],
        ['POST', '/api/v1/customers', {}, 400, 'invalid_input', 'name'],
        ['POST', '/api/v1/customers', { name: 42 }, 400, 'invalid_input', 'name'],
        ['POST', '/api/v1/customers', { name: 'globex' }, 409, 'conflict'],
        ['POST', '/api/v1/tokens', { type: 'robot', name: 'x' }, 400, 'invalid_input', 'type'],
        ['POST', '/api/v1/tokens', { type: 'vendor', name: 'x', expires: 'soonish' }, 400, 'invalid_input', 'expires'],
        ['POST', '/api/v1/tokens', { type: 'vendor', name: 'x', scopes: ['admin:nope:read'] }, 400, 'invalid_input', 'scopes'],
        ['POST', '/api/v1/tokens', { type: 'vendor', name: 'x', rate_limit: 0 }, 400, 'invalid_input', 'rate_limit'],
        ['POST', '/api/v1/licenses', { customer: 'globex', repositories: ['bad//pattern'] }, 400, 'invalid_input', 'repositories'],
        ['POST', '/api/v1/licenses', { customer: 'globex', repositories: 'app/*', tags: 'semver:>>1' }, 400, 'invalid_input', 'tags'],
        ['POST', '/api/v1/licenses', { customer: 'globex', repositories: 'app/*', valid_until: '2020-01-01' }, 400, 'invalid_input', 'valid_until'],
        ['POST', '/api/v1/licenses', { customer: 'nobody', repositories: 'app/*' }, 404, 'not_found'],
        ['GET', '/api/v1/tokens/not-a-username', undefined, 400, 'invalid_input', 'id'],
        ['GET', '/api/v1/tokens/ctok_aaaaaaaaaaaaaaaa', undefined, 404, 'not_found'],
        ['GET', '/api/v1/audit?since=yesterdayish', undefined, 400, 'invalid_input'],
        ['GET', '/api/v1/usage/events?format=xml', undefined, 400, 'invalid_input', 'format'],
        ['GET', '/api/v1/nothing-here', undefined, 404, 'route_not_found'],
      ];
      for (const [method, url, body, status, code, field] of cases) {
        const res = await call(method, url, admin, body);
        expect(res.statusCode, `${method} ${url} ${JSON.stringify(body)}: ${res.body}`).toBe(status);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        const problem = res.json();
        expect(problem).toMatchObject({ status, code });
        expect(typeof problem.title).toBe('string');
        expect(problem.detail.length).toBeGreaterThan(5);
        if (field) expect(problem.field, `${method} ${url}`).toBe(field);
      }
      const malformed = await app.inject({ method: 'POST', url: '/api/v1/customers', headers: { authorization: admin, 'content-type': 'application/json' }, payload: '{"name":' });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().code).toBe('invalid_input');
    });

    it('every change is audited with the acting token and its address; the secret only in the create answer', async () => {
      const actor = await tokenWith('admin:tokens:write');
      const created = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { authorization: bearer(actor) }, remoteAddress: '192.0.2.7', payload: { type: 'vendor', name: 'made by api', scopes: 'admin:tokens:read' } });
      expect(created.statusCode).toBe(201);
      expect(created.headers['cache-control']).toBe('no-store');
      const { username, secret, full_token } = created.json();
      expect(full_token).toBe(`${username}.${secret}`);
      const revoked = await app.inject({ method: 'POST', url: `/api/v1/tokens/${username}/revoke`, headers: { authorization: bearer(actor) }, remoteAddress: '192.0.2.8' });
      expect(revoked.json().status).toBe('revoked');
      const shown = await call('GET', `/api/v1/tokens/${username}`, bearer(actor));
      expect(shown.body).not.toContain(secret);
      const events = (await call('GET', `/api/v1/audit?object=${username}`, bearer(await tokenWith('admin:audit:read')))).json().items;
      expect(events.map((e: { action: string; actor: string; source: string }) => [e.action, e.actor, e.source])).toEqual([
        ['token.revoke', actor.token.id, '192.0.2.8'],
        ['token.create', actor.token.id, '192.0.2.7'],
      ]);
      expect(JSON.stringify(events)).not.toContain(secret);
    });

    it('the token the API made works at once on /token, and its revoke stops it at once', async () => {
      const admin = bearer(await tokenWith('admin:*:*'));
      const made = (await call('POST', '/api/v1/tokens', admin, { type: 'customer', name: 'puller', customer: 'globex' })).json();
      const basicAuth = `Basic ${Buffer.from(`${made.username}:${made.secret}`).toString('base64')}`;
      expect((await call('GET', '/token?service=portcullis&scope=repository:app/x:pull', basicAuth)).statusCode).toBe(200);
      await call('POST', `/api/v1/tokens/${made.username}/revoke`, admin);
      expect((await call('GET', '/token?service=portcullis&scope=repository:app/x:pull', basicAuth)).statusCode).toBe(401);
    });

    it('licenses, plans and usage through the API', async () => {
      const admin = bearer(await tokenWith('admin:*:*'));
      const plan = await call('POST', '/api/v1/plans', admin, { name: 'suite', repositories: ['suite/*'], actions: 'pull' });
      expect(plan.statusCode).toBe(201);
      const lic = await call('POST', '/api/v1/licenses', admin, { customer: 'globex', plan: 'suite', tags: ['1.*'], valid_until: '30d' });
      expect(lic.statusCode).toBe(201);
      expect(lic.json()).toMatchObject({ plan_id: plan.json().id, tags: ['1.*'], status: 'active', valid_until: '2026-12-24T12:00:00.000Z' });
      expect((await call('DELETE', '/api/v1/plans/suite', admin)).statusCode).toBe(409);
      const suspended = await call('POST', `/api/v1/licenses/${lic.json().id}/suspend`, admin);
      expect(suspended.json().status).toBe('suspended');
      const listed = (await call('GET', '/api/v1/licenses?status=suspended', admin)).json().items.map((l: { id: string }) => l.id);
      expect(listed).toContain(lic.json().id);
      const at = inst.clock.now;
      await inst.runtime.store.insertUsage([
        { id: 'evt_u1', at, vendorId: inst.runtime.operator.id, tokenId: own.username!, customerId: own.customer!, action: 'pull', repository: 'app/x', tag: '1.0', digest: 'sha256:aa', ip: '10.0.0.2', userAgent: 'skopeo' },
        { id: 'evt_u2', at, vendorId: inst.runtime.operator.id, tokenId: own.username!, customerId: own.customer!, action: 'pull', repository: 'app/x', tag: '1.0', digest: 'sha256:aa', ip: '10.0.0.2', userAgent: 'skopeo' },
      ]);
      const usage = (await call('GET', '/api/v1/usage?customer=globex', admin)).json();
      expect(usage.counts).toContainEqual({ repository: 'app/x', tag: '1.0', pulls: 2, pushes: 0, last_at: at.toISOString() });
      const csv = await call('GET', '/api/v1/usage/events?format=csv&repo=app/x', admin);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csv.body.trim().split('\n')).toHaveLength(3);
    });
  });

  describe('answers match the published schemas exactly', () => {
    FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v) && !Number.isNaN(Date.parse(v)));
    const expectShape = (schema: TObject, value: unknown, what: string) => {
      expect([...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`), what).toEqual([]);
      // No field more or less than the schema documents: a presenter cannot leak one unseen.
      expect(Object.keys(value as object).sort(), what).toEqual(Object.keys(schema.properties).sort());
    };

    it('for every kind of object', async () => {
      const admin = bearer(await tokenWith('pull,push,admin:*:*'));
      const created = (await call('POST', '/api/v1/tokens', admin, { type: 'vendor', name: 'shape', expires: '1d', rate_limit: 50 })).json();
      expectShape(CreatedTokenBody, created, 'created token');
      await inst.runtime.store.insertUsage([
        { id: 'evt_shape', at: inst.clock.now, vendorId: inst.runtime.operator.id, tokenId: own.username!, customerId: null, action: 'push', repository: 'app/y', tag: null, digest: 'sha256:bb', ip: '10.0.0.3', userAgent: 'podman' },
      ]);
      const lists: [string, TObject][] = [
        ['/api/v1/tokens', TokenBody],
        ['/api/v1/customers', CustomerBody],
        ['/api/v1/licenses', LicenseBody],
        ['/api/v1/plans', PlanBody],
        ['/api/v1/vendors', VendorBody],
        ['/api/v1/audit', AuditBody],
        ['/api/v1/usage/events', UsageEventBody],
        ['/api/v1/users', UserBody],
      ];
      for (const [path, schema] of lists) {
        const page = (await call('GET', `${path}?limit=500`, admin)).json();
        expect(Object.keys(page).sort()).toEqual(['items', 'next_cursor']);
        expect(page.items.length, path).toBeGreaterThan(0);
        for (const item of page.items) expectShape(schema, item, path);
      }
    });
  });
});
