/**
 * Dashboard users, sessions and invitations through the admin API, in
 * process (app.inject), with a real SMTP server (smtp-server) catching the
 * invitation mails: login and its one answer for every refusal, the cookie's
 * attributes, CSRF, roles against every write route of the OpenAPI document,
 * every way a session ends, login throttling, invitations by link and by
 * temporary password, the last owner, tenancy and the audit trail.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { FormatRegistry, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { InvitedBody, SessionBody, UserBody } from '../../src/http/routes/api/schemas.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createUser } from '../../src/service/users.js';
import { createVendor } from '../../src/service/vendors.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { startSmtpCatcher, type SmtpCatcher } from '../helpers/smtp-catcher.js';

FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v) && !Number.isNaN(Date.parse(v)));
const expectShape = (schema: TObject, value: unknown) => {
  expect([...Value.Errors(schema, value)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
  expect(Object.keys(value as object).sort()).toEqual(Object.keys(schema.properties).sort());
};

const PASSWORD = 'correct horse battery staple';

interface Session {
  cookie: string;
  csrf: string;
  body: Record<string, unknown> & { user: Record<string, unknown> };
  res: LightMyRequestResponse;
}

interface Call {
  session?: Pick<Session, 'cookie' | 'csrf'>;
  /** Send the session's CSRF token (default), none, or this one. */
  csrf?: string | false;
  authorization?: string;
  cookie?: string;
  payload?: unknown;
  ip?: string;
}

describe('dashboard users, sessions and invitations', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let smtp: SmtpCatcher;
  let admin: CreatedToken;
  let acme: Caller;
  let acmeUserId: string;
  let addresses = 0;
  const nextIp = () => `10.9.${Math.floor(++addresses / 250) % 250}.${addresses % 250}`;
  const bearer = (t: CreatedToken) => `Bearer ${t.token.id}.${t.secret}`;

  const call = (method: string, url: string, c: Call = {}) => {
    const headers: Record<string, string> = {};
    if (c.authorization) headers.authorization = c.authorization;
    const cookie = c.cookie ?? (c.session ? `portcullis_session=${c.session.cookie}` : undefined);
    if (cookie) headers.cookie = cookie;
    const csrf = c.csrf === undefined ? c.session?.csrf : c.csrf;
    if (csrf) headers['x-csrf-token'] = csrf;
    return app.inject({
      method: method as 'GET',
      url,
      headers,
      remoteAddress: c.ip ?? nextIp(),
      ...(c.payload === undefined ? {} : { payload: c.payload as object }),
    });
  };

  const setCookie = (res: LightMyRequestResponse) => String(res.headers['set-cookie'] ?? '');
  const cookieValue = (res: LightMyRequestResponse) => /portcullis_session=([^;]*)/.exec(setCookie(res))?.[1] ?? '';

  async function login(email: string, password = PASSWORD, ip?: string): Promise<Session> {
    const res = await call('POST', '/api/v1/session', { payload: { email, password }, ...(ip ? { ip } : {}) });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    return { cookie: cookieValue(res), csrf: body.csrf_token, body, res };
  }

  async function newUser(email: string, role: 'owner' | 'admin' | 'viewer', caller: Caller = inst.caller) {
    return createUser(inst.runtime, caller, { email, role, password: PASSWORD });
  }

  beforeAll(async () => {
    smtp = await startSmtpCatcher();
    inst = await startInstance(undefined, {
      PORTCULLIS_SMTP_HOST: '127.0.0.1',
      PORTCULLIS_SMTP_PORT: String(smtp.port),
      PORTCULLIS_SMTP_TLS: 'none',
      PORTCULLIS_SMTP_FROM: 'Registry <registry@operator.test>',
      PORTCULLIS_SERVER_PUBLIC_URL: 'http://registry.operator.test:5000',
    });
    app = await buildApp(inst.runtime);
    // Owner-level: it makes owners, so it holds everything an owner does.
    admin = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: 'admin', scopes: 'pull,push,admin:*:*' });
    await newUser('owner@op.test', 'owner');
    await newUser('admin@op.test', 'admin');
    await newUser('viewer@op.test', 'viewer');
    const vendor = await createVendor(inst.runtime, inst.caller, { name: 'acme' });
    acme = ownerCaller(vendor, { name: 'test', source: 'test' });
    acmeUserId = (await newUser('owner@acme.test', 'owner', acme)).id;
  });

  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
    await smtp?.close();
  });

  describe('login', () => {
    it('sets an HttpOnly, SameSite=Lax session cookie for the session TTL, and answers who and the CSRF token', async () => {
      const s = await login('Owner@OP.test ');
      expect(s.res.headers['cache-control']).toBe('no-store');
      expectShape(SessionBody, s.body);
      expect(s.body).toMatchObject({
        user: { email: 'owner@op.test', role: 'owner', status: 'active', must_change_password: false, last_login_at: inst.clock.now.toISOString() },
        vendor: { id: inst.runtime.operator.id, name: 'operator', operator: true },
        expires_at: new Date(inst.clock.now.getTime() + 12 * 3600_000).toISOString(),
      });
      const cookie = setCookie(s.res);
      expect(cookie).toMatch(/^portcullis_session=[A-Za-z0-9_-]{43}; /);
      expect(cookie).toContain('Max-Age=43200');
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('Path=/');
      expect(cookie).toContain('SameSite=Lax');
      // Plain http public URL, plain connection: a Secure cookie would never come back, and HSTS would be ignored.
      expect(cookie).not.toContain('Secure');
      expect(s.res.headers['strict-transport-security']).toBeUndefined();
      // The cookie is a secret of its own, not the CSRF token.
      expect(s.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(s.csrf).not.toBe(s.cookie);

      const again = await call('GET', '/api/v1/session', { session: s });
      expect(again.statusCode).toBe(200);
      expect(again.headers['cache-control']).toBe('no-store');
      expect(again.json()).toEqual(s.body);
    });

    it('gives a wrong password, an unknown address, an invited and a disabled user the very same 401', async () => {
      await newUser('disabled@op.test', 'viewer');
      expect((await call('PATCH', '/api/v1/users/disabled@op.test', { authorization: bearer(admin), payload: { status: 'disabled' } })).statusCode).toBe(200);
      expect((await call('POST', '/api/v1/invitations', { authorization: bearer(admin), payload: { email: 'invited@op.test', role: 'viewer' } })).statusCode).toBe(201);
      const answers = [];
      for (const [email, password] of [
        ['owner@op.test', 'not the password at all'],
        ['nobody@op.test', PASSWORD],
        ['invited@op.test', PASSWORD],
        ['disabled@op.test', PASSWORD],
        ['not an address', PASSWORD],
        ['owner@op.test', ''],
      ]) {
        const res = await call('POST', '/api/v1/session', { payload: { email, password } });
        expect(res.statusCode, email).toBe(401);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers['set-cookie']).toBeUndefined();
        answers.push(res.json());
      }
      expect(answers[0]).toMatchObject({ code: 'unauthenticated', detail: 'email or password is wrong' });
      for (const a of answers) expect(a).toEqual(answers[0]);
    });

    it('marks the cookie Secure and names it __Host- when the public URL is https, and reads only that name', async () => {
      const tls = await startInstance(undefined, { PORTCULLIS_SERVER_PUBLIC_URL: 'https://registry.example.com' });
      try {
        await createUser(tls.runtime, tls.caller, { email: 'ann@example.com', role: 'owner', password: PASSWORD });
        const tlsApp = await buildApp(tls.runtime);
        const res = await tlsApp.inject({ method: 'POST', url: '/api/v1/session', payload: { email: 'ann@example.com', password: PASSWORD } });
        expect(res.statusCode).toBe(200);
        expect(setCookie(res)).toMatch(/^__Host-portcullis_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; HttpOnly; Path=\/; SameSite=Lax; Secure$/);
        expect(setCookie(res)).not.toMatch(/Domain=/i);
        expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
        const csrf = { 'x-csrf-token': res.json().csrf_token };
        // An unprefixed cookie could have been planted by a sibling subdomain: it does not count here.
        const planted = await tlsApp.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: `portcullis_session=${cookieValue(res)}` } });
        expect(planted.statusCode).toBe(401);
        const out = await tlsApp.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: `__Host-portcullis_session=${cookieValue(res)}`, ...csrf } });
        expect(out.statusCode).toBe(204);
        expect(setCookie(out)).toMatch(/^__Host-portcullis_session=; Max-Age=0; .*Path=\/; .*Secure$/);
        await tlsApp.close();
      } finally {
        await tls.cleanup();
      }
    });
  });

  describe('CSRF and credentials', () => {
    it('refuses a cookie-authenticated write without the CSRF token or with a wrong one, and takes the right one', async () => {
      const s = await login('admin@op.test');
      const none = await call('POST', '/api/v1/customers', { session: s, csrf: false, payload: { name: 'csrf-none' } });
      expect(none.statusCode).toBe(403);
      expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(none.json()).toMatchObject({ code: 'csrf_failed', status: 403 });
      const wrong = await call('POST', '/api/v1/customers', { session: s, csrf: 'A'.repeat(43), payload: { name: 'csrf-wrong' } });
      expect(wrong.json().code).toBe('csrf_failed');
      // Another session's token is as wrong as any.
      const other = await login('admin@op.test');
      expect((await call('POST', '/api/v1/customers', { session: s, csrf: other.csrf, payload: { name: 'csrf-other' } })).json().code).toBe('csrf_failed');
      for (const url of ['/api/v1/session', '/api/v1/session/password']) {
        const method = url.endsWith('password') ? 'POST' : 'DELETE';
        expect((await call(method, url, { session: s, csrf: false, payload: method === 'POST' ? { current_password: PASSWORD, new_password: 'x'.repeat(12) } : undefined })).json().code).toBe('csrf_failed');
      }
      const ok = await call('POST', '/api/v1/customers', { session: s, payload: { name: 'csrf-ok' } });
      expect(ok.statusCode, ok.body).toBe(201);
      // Reads need no token.
      expect((await call('GET', '/api/v1/customers', { session: s, csrf: false })).statusCode).toBe(200);
      const names = (await call('GET', '/api/v1/customers?limit=500', { authorization: bearer(admin) })).json().items.map((c: { name: string }) => c.name);
      expect(names).toContain('csrf-ok');
      expect(names.filter((n: string) => n.startsWith('csrf-'))).toEqual(['csrf-ok']);
    });

    it('401 for a missing, unknown or malformed cookie, clearing it', async () => {
      for (const cookie of [undefined, 'portcullis_session=' + 'A'.repeat(43), 'portcullis_session=short', 'other=1']) {
        const res = await call('GET', '/api/v1/customers', { ...(cookie ? { cookie } : {}) });
        expect(res.statusCode, cookie).toBe(401);
        expect(res.json()).toMatchObject({ code: 'unauthenticated', detail: 'authentication required: missing or invalid credentials' });
        if (cookie?.startsWith('portcullis_session')) expect(setCookie(res)).toMatch(/^portcullis_session=; Max-Age=0/);
      }
    });

    it('a token authenticates as before and the cookie beside it is ignored', async () => {
      const viewer = await login('viewer@op.test');
      // The viewer's cookie cannot write, but the token beside it can, without any CSRF token.
      const res = await call('POST', '/api/v1/customers', { authorization: bearer(admin), session: viewer, csrf: false, payload: { name: 'by-token' } });
      expect(res.statusCode).toBe(201);
      const audit = (await call('GET', '/api/v1/audit?object=' + res.json().id, { authorization: bearer(admin) })).json().items;
      expect(audit[0].actor).toBe(admin.token.id);
      // A bad token is refused even with a good cookie: the header decides.
      const bad = await call('GET', '/api/v1/customers', { authorization: `Bearer ${admin.token.id}.wrongwrongwrongwrongwrongwrong12`, session: viewer });
      expect(bad.statusCode).toBe(401);
    });
  });

  describe('roles', () => {
    interface Op {
      method: string;
      path: string;
      scope: string;
    }
    let ops: Op[];
    beforeAll(async () => {
      const doc = (await call('GET', '/api/v1/openapi.json')).json() as { paths: Record<string, Record<string, { description: string }>> };
      ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.entries(methods).flatMap(([method, op]) => {
          const scope = /`(admin:[a-z*]+:[a-z*]+)`/.exec(op.description)?.[1];
          return scope ? [{ method: method.toUpperCase(), path, scope }] : [];
        }),
      );
    });
    const fill = (path: string) => path.replace(/\{(\w+)\}/g, 'x');

    it('a viewer reads every area and gets 403 on every write route of the OpenAPI document', async () => {
      const viewer = await login('viewer@op.test');
      const writes = ops.filter((o) => o.scope.endsWith(':write'));
      expect(writes.length).toBeGreaterThan(15);
      for (const op of writes) {
        const res = await call(op.method, fill(op.path), { session: viewer, payload: op.method === 'GET' || op.method === 'DELETE' ? undefined : {} });
        expect(res.statusCode, `${op.method} ${op.path}: ${res.body}`).toBe(403);
        expect(res.json().code).toBe('denied');
      }
      for (const op of ops.filter((o) => o.method === 'GET' && !o.path.includes('{'))) {
        const res = await call('GET', op.path, { session: viewer });
        // Past authentication and scope (explain without its query is 400, and that is fine).
        expect([401, 403], `${op.path}: ${res.body}`).not.toContain(res.statusCode);
        expect(res.statusCode).toBeLessThan(500);
      }
    });

    it('an admin manages admins and viewers, but cannot make, promote, change or delete an owner, nor create vendors or an all-powerful token', async () => {
      const s = await login('admin@op.test');
      const owner = (await call('GET', '/api/v1/users/owner@op.test', { session: s })).json();
      const refused: [string, string, unknown][] = [
        ['POST', '/api/v1/users', { email: 'new-owner@op.test', role: 'owner', password: PASSWORD }],
        ['POST', '/api/v1/invitations', { email: 'new-owner@op.test', role: 'owner' }],
        ['PATCH', `/api/v1/users/${owner.id}`, { status: 'disabled' }],
        ['DELETE', `/api/v1/users/${owner.id}`, undefined],
        ['POST', '/api/v1/vendors', { name: 'sneaky' }],
        ['POST', '/api/v1/tokens', { type: 'vendor', name: 'escalate', scopes: 'admin:*:*' }],
        ['POST', '/api/v1/tokens', { type: 'vendor', name: 'escalate', scopes: 'admin:vendors:write' }],
      ];
      for (const [method, url, payload] of refused) {
        const res = await call(method, url, { session: s, payload });
        expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(403);
        expect(res.json().code).toBe('denied');
      }
      const made = await call('POST', '/api/v1/users', { session: s, payload: { email: 'helper@op.test', role: 'admin', password: PASSWORD } });
      expect(made.statusCode, made.body).toBe(201);
      expectShape(UserBody, made.json());
      const promote = await call('PATCH', `/api/v1/users/${made.json().id}`, { session: s, payload: { role: 'owner' } });
      expect(promote.statusCode).toBe(403);
      const demote = await call('PATCH', `/api/v1/users/${made.json().id}`, { session: s, payload: { role: 'viewer' } });
      expect(demote.json()).toMatchObject({ role: 'viewer' });
      expect((await call('DELETE', `/api/v1/users/${made.json().id}`, { session: s })).statusCode).toBe(204);
      const token = await call('POST', '/api/v1/tokens', { session: s, payload: { type: 'vendor', name: 'ci', scopes: 'admin:tokens:write,admin:*:read' } });
      expect(token.statusCode, token.body).toBe(201);
      // In the operator vendor, pull and push reach every namespace: an owner's to give, not an admin's.
      const reach = await call('POST', '/api/v1/tokens', { session: s, payload: { type: 'vendor', name: 'ci', scopes: 'pull,push' } });
      expect(reach.statusCode, reach.body).toBe(403);
    });

    it('an owner makes owners', async () => {
      const s = await login('owner@op.test');
      const made = await call('POST', '/api/v1/users', { session: s, payload: { email: 'second-owner@op.test', role: 'owner', password: PASSWORD } });
      expect(made.statusCode, made.body).toBe(201);
      expect(made.json().role).toBe('owner');
      expect((await call('DELETE', `/api/v1/users/${made.json().id}`, { session: s })).statusCode).toBe(204);
    });
  });

  describe('a session ends', () => {
    it('at logout: the cookie is cleared and no longer works', async () => {
      const s = await login('viewer@op.test');
      const out = await call('DELETE', '/api/v1/session', { session: s });
      expect(out.statusCode).toBe(204);
      expect(setCookie(out)).toMatch(/^portcullis_session=; Max-Age=0/);
      expect((await call('GET', '/api/v1/session', { session: s })).statusCode).toBe(401);
      expect((await call('GET', '/api/v1/customers', { session: s })).statusCode).toBe(401);
    });

    it('when the user is disabled, and logins stay refused until it is enabled', async () => {
      await newUser('to-disable@op.test', 'viewer');
      const s = await login('to-disable@op.test');
      const owner = await login('owner@op.test');
      expect((await call('PATCH', '/api/v1/users/to-disable@op.test', { session: owner, payload: { status: 'disabled' } })).json().status).toBe('disabled');
      expect((await call('GET', '/api/v1/session', { session: s })).statusCode).toBe(401);
      expect((await call('POST', '/api/v1/session', { payload: { email: 'to-disable@op.test', password: PASSWORD } })).statusCode).toBe(401);
      expect((await call('PATCH', '/api/v1/users/to-disable@op.test', { session: owner, payload: { status: 'active' } })).json().status).toBe('active');
      await login('to-disable@op.test');
    });

    it('when the user is deleted or its role changes', async () => {
      await newUser('to-change@op.test', 'viewer');
      await newUser('to-delete@op.test', 'viewer');
      const changed = await login('to-change@op.test');
      const deleted = await login('to-delete@op.test');
      expect((await call('PATCH', '/api/v1/users/to-change@op.test', { authorization: bearer(admin), payload: { role: 'admin' } })).json().role).toBe('admin');
      expect((await call('DELETE', '/api/v1/users/to-delete@op.test', { authorization: bearer(admin) })).statusCode).toBe(204);
      expect((await call('GET', '/api/v1/session', { session: changed })).statusCode).toBe(401);
      expect((await call('GET', '/api/v1/session', { session: deleted })).statusCode).toBe(401);
      // The new role applies from the next login.
      const again = await login('to-change@op.test');
      expect(again.body.user.role).toBe('admin');
    });

    it('for the other sessions when the password changes; the current one goes on', async () => {
      await newUser('changer@op.test', 'viewer');
      const here = await login('changer@op.test');
      const elsewhere = await login('changer@op.test');
      const wrong = await call('POST', '/api/v1/session/password', { session: here, payload: { current_password: 'not it at all', new_password: 'a brand new passphrase' } });
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json()).toMatchObject({ code: 'denied', field: 'current_password' });
      const short = await call('POST', '/api/v1/session/password', { session: here, payload: { current_password: PASSWORD, new_password: 'short' } });
      expect(short.statusCode).toBe(400);
      expect(short.json()).toMatchObject({ field: 'new_password' });
      expect(short.json().detail).toMatch(/at least 10 characters/);
      const same = await call('POST', '/api/v1/session/password', { session: here, payload: { current_password: PASSWORD, new_password: PASSWORD } });
      expect(same.json()).toMatchObject({ code: 'invalid_input', field: 'new_password' });
      const ok = await call('POST', '/api/v1/session/password', { session: here, payload: { current_password: PASSWORD, new_password: 'a brand new passphrase' } });
      expect(ok.statusCode, ok.body).toBe(204);
      expect((await call('GET', '/api/v1/session', { session: here })).statusCode).toBe(200);
      expect((await call('GET', '/api/v1/session', { session: elsewhere })).statusCode).toBe(401);
      expect((await call('POST', '/api/v1/session', { payload: { email: 'changer@op.test', password: PASSWORD } })).statusCode).toBe(401);
      await login('changer@op.test', 'a brand new passphrase');
    });

    it('when it expires', async () => {
      const s = await login('viewer@op.test');
      const start = inst.clock.now;
      try {
        inst.clock.now = new Date(start.getTime() + 12 * 3600_000 - 1000);
        expect((await call('GET', '/api/v1/session', { session: s })).statusCode).toBe(200);
        inst.clock.now = new Date(start.getTime() + 12 * 3600_000);
        expect((await call('GET', '/api/v1/session', { session: s })).statusCode).toBe(401);
        inst.clock.now = start;
        // Gone for good, not only while the clock is late.
        expect((await call('GET', '/api/v1/session', { session: s })).statusCode).toBe(401);
      } finally {
        inst.clock.now = start;
      }
    });
  });

  describe('login throttling', () => {
    it('per e-mail address: after 10 failures from anywhere, refused even with the right password; the same for an unknown address', async () => {
      await newUser('target@op.test', 'viewer');
      const refusals: Record<string, unknown>[] = [];
      for (const email of ['target@op.test', 'ghost@op.test']) {
        for (let i = 0; i < 10; i++) {
          expect((await call('POST', '/api/v1/session', { payload: { email, password: `guess number ${i}` } })).statusCode).toBe(401);
        }
        const res = await call('POST', '/api/v1/session', { payload: { email, password: PASSWORD } });
        expect(res.statusCode, email).toBe(429);
        expect(res.headers['retry-after']).toBe('900');
        refusals.push(res.json());
      }
      expect(refusals[0]).toMatchObject({ code: 'rate_limited' });
      expect(refusals[1]).toEqual(refusals[0]);
      // Another account is not held up, and the window's end frees this one.
      await login('viewer@op.test');
      const start = inst.clock.now;
      try {
        inst.clock.now = new Date(start.getTime() + 15 * 60_000);
        await login('target@op.test');
      } finally {
        inst.clock.now = start;
      }
    });

    it('per client address: 20 failures lock it out, whatever account it names next, with one answer', async () => {
      const ip = '192.0.2.99';
      for (let i = 0; i < 20; i++) {
        expect((await call('POST', '/api/v1/session', { ip, payload: { email: `spray-${i}@op.test`, password: PASSWORD } })).statusCode).toBe(401);
      }
      const known = await call('POST', '/api/v1/session', { ip, payload: { email: 'viewer@op.test', password: PASSWORD } });
      const unknown = await call('POST', '/api/v1/session', { ip, payload: { email: 'nobody-here@op.test', password: PASSWORD } });
      expect(known.statusCode).toBe(429);
      expect(known.headers['retry-after']).toBeDefined();
      expect(unknown.json()).toEqual(known.json());
      // Invitation links from there too: a wrong link counts as a failed login.
      expect((await call('POST', '/api/v1/invitations/accept', { ip, payload: { token: 'A'.repeat(43), password: PASSWORD } })).statusCode).toBe(429);
    });
  });

  describe('invitations', () => {
    it('by link, e-mailed through SMTP: the mail carries the link, the link shows the invitation, accepting sets the password once', async () => {
      const owner = await login('owner@op.test');
      const res = await call('POST', '/api/v1/invitations', { session: owner, payload: { email: 'New.Hire@Op.test', role: 'admin' } });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expectShape(InvitedBody, res.json());
      const expiresAt = new Date(inst.clock.now.getTime() + 7 * 86_400_000).toISOString();
      expect(res.json()).toMatchObject({
        user: { email: 'new.hire@op.test', role: 'admin', status: 'invited', last_login_at: null },
        invitation: { expires_at: expiresAt, emailed: true, url: null, temporary_password: null },
      });
      const mail = await smtp.waitFor('new.hire@op.test');
      expect(mail.from).toBe('registry@operator.test');
      expect(mail.subject).toContain('operator');
      expect(mail.text).toContain('operator');
      expect(mail.text).toContain('2026-12-01 12:00:00Z');
      const link = /(\S+)\/accept#token=([A-Za-z0-9_-]{43})/.exec(mail.text);
      expect(link?.[1]).toBe('http://registry.operator.test:5000');
      expect(mail.html).toContain(link![0]);
      const token = link![2]!;

      const shown = await call('GET', `/api/v1/invitations/${token}`);
      expect(shown.statusCode).toBe(200);
      expect(shown.json()).toEqual({ email: 'new.hire@op.test', vendor: { name: 'operator' }, expires_at: expiresAt });
      // An invited user cannot log in yet.
      expect((await call('POST', '/api/v1/session', { payload: { email: 'new.hire@op.test', password: PASSWORD } })).statusCode).toBe(401);

      const weak = await call('POST', '/api/v1/invitations/accept', { payload: { token, password: 'short' } });
      expect(weak.statusCode).toBe(400);
      expect(weak.json()).toMatchObject({ code: 'invalid_input', field: 'password' });
      const mailAsPassword = await call('POST', '/api/v1/invitations/accept', { payload: { token, password: 'new.hire@op.test' } });
      expect(mailAsPassword.json().field).toBe('password');
      const accepted = await call('POST', '/api/v1/invitations/accept', { payload: { token, password: PASSWORD } });
      expect(accepted.statusCode, accepted.body).toBe(204);
      const s = await login('new.hire@op.test');
      expect(s.body.user).toMatchObject({ status: 'active', role: 'admin', must_change_password: false });

      const reused = await call('POST', '/api/v1/invitations/accept', { payload: { token, password: 'another long passphrase' } });
      expect(reused.statusCode).toBe(404);
      const lookedUp = await call('GET', `/api/v1/invitations/${token}`);
      expect(lookedUp.statusCode).toBe(404);
      const unknown = await call('GET', `/api/v1/invitations/${'B'.repeat(43)}`);
      expect(unknown.json()).toEqual(lookedUp.json());
      // The old password still works: the reuse changed nothing.
      await login('new.hire@op.test');
    });

    it('a link expires after invitation_ttl', async () => {
      smtp.reject = 550;
      try {
        const res = await call('POST', '/api/v1/invitations', { authorization: bearer(admin), payload: { email: 'late@op.test', role: 'viewer' } });
        const token = /#token=(.+)$/.exec(res.json().invitation.url)![1]!;
        const start = inst.clock.now;
        try {
          inst.clock.now = new Date(start.getTime() + 7 * 86_400_000);
          expect((await call('GET', `/api/v1/invitations/${token}`)).statusCode).toBe(404);
          expect((await call('POST', '/api/v1/invitations/accept', { payload: { token, password: PASSWORD } })).statusCode).toBe(404);
        } finally {
          inst.clock.now = start;
        }
      } finally {
        smtp.reject = undefined;
      }
    });

    it('when the mail fails, the user is still invited and the answer carries the link', async () => {
      smtp.reject = 550;
      try {
        const res = await call('POST', '/api/v1/invitations', { authorization: bearer(admin), payload: { email: 'bounced@op.test', role: 'viewer' } });
        expect(res.statusCode).toBe(201);
        expect(res.json().invitation).toMatchObject({ emailed: false, url: expect.stringMatching(/^http:\/\/registry\.operator\.test:5000\/accept#token=[A-Za-z0-9_-]{43}$/) });
        expect((await call('GET', '/api/v1/users/bounced@op.test', { authorization: bearer(admin) })).json().status).toBe('invited');
      } finally {
        smtp.reject = undefined;
      }
    });

    it('without SMTP, answers the link for the admin to pass on', async () => {
      const plain = await startInstance();
      try {
        const plainApp = await buildApp(plain.runtime);
        const token = await createToken(plain.runtime, plain.caller, { type: 'vendor', name: 'a', scopes: 'pull,push,admin:*:*' });
        const res = await plainApp.inject({ method: 'POST', url: '/api/v1/invitations', headers: { authorization: bearer(token) }, payload: { email: 'ann@example.com', role: 'owner', mode: 'link' } });
        expect(res.statusCode, res.body).toBe(201);
        const { invitation } = res.json();
        expect(invitation).toMatchObject({ emailed: false, temporary_password: null });
        // The default public URL, http://host:port.
        expect(invitation.url).toMatch(/^http:\/\/127\.0\.0\.1:5000\/accept#token=[A-Za-z0-9_-]{43}$/);
        const link = invitation.url.split('#token=')[1];
        expect((await plainApp.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token: link, password: PASSWORD } })).statusCode).toBe(204);
        expect((await plainApp.inject({ method: 'POST', url: '/api/v1/session', payload: { email: 'ann@example.com', password: PASSWORD } })).statusCode).toBe(200);
        await plainApp.close();
      } finally {
        await plain.cleanup();
      }
    });

    it('with a temporary password: shown once, and nothing else works until the user has chosen its own', async () => {
      const res = await call('POST', '/api/v1/invitations', { authorization: bearer(admin), payload: { email: 'temp@op.test', role: 'viewer', mode: 'password' } });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      const { user, invitation } = res.json();
      expect(user).toMatchObject({ status: 'active', must_change_password: true });
      expect(invitation).toMatchObject({ emailed: false, url: null, expires_at: new Date(inst.clock.now.getTime() + 7 * 86_400_000).toISOString(), temporary_password: expect.stringMatching(/^[A-Za-z0-9]{32}$/) });
      expect(smtp.mails.some((m) => m.to.includes('temp@op.test'))).toBe(false);
      expect((await call('GET', `/api/v1/users/${user.id}`, { authorization: bearer(admin) })).body).not.toContain(invitation.temporary_password);

      const s = await login('temp@op.test', invitation.temporary_password);
      expect(s.body.user.must_change_password).toBe(true);
      const blocked = await call('GET', '/api/v1/customers', { session: s });
      expect(blocked.statusCode).toBe(403);
      expect(blocked.json().detail).toMatch(/change the temporary password first/);
      expect((await call('GET', '/api/v1/session', { session: s })).statusCode).toBe(200);
      const changed = await call('POST', '/api/v1/session/password', { session: s, payload: { current_password: invitation.temporary_password, new_password: 'my very own passphrase' } });
      expect(changed.statusCode, changed.body).toBe(204);
      expect((await call('GET', '/api/v1/session', { session: s })).json().user.must_change_password).toBe(false);
      expect((await call('GET', '/api/v1/customers', { session: s })).statusCode).toBe(200);
    });

    it('a temporary password ends after invitation_ttl (7 days) with the same 401 as a wrong password; one the user chose does not', async () => {
      const invite = async (email: string) => {
        const res = await call('POST', '/api/v1/invitations', { authorization: bearer(admin), payload: { email, role: 'viewer', mode: 'password' } });
        expect(res.statusCode, res.body).toBe(201);
        return res.json().invitation.temporary_password as string;
      };
      const unused = await invite('temp-unused@op.test');
      const used = await invite('temp-used@op.test');
      const s = await login('temp-used@op.test', used);
      expect((await call('POST', '/api/v1/session/password', { session: s, payload: { current_password: used, new_password: 'chosen in time, kept' } })).statusCode).toBe(204);
      const saved = inst.clock.now;
      try {
        inst.clock.now = new Date(saved.getTime() + 7 * 86_400_000 - 1000);
        expect((await login('temp-unused@op.test', unused)).body.user.must_change_password).toBe(true);
        inst.clock.now = new Date(saved.getTime() + 7 * 86_400_000);
        const ended = await call('POST', '/api/v1/session', { payload: { email: 'temp-unused@op.test', password: unused } });
        const wrong = await call('POST', '/api/v1/session', { payload: { email: 'temp-unused@op.test', password: 'not the password at all' } });
        const nobody = await call('POST', '/api/v1/session', { payload: { email: 'nobody@op.test', password: unused } });
        expect(ended.statusCode, ended.body).toBe(401);
        expect(ended.json()).toEqual(wrong.json());
        expect(ended.json()).toEqual(nobody.json());
        expect(ended.headers['set-cookie']).toBeUndefined();
        inst.clock.now = new Date(saved.getTime() + 30 * 86_400_000);
        expect((await login('temp-used@op.test', 'chosen in time, kept')).body.user.must_change_password).toBe(false);
      } finally {
        inst.clock.now = saved;
      }
    });

    // Another vendor's address is no conflict, and says nothing: test/http/user-emails.test.ts.
    it('409 for an address that already has a user in the vendor, whatever its case', async () => {
      const cases: [string, Record<string, string>][] = [
        ['/api/v1/users', { email: 'VIEWER@op.test', role: 'viewer', password: PASSWORD }],
        ['/api/v1/invitations', { email: 'viewer@op.test', role: 'viewer' }],
        ['/api/v1/invitations', { email: 'Admin@OP.test', role: 'viewer', mode: 'password' }],
      ];
      for (const [path, payload] of cases) {
        const res = await call('POST', path, { authorization: bearer(admin), payload });
        expect(res.statusCode, `${path} ${payload.email}: ${res.body}`).toBe(409);
        expect(res.json().code).toBe('conflict');
      }
    });

    it('bad input names the field', async () => {
      const cases: [string, unknown, string][] = [
        ['/api/v1/users', { email: 'not-an-email', role: 'viewer', password: PASSWORD }, 'email'],
        ['/api/v1/users', { email: 'x@op.test', role: 'root', password: PASSWORD }, 'role'],
        ['/api/v1/users', { email: 'x@op.test', role: 'viewer', password: 'short' }, 'password'],
        ['/api/v1/users', { email: 'x@op.test', role: 'viewer' }, 'password'],
        ['/api/v1/invitations', { email: 'x@op.test', role: 'viewer', mode: 'carrier-pigeon' }, 'mode'],
      ];
      for (const [url, payload, field] of cases) {
        const res = await call('POST', url, { authorization: bearer(admin), payload });
        expect(res.statusCode, `${url} ${JSON.stringify(payload)}`).toBe(400);
        expect(res.json().field).toBe(field);
      }
      const status = await call('PATCH', '/api/v1/users/viewer@op.test', { authorization: bearer(admin), payload: { status: 'invited' } });
      expect(status.json()).toMatchObject({ code: 'invalid_input', field: 'status' });
    });
  });

  describe('owners, tenancy and audit', () => {
    it('the last active owner cannot be deleted, disabled or demoted, not even by itself', async () => {
      const solo = await createVendor(inst.runtime, inst.caller, { name: 'solo' });
      const soloCaller = ownerCaller(solo, { name: 'test', source: 'test' });
      const first = await newUser('first@solo.test', 'owner', soloCaller);
      const s = await login('first@solo.test');
      for (const [method, payload] of [
        ['PATCH', { role: 'admin' }],
        ['PATCH', { status: 'disabled' }],
        ['DELETE', undefined],
      ] as const) {
        const res = await call(method, `/api/v1/users/${first.id}`, { session: s, payload });
        expect(res.statusCode, `${method} ${JSON.stringify(payload)}`).toBe(409);
        expect(res.json().detail).toMatch(/last active owner/);
      }
      const second = await call('POST', '/api/v1/users', { session: s, payload: { email: 'second@solo.test', role: 'owner', password: PASSWORD } });
      expect(second.statusCode).toBe(201);
      expect((await call('PATCH', `/api/v1/users/${first.id}`, { session: s, payload: { role: 'viewer' } })).json().role).toBe('viewer');
      const s2 = await login('second@solo.test');
      expect((await call('DELETE', `/api/v1/users/${second.json().id}`, { session: s2 })).statusCode).toBe(409);
    });

    it("another vendor's user is not found, by id or address, on every user route", async () => {
      const s = await login('owner@op.test');
      for (const ref of [acmeUserId, 'owner@acme.test']) {
        for (const [method, payload] of [
          ['GET', undefined],
          ['PATCH', { role: 'viewer' }],
          ['DELETE', undefined],
        ] as const) {
          const res = await call(method, `/api/v1/users/${encodeURIComponent(ref)}`, { session: s, payload });
          expect(res.statusCode, `${method} ${ref}`).toBe(404);
          expect(res.json().code).toBe('not_found');
        }
      }
      const listed = (await call('GET', '/api/v1/users?limit=500', { session: s })).json().items.map((u: { email: string }) => u.email);
      expect(listed).toContain('owner@op.test');
      expect(listed).not.toContain('owner@acme.test');
      const acmeOwner = await login('owner@acme.test');
      const theirs = (await call('GET', '/api/v1/users', { session: acmeOwner })).json().items.map((u: { email: string }) => u.email);
      expect(theirs).toEqual(['owner@acme.test']);
      expect(acmeOwner.body.vendor).toMatchObject({ id: acme.vendorId, name: 'acme', operator: false });
    });

    it('the operator vendor (and only it) adds a first user to another vendor', async () => {
      const fresh = await createVendor(inst.runtime, inst.caller, { name: 'fresh' });
      const res = await call('POST', '/api/v1/users', { authorization: bearer(admin), payload: { email: 'boss@fresh.test', role: 'owner', password: PASSWORD, vendor: 'fresh' } });
      expect(res.statusCode, res.body).toBe(201);
      const s = await login('boss@fresh.test');
      expect(s.body.vendor).toMatchObject({ id: fresh.id, name: 'fresh' });
      const acmeOwner = await login('owner@acme.test');
      const sneaky = await call('POST', '/api/v1/users', { session: acmeOwner, payload: { email: 'spy@fresh.test', role: 'owner', password: PASSWORD, vendor: 'fresh' } });
      expect(sneaky.statusCode).toBe(403);
      const opAdmin = await login('admin@op.test');
      const notOwner = await call('POST', '/api/v1/invitations', { session: opAdmin, payload: { email: 'spy@fresh.test', role: 'viewer', vendor: fresh.id } });
      expect(notOwner.statusCode).toBe(403);
    });

    it('every user change is audited with the acting user and its address, never a password', async () => {
      const ip = '198.51.100.23';
      const owner = await login('owner@op.test', PASSWORD, ip);
      const made = await call('POST', '/api/v1/users', { session: owner, ip, payload: { email: 'audited@op.test', role: 'viewer', password: PASSWORD } });
      const id = made.json().id;
      await call('PATCH', `/api/v1/users/${id}`, { session: owner, ip, payload: { role: 'admin' } });
      const them = await login('audited@op.test', PASSWORD, '198.51.100.24');
      await call('POST', '/api/v1/session/password', { session: them, ip: '198.51.100.24', payload: { current_password: PASSWORD, new_password: 'an audited passphrase' } });
      await call('DELETE', '/api/v1/session', { session: them, ip: '198.51.100.24' });
      await call('DELETE', `/api/v1/users/${id}`, { session: owner, ip });
      const events = (await call('GET', `/api/v1/audit?object=${id}`, { authorization: bearer(admin) })).json().items;
      expect(events.map((e: { action: string; actor: string; source: string }) => [e.action, e.actor, e.source]).reverse()).toEqual([
        ['user.create', 'user:owner@op.test', ip],
        ['user.update', 'user:owner@op.test', ip],
        ['session.create', 'user:audited@op.test', '198.51.100.24'],
        ['user.password_change', 'user:audited@op.test', '198.51.100.24'],
        ['session.delete', 'user:audited@op.test', '198.51.100.24'],
        ['user.delete', 'user:owner@op.test', ip],
      ]);
      expect(events.find((e: { action: string }) => e.action === 'user.update').detail).toMatchObject({ from: { role: 'viewer' }, to: { role: 'admin' } });
      const text = JSON.stringify(events);
      for (const secret of [PASSWORD, 'an audited passphrase', them.cookie, them.csrf]) expect(text).not.toContain(secret);
    });
  });
});
