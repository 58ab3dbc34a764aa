/**
 * The authority table (src/core/operations.ts) against every route the app
 * registers, from Fastify's own list: each admin route with every kind of
 * caller (no credential, a customer token, vendor tokens of the operator and
 * of a tenant with each scope set, dashboard sessions of every role in both)
 * is refused exactly when the table says so, before its body is read. Every
 * other route is named here with how it is guarded, so a route added without
 * a guard fails this file. Then the escalation chains that once worked, and
 * login CSRF.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAuthority, sessionAuthority, tokenAuthority, type Authority } from '../../src/core/authority.js';
import { check } from '../../src/core/operations.js';
import type { Vendor } from '../../src/core/model.js';
import { USER_ROLES } from '../../src/core/roles.js';
import { ADMIN_AREAS, parseScopeList } from '../../src/core/vendor-scopes.js';
import { buildApp } from '../../src/http/app.js';
import type { DeclaredRoute } from '../../src/http/route-access.js';
import { ownerCaller } from '../../src/service/context.js';
import { createCustomer } from '../../src/service/customers.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createUser } from '../../src/service/users.js';
import { createVendor } from '../../src/service/vendors.js';
import { auth, basic, blob, imageConfig, imageManifest, MT, V2Client } from '../helpers/oci-http.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const PASSWORD = 'correct horse battery staple';
const PUBLIC_URL = 'http://registry.example.test:5000';

interface Credential {
  name: string;
  /** What the table judges; undefined: no admin authority at all (no credential, a customer token). */
  authority?: Authority;
  headers: Record<string, string>;
  /** A session writes with its CSRF token; the table is about authority, not CSRF (tested below). */
  csrf?: string;
}

/** Scope sets every operation is tried with: each area at each level, and the broad ones. */
const SCOPE_SETS = ['pull,push', ...ADMIN_AREAS.flatMap((a) => [`admin:${a}:read`, `admin:${a}:write`]), 'admin:*:read', 'admin:*:*', 'pull,push,admin:*:*'];

const bearer = (t: CreatedToken) => `Bearer ${t.token.id}.${t.secret}`;
const DUMMY_PARAMS: Record<string, string> = { username: 'vtok_aaaaaaaaaaaaaaaa', customer: 'nobody', id: 'lic_nothing', plan: 'nothing', user: 'usr_nothing', vendor: 'nobody' };
const fill = (url: string) => url.replace(/:(\w+)/g, (_m, name: string) => DUMMY_PARAMS[name] ?? 'x');

describe('authority over every route', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let operator: Vendor;
  let acme: Vendor;
  let ownerToken: CreatedToken;
  const credentials: Credential[] = [];
  const users: Record<string, { id: string; email: string }> = {};
  let ips = 0;
  const nextIp = () => `10.20.${Math.floor(++ips / 250) % 250}.${ips % 250}`;

  async function login(email: string, headers: Record<string, string> = {}): Promise<{ cookie: string; csrf: string; res: LightMyRequestResponse }> {
    const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: PASSWORD }, remoteAddress: nextIp(), headers });
    const cookie = String(res.headers['set-cookie'] ?? '').split(';')[0]!;
    return { cookie, csrf: res.statusCode === 200 ? (res.json() as { csrf_token: string }).csrf_token : '', res };
  }

  function send(method: string, url: string, c: Pick<Credential, 'headers' | 'csrf'>, payload?: unknown, extra: Record<string, string> = {}) {
    const headers: Record<string, string> = { ...c.headers, ...extra };
    if (c.csrf && method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = c.csrf;
    return app.inject({ method: method as 'GET', url, headers, remoteAddress: nextIp(), ...(payload === undefined ? {} : { payload: payload as object }) });
  }

  beforeAll(async () => {
    inst = await startInstance(undefined, { PORTCULLIS_SERVER_PUBLIC_URL: PUBLIC_URL, PORTCULLIS_TOKENS_DEFAULT_RATE_LIMIT: '100000', PORTCULLIS_AUTH_MAX_FAILED_LOGINS: '0' });
    const rt = inst.runtime;
    operator = rt.operator;
    acme = await createVendor(rt, inst.caller, { name: 'acme' });
    app = await buildApp(rt);
    await app.ready();
    ownerToken = await createToken(rt, inst.caller, { type: 'vendor', name: 'owner', scopes: 'pull,push,admin:*:*' });

    credentials.push({ name: 'no credential', headers: {} });
    const customer = await createCustomer(rt, ownerCaller(acme, inst.caller.actor), { name: 'globex' });
    const ctok = await createToken(rt, ownerCaller(acme, inst.caller.actor), { type: 'customer', name: 'pull', customer: customer.id });
    credentials.push({ name: 'customer token', headers: { authorization: bearer(ctok) } });
    credentials.push({ name: 'wrong secret', headers: { authorization: `Bearer ${ownerToken.token.id}.${'x'.repeat(32)}` } });

    for (const vendor of [operator, acme]) {
      const maker = ownerCaller(vendor, inst.caller.actor);
      for (const scopes of SCOPE_SETS) {
        const t = await createToken(rt, maker, { type: 'vendor', name: `t-${scopes}`.slice(0, 100), scopes });
        credentials.push({ name: `${vendor.name} token ${scopes}`, authority: tokenAuthority({ scopes: parseScopeList(scopes) }, vendor), headers: { authorization: bearer(t) } });
      }
      for (const role of USER_ROLES) {
        const email = `${role}@${vendor.name}.test`;
        const user = await createUser(rt, maker, { email, role, password: PASSWORD });
        users[`${vendor.name}-${role}`] = { id: user.id, email };
        const s = await login(email);
        expect(s.res.statusCode, s.res.body).toBe(200);
        credentials.push({ name: `${vendor.name} ${role} session`, authority: sessionAuthority({ id: user.id, role }, vendor), headers: { cookie: s.cookie }, csrf: s.csrf });
      }
    }
  });

  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  const routes = () => app.declaredRoutes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS');

  it('declares how every route is guarded, and names the ones outside the table here', () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(40);
    const others = all.filter((r) => r.operation === undefined).map((r) => `${r.method} ${r.url} ${r.access}`).sort();
    expect(others).toEqual(
      [
        'GET / public',
        'GET /.well-known/jwks.json public',
        'GET /accept public',
        'GET /account/password public',
        'GET /api/v1/invitations/:token none',
        'GET /api/v1/openapi.json public',
        'GET /api/v1/session session',
        'GET /assets/* public',
        'GET /audit public',
        'GET /customers public',
        'GET /customers/:id public',
        'GET /healthz public',
        'GET /licenses public',
        'GET /licenses/:id public',
        'GET /login public',
        'GET /metrics metrics',
        'GET /readyz public',
        'GET /token token',
        'GET /tokens public',
        'GET /tokens/:username public',
        'GET /usage public',
        'GET /users public',
        'POST /api/v1/invitations/accept none',
        'DELETE /api/v1/session session',
        'POST /api/v1/session none',
        'POST /api/v1/session/password session',
        'POST /token token',
        ...all.filter((r) => r.access === 'registry').map((r) => `${r.method} ${r.url} registry`),
        ...all.filter((r) => r.access === 'upstream').map((r) => `${r.method} ${r.url} upstream`),
      ].sort(),
    );
    // The registry is served under /v2 by one hook that authenticates every request, whatever route matches.
    expect(all.filter((r) => r.access === 'registry').map((r) => `${r.method} ${r.url}`).sort()).toEqual(['DELETE /v2/*', 'GET /v2/*', 'PATCH /v2/*', 'POST /v2/*', 'PUT /v2/*']);
  });

  it('refuses every admin route to every caller the table refuses, and to no other, before the body is read', async () => {
    const adminRoutes = routes().filter((r): r is DeclaredRoute & { operation: NonNullable<DeclaredRoute['operation']> } => r.operation !== undefined);
    expect(adminRoutes.length).toBeGreaterThan(30);
    const mismatches: string[] = [];
    let allowed = 0;
    let refused = 0;
    for (const route of adminRoutes) {
      for (const c of credentials) {
        // A body that no route takes: an allowed caller gets 400 (or 404), a refused one never sees it judged.
        const res = await send(route.method, fill(route.url), c, route.method === 'GET' || route.method === 'DELETE' ? undefined : { not_a_field: true });
        const expected = c.authority !== undefined && check(c.authority, route.operation).ok;
        const got = res.statusCode === 401 || res.statusCode === 403 ? 'refused' : 'allowed';
        if (got === 'refused') refused++;
        else allowed++;
        if ((expected ? 'allowed' : 'refused') !== got) mismatches.push(`${route.method} ${route.url} (${route.operation}) by ${c.name}: ${res.statusCode} ${res.body.slice(0, 160)}`);
        if (!expected) {
          // 401 without admin credentials, 403 with them; never a word about the body.
          expect(res.statusCode, `${route.method} ${route.url} by ${c.name}`).toBe(c.authority === undefined && c.name !== 'customer token' ? 401 : 403);
          expect(res.body).not.toContain('not_a_field');
        }
      }
    }
    expect(mismatches).toEqual([]);
    // Both outcomes happen many times: the matrix is not trivially one-sided.
    expect(allowed).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(1000);
  });

  it('guards every route outside the table as it says', async () => {
    const none = { headers: {} };
    for (const r of routes().filter((x) => x.operation === undefined)) {
      const url = fill(r.url.replace('*', 'missing.js'));
      const res = await send(r.method, url, none, r.method === 'POST' ? {} : undefined);
      const where = `${r.method} ${r.url} (${r.access}): ${res.statusCode}`;
      if (r.access === 'public') expect([200, 404, 503], where).toContain(res.statusCode);
      else if (r.access === 'session') expect(res.statusCode, where).toBe(401);
      else if (r.access === 'registry' || r.access === 'metrics' || r.access === 'upstream') expect(res.statusCode, where).toBe(401);
      // GET /token asks for credentials; a POST without grant_type is bad input before it is anything else.
      else if (r.access === 'token') expect(res.statusCode, where).toBe(r.method === 'GET' ? 401 : 400);
      else if (r.access === 'none') expect([400, 401, 404], where).toContain(res.statusCode);
      else throw new Error(`no check for ${where}`);
    }
  });

  it('in gateway mode adds only the upstream notifications, guarded by their secret before any body is read', async () => {
    const gateway = await startInstance(undefined, {
      PORTCULLIS_REGISTRY_UPSTREAM: 'http://127.0.0.1:9',
      PORTCULLIS_REGISTRY_NOTIFICATION_SECRET: 'a shared secret of the upstream',
    });
    const gwApp = await buildApp(gateway.runtime);
    try {
      await gwApp.ready();
      const key = (r: DeclaredRoute) => `${r.method} ${r.url} ${r.operation ?? r.access}`;
      const builtIn = new Set(app.declaredRoutes.map(key));
      expect(gwApp.declaredRoutes.map(key).filter((k) => !builtIn.has(k))).toEqual(['POST /api/v1/upstream/events upstream']);
      const refused = await gwApp.inject({ method: 'POST', url: '/api/v1/upstream/events', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, payload: '{not json' });
      expect(refused.statusCode).toBe(401);
      // The same routes otherwise, so the matrix above holds for a gateway too.
      expect(app.declaredRoutes.map(key).filter((k) => !gwApp.declaredRoutes.map(key).includes(k))).toEqual([]);
    } finally {
      await gwApp.close();
      await gateway.cleanup();
    }
  });

  describe('the escalation chains that once worked', () => {
    const tokenOf = async (c: Pick<Credential, 'headers' | 'csrf'>, scopes: string[]) => {
      const res = await send('POST', '/api/v1/tokens', c, { type: 'vendor', name: `minted ${scopes.join(' ')}`.slice(0, 100), scopes }, { 'content-type': 'application/json' });
      return res;
    };
    const cred = (name: string) => credentials.find((c) => c.name === name)!;

    it('a token with only admin:tokens:write mints no token with more, in any vendor', async () => {
      for (const vendor of ['acme', 'operator']) {
        const narrow = cred(`${vendor} token admin:tokens:write`);
        const res = await tokenOf(narrow, ['pull', 'push', 'admin:*:*']);
        expect(res.statusCode, res.body).toBe(403);
        expect(res.json().detail).toBe('this token cannot give scopes it does not hold: pull, push, admin:*:*');
        expect((await tokenOf(narrow, ['admin:vendors:write'])).statusCode).toBe(403);
        // What it holds, it may pass on.
        expect((await tokenOf(narrow, ['admin:tokens:read'])).statusCode).toBe(201);
        const same = await tokenOf(narrow, ['admin:tokens:write']);
        expect(same.statusCode).toBe(201);
        // ... and what it passed on creates no vendor.
        const child = { headers: { authorization: `Bearer ${same.json().full_token}` } };
        expect((await send('POST', '/api/v1/vendors', child, { name: `evil-${vendor}` })).statusCode).toBe(403);
      }
      expect((await inst.runtime.store.listVendors()).map((v) => v.name).sort()).toEqual(['acme', 'operator']);
    });

    it('a dashboard admin mints admin:users:write, but that token makes no owner anywhere and raises no role', async () => {
      for (const vendor of ['acme', 'operator']) {
        const admin = cred(`${vendor} admin session`);
        const minted = await tokenOf(admin, ['admin:users:write']);
        expect(minted.statusCode, minted.body).toBe(201);
        const child = { headers: { authorization: `Bearer ${minted.json().full_token}` } };
        const other = vendor === 'acme' ? 'operator' : 'acme';
        const created = await send('POST', '/api/v1/users', child, { email: `evil-${vendor}@x.test`, role: 'owner', password: PASSWORD, vendor: other });
        expect(created.statusCode, created.body).toBe(403);
        const own = await send('POST', '/api/v1/users', child, { email: `evil2-${vendor}@x.test`, role: 'owner', password: PASSWORD });
        expect(own.statusCode, own.body).toBe(403);
        // An admin it could log in as (it chooses the password) would hold more than the token: refused too.
        expect((await send('POST', '/api/v1/users', child, { email: `evil3-${vendor}@x.test`, role: 'admin', password: PASSWORD })).statusCode).toBe(403);
        const adminId = users[`${vendor}-admin`]!.id;
        const raised = await send('PATCH', `/api/v1/users/${adminId}`, child, { role: 'owner' });
        expect(raised.statusCode, raised.body).toBe(403);
        // The admin itself, by its session, raises no role of its own either.
        const self = await send('PATCH', `/api/v1/users/${adminId}`, admin, { role: 'owner' });
        expect(self.statusCode, self.body).toBe(403);
        expect(self.json().detail).toMatch(/owner-level authority/);
        const user = await send('GET', `/api/v1/users/${adminId}`, cred(`${vendor} owner session`));
        expect(user.json().role).toBe('admin');
      }
      const everyone = await inst.runtime.store.listUsers(acme.id);
      expect(everyone.filter((u) => u.email.startsWith('evil'))).toEqual([]);
    });

    it('an operator admin mints no token that reaches every namespace; an operator owner does', async () => {
      const admin = cred('operator admin session');
      for (const scopes of [['pull'], ['push'], ['pull', 'push']]) {
        const res = await tokenOf(admin, scopes);
        expect(res.statusCode, res.body).toBe(403);
        expect(res.json().detail).toMatch(/only owner-level callers of the operator vendor mint tokens with pull or push/);
      }
      expect((await tokenOf(cred('operator token pull,push'), ['pull'])).statusCode).toBe(403);
      expect((await tokenOf(cred('operator owner session'), ['pull', 'push'])).statusCode).toBe(201);
      // A tenant's admin may: its tokens reach only the tenant's namespaces.
      expect((await tokenOf(cred('acme admin session'), ['pull', 'push'])).statusCode).toBe(201);
    });

    it('owner-level acts need owner-level authority, and other vendors the operator\'s', async () => {
      const acmeOwnerToken = await tokenOf(cred('acme owner session'), ['pull', 'push', 'admin:*:*']);
      expect(acmeOwnerToken.statusCode).toBe(201);
      const acmeAll = { headers: { authorization: `Bearer ${acmeOwnerToken.json().full_token}` } };
      // Inside its vendor: an owner-level token makes an owner.
      expect((await send('POST', '/api/v1/users', acmeAll, { email: 'second-owner@acme.test', role: 'owner', password: PASSWORD })).statusCode).toBe(201);
      // Not in another vendor, and it learns nothing of which exist.
      const elsewhere = await send('POST', '/api/v1/users', acmeAll, { email: 'x@operator.test', role: 'viewer', password: PASSWORD, vendor: 'operator' });
      const nowhere = await send('POST', '/api/v1/users', acmeAll, { email: 'x@operator.test', role: 'viewer', password: PASSWORD, vendor: 'no-such-vendor' });
      expect([elsewhere.statusCode, nowhere.statusCode]).toEqual([403, 403]);
      expect(elsewhere.json().detail).toBe(nowhere.json().detail);
      expect((await send('POST', '/api/v1/vendors', acmeAll, { name: 'evil' })).statusCode).toBe(403);
      // Its own vendor, named, is no other vendor.
      expect((await send('POST', '/api/v1/users', acmeAll, { email: 'named-own@acme.test', role: 'viewer', password: PASSWORD, vendor: 'acme' })).statusCode).toBe(201);
      // The operator's owner-level token does both.
      const opAll = { headers: { authorization: bearer(ownerToken) } };
      expect((await send('POST', '/api/v1/users', opAll, { email: 'first@acme.test', role: 'owner', password: PASSWORD, vendor: 'acme' })).statusCode).toBe(201);
      const vendor = await send('POST', '/api/v1/vendors', opAll, { name: 'initech' });
      expect(vendor.statusCode, vendor.body).toBe(201);
      // An operator admin session does neither.
      const opAdmin = cred('operator admin session');
      expect((await send('POST', '/api/v1/vendors', opAdmin, { name: 'evil2' })).statusCode).toBe(403);
      expect((await send('POST', '/api/v1/users', opAdmin, { email: 'y@acme.test', role: 'viewer', password: PASSWORD, vendor: 'acme' })).statusCode).toBe(403);
    });

    it('the operator\'s customer tokens reach no tenant\'s images, whoever made the license', async () => {
      // A tenant's image, pushed by the tenant.
      const acmeCi = await createToken(inst.runtime, ownerCaller(acme, inst.caller.actor), { type: 'vendor', name: 'acme-ci' });
      const cfg = imageConfig('secret');
      const layer = blob('acme secret layer');
      const manifest = imageManifest({ config: cfg, layers: [layer] });
      expect((await new V2Client(app, auth(acmeCi)).pushImage('acme/secret', '1.0', manifest, [cfg, layer])).statusCode).toBe(201);
      // An operator admin (not an owner) licenses "everything" to a customer of its own and makes it a token.
      const admin = cred('operator admin session');
      const json = { 'content-type': 'application/json' };
      expect((await send('POST', '/api/v1/customers', admin, { name: 'evilco' }, json)).statusCode).toBe(201);
      expect((await send('POST', '/api/v1/licenses', admin, { customer: 'evilco', repositories: ['**'] }, json)).statusCode).toBe(201);
      const ctok = await send('POST', '/api/v1/tokens', admin, { type: 'customer', name: 'c', customer: 'evilco' }, json);
      expect(ctok.statusCode, ctok.body).toBe(201);
      const customer = new V2Client(app, basic(ctok.json().username, ctok.json().secret));
      const pulled = await customer.request('GET', `/v2/acme/secret/manifests/1.0`, { headers: { accept: MT.manifest } });
      expect(pulled.statusCode, pulled.body).toBe(403);
      expect(pulled.body).toContain('no active license covers acme/secret');
      expect((await customer.request('GET', `/v2/acme/secret/manifests/${manifest.digest}`)).statusCode).toBeGreaterThanOrEqual(400);
      const catalog = await customer.request('GET', '/v2/_catalog');
      expect(catalog.body).not.toContain('acme/secret');
      // The preview of such a license lists none of the tenant's repositories either.
      const preview = await send('POST', '/api/v1/licenses/preview', admin, { repositories: ['**'] }, json);
      expect(preview.statusCode, preview.body).toBe(200);
      expect(preview.body).not.toContain('acme/secret');
      // The operator's own vendor tokens keep their reach: the instance's superuser.
      const root = new V2Client(app, auth(ownerToken));
      expect((await root.request('GET', '/v2/acme/secret/manifests/1.0', { headers: { accept: MT.manifest } })).statusCode).toBe(200);
    });

    it('a narrow caller neither revokes nor revives a token stronger than itself', async () => {
      const narrow = cred('acme token admin:tokens:write');
      const strong = await createToken(inst.runtime, ownerCaller(acme, inst.caller.actor), { type: 'vendor', name: 'strong', scopes: 'pull,push,admin:*:*' });
      const res = await send('POST', `/api/v1/tokens/${strong.token.id}/revoke`, narrow);
      expect(res.statusCode, res.body).toBe(403);
      expect((await inst.runtime.store.getToken(acme.id, strong.token.id))?.status).toBe('active');
      const weak = await createToken(inst.runtime, ownerCaller(acme, inst.caller.actor), { type: 'vendor', name: 'weak', scopes: 'admin:tokens:read' });
      expect((await send('POST', `/api/v1/tokens/${weak.token.id}/disable`, narrow)).statusCode).toBe(200);
    });

    it('the local CLI acts as an owner of its vendor, and only the operator\'s reaches other vendors', () => {
      expect(check(localAuthority(operator), 'vendors.create').ok).toBe(true);
      expect(check(localAuthority(acme), 'vendors.create').ok).toBe(false);
      expect(check(localAuthority(acme), 'users.owner').ok).toBe(true);
    });
  });

  describe('login CSRF', () => {
    const OWNER = () => users['acme-owner']!.email;

    it('logs in from the public origin with JSON, and from programs that send no origin', async () => {
      expect((await login(OWNER(), { origin: new URL(PUBLIC_URL).origin, 'sec-fetch-site': 'same-origin' })).res.statusCode).toBe(200);
      expect((await login(OWNER())).res.statusCode).toBe(200);
    });

    it('refuses a cross-site login, whatever its body, before it checks the password', async () => {
      const attempts: Record<string, string>[] = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site', origin: 'http://other.registry.example.test:5000' }, { origin: 'null' }];
      for (const headers of attempts) {
        const { res } = await login(OWNER(), headers);
        expect(res.statusCode, res.body).toBe(403);
        expect(res.json().code).toBe('csrf_failed');
        expect(res.headers['set-cookie']).toBeUndefined();
      }
    });

    it('takes JSON only: a form or text body, the kinds an HTML form can send, is refused', async () => {
      const form = `email=${encodeURIComponent(OWNER())}&password=${encodeURIComponent(PASSWORD)}`;
      for (const [type, payload] of [
        ['application/x-www-form-urlencoded', form],
        ['text/plain', JSON.stringify({ email: OWNER(), password: PASSWORD })],
        ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n${OWNER()}\r\n--x--\r\n`],
      ]) {
        const res = await app.inject({ method: 'POST', url: '/api/v1/session', headers: { 'content-type': type! }, payload: payload!, remoteAddress: nextIp() });
        expect(res.statusCode, `${type}: ${res.body}`).toBe(415);
        expect(res.json().code).toBe('unsupported_media');
        expect(res.headers['set-cookie']).toBeUndefined();
      }
    });

    it('/token and /metrics refuse whatever a web page sends, a page that rebinds its name to this server included', async () => {
      const scraper = credentials.find((c) => c.name === 'operator token admin:metrics:read')!;
      const rebinding = { host: 'evil.example:5000', origin: 'http://evil.example:5000', 'sec-fetch-site': 'same-origin' };
      const pages: Record<string, string>[] = [rebinding, { origin: new URL(PUBLIC_URL).origin }, { 'sec-fetch-site': 'same-origin' }];
      for (const headers of pages) {
        const token = await app.inject({ method: 'POST', url: '/token', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=password&client_id=x&username=vtok_aaaaaaaaaaaaaaaa&password=guess', remoteAddress: nextIp() });
        expect(token.statusCode, token.body).toBe(403);
        expect(token.json().code).toBe('csrf_failed');
        const metrics = await send('GET', '/metrics', scraper, undefined, headers);
        expect(metrics.statusCode, metrics.body).toBe(403);
        expect(metrics.body).not.toContain('acme');
      }
      // A person typing the URL, and the programs these are for, get their usual answers.
      expect((await app.inject({ method: 'GET', url: '/token', headers: { 'sec-fetch-site': 'none' }, remoteAddress: nextIp() })).statusCode).toBe(401);
      expect((await send('GET', '/metrics', scraper)).statusCode).toBe(200);
    });

    it('without server.public_url, takes the origin the browser named in Host, and no other', async () => {
      const plain = await startInstance();
      const plainApp = await buildApp(plain.runtime);
      try {
        await createUser(plain.runtime, plain.caller, { email: 'ann@plain.test', role: 'owner', password: PASSWORD });
        const attempt = (headers: Record<string, string>) =>
          plainApp.inject({ method: 'POST', url: '/api/v1/session', payload: { email: 'ann@plain.test', password: PASSWORD }, headers, remoteAddress: nextIp() });
        // Served on 0.0.0.0 (a container): the browser's address is whatever the operator typed.
        expect((await attempt({ host: 'registry.lan:5000', origin: 'http://registry.lan:5000', 'sec-fetch-site': 'same-origin' })).statusCode).toBe(200);
        expect((await attempt({ host: '127.0.0.1:5000', origin: 'http://127.0.0.1:5000' })).statusCode).toBe(200);
        for (const origin of ['http://evil.example', 'http://registry.lan:5001', 'http://0.0.0.0:5000', 'null', 'file://registry.lan:5000']) {
          const res = await attempt({ host: 'registry.lan:5000', origin });
          expect(res.statusCode, origin).toBe(403);
          expect(res.json().code).toBe('csrf_failed');
        }
      } finally {
        await plainApp.close();
        await plain.cleanup();
      }
    });

    it('refuses a cookie-authenticated write from another origin or with a form body, even with the CSRF token', async () => {
      const owner = credentials.find((c) => c.name === 'acme owner session')!;
      const body = { name: 'from elsewhere' };
      const cross = await send('POST', '/api/v1/customers', owner, body, { origin: 'https://evil.example' });
      expect(cross.statusCode, cross.body).toBe(403);
      expect(cross.json().code).toBe('csrf_failed');
      const fetchSite = await send('POST', '/api/v1/customers', owner, body, { 'sec-fetch-site': 'cross-site' });
      expect(fetchSite.statusCode).toBe(403);
      const form = await app.inject({ method: 'POST', url: '/api/v1/customers', headers: { ...owner.headers, 'x-csrf-token': owner.csrf!, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=evil', remoteAddress: nextIp() });
      expect(form.statusCode, form.body).toBe(415);
      const fine = await send('POST', '/api/v1/customers', owner, body, { origin: new URL(PUBLIC_URL).origin, 'sec-fetch-site': 'same-origin' });
      expect(fine.statusCode, fine.body).toBe(201);
      expect((await inst.runtime.store.listCustomers(acme.id)).map((c) => c.name)).not.toContain('evil');
    });
  });
});
