import { X509Certificate } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildApp, REDACTED_PATHS } from '../../src/http/app.js';
import { changeLicenseStatus, createLicense } from '../../src/service/licenses.js';
import { changeTokenStatus, createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createCustomer } from '../../src/service/customers.js';
import { createPlan } from '../../src/service/plans.js';
import { createVendor } from '../../src/service/vendors.js';
import { keyCertificateBundle, rotateKey } from '../../src/service/keys.js';
import { libtrustKeyId } from '../../src/auth/signing-keys.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const auth = (t: CreatedToken) => basic(t.token.id, t.secret);
const q = (params: Record<string, string | string[]>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) s.append(k, x);
  return s.toString();
};

interface Claims extends JWTPayload {
  access: { type: string; name: string; actions: string[]; class?: string }[];
}

describe('/token', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let acme: Caller;
  const t: Record<string, CreatedToken> = {};
  const lic: Record<string, string> = {};
  const HOUR = 3600_000;

  beforeAll(async () => {
    inst = await startInstance();
    app = await buildApp(inst.runtime);
    const rt = inst.runtime;
    const vendor = await createVendor(rt, inst.caller, { name: 'acme' });
    acme = ownerCaller(vendor, { name: 'test', source: 'test' });
    const customer = await createCustomer(rt, acme, { name: 'globex' });
    const other = await createCustomer(rt, acme, { name: 'initech' });
    const plan = await createPlan(rt, acme, { name: 'tools', repositories: 'acme/tools/*' });
    lic.app = (await createLicense(rt, acme, { customer: customer.id, repositories: 'acme/app', validUntil: '30d' })).id;
    lic.appLonger = (await createLicense(rt, acme, { customer: customer.id, repositories: 'acme/app', validUntil: '60d' })).id;
    lic.plan = (await createLicense(rt, acme, { customer: customer.id, plan: plan.id })).id;
    lic.ending = (await createLicense(rt, acme, { customer: customer.id, repositories: 'acme/short', validUntil: '2h' })).id;
    lic.suspended = (await createLicense(rt, acme, { customer: customer.id, repositories: 'acme/paused' })).id;
    lic.future = (await createLicense(rt, acme, { customer: customer.id, repositories: 'acme/soon', validFrom: '2027-01-01' })).id;
    await changeLicenseStatus(rt, acme, lic.suspended, 'suspend');
    await createLicense(rt, acme, { customer: other.id, repositories: 'acme/db' });

    t.vendor = await createToken(rt, acme, { type: 'vendor', name: 'ci' });
    t.pullOnly = await createToken(rt, acme, { type: 'vendor', name: 'reader', scopes: 'pull' });
    t.customer = await createToken(rt, acme, { type: 'customer', name: 'prod', customer: customer.id });
    t.shortLived = await createToken(rt, acme, { type: 'customer', name: 'short', customer: customer.id, expires: '90s' });
    t.toDisable = await createToken(rt, acme, { type: 'customer', name: 'd', customer: customer.id });
    t.toRevoke = await createToken(rt, acme, { type: 'customer', name: 'r', customer: customer.id });
    t.admin = await createToken(rt, acme, { type: 'vendor', name: 'admin', scopes: 'admin:licenses:read' });
    t.operatorAdmin = inst.bootstrap;
  });

  afterAll(async () => {
    await app.close();
    await inst.cleanup();
  });

  const getToken = (params: Record<string, string | string[]>, authorization?: string) =>
    app.inject({ method: 'GET', url: `/token?${q(params)}`, headers: authorization === undefined ? {} : { authorization } });
  const postToken = (form: Record<string, string | string[]>) =>
    app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: q(form) });

  async function verify(jwt: string): Promise<Claims> {
    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { currentDate: inst.clock.now, issuer: 'portcullis', audience: 'portcullis' });
    return payload as Claims;
  }

  async function access(token: CreatedToken, scopes: string[]): Promise<Claims['access']> {
    const res = await getToken({ service: 'portcullis', scope: scopes }, auth(token));
    expect(res.statusCode).toBe(200);
    return (await verify(res.json().token)).access;
  }

  describe('the JWT', () => {
    it('answers token, access_token, expires_in and issued_at, signed ES256 with the libtrust kid', async () => {
      const res = await getToken({ service: 'portcullis', scope: 'repository:acme/app:pull', account: t.vendor!.token.id }, auth(t.vendor!));
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'issued_at', 'token']);
      expect(body.access_token).toBe(body.token);
      expect(body.expires_in).toBe(300);
      expect(body.issued_at).toBe(inst.clock.now.toISOString());

      const header = decodeProtectedHeader(body.token);
      const key = inst.runtime.keys.current();
      expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: libtrustKeyId(key.publicKey) });
      expect(header.kid).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);

      const claims = await verify(body.token);
      const iat = Math.floor(inst.clock.now.getTime() / 1000);
      expect(claims).toMatchObject({ iss: 'portcullis', sub: t.vendor!.token.id, aud: 'portcullis', iat, nbf: iat, exp: iat + 300 });
      expect(typeof claims.aud).toBe('string');
      expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(claims.access).toEqual([{ type: 'repository', name: 'acme/app', actions: ['pull'] }]);
      // The ES256 signature is raw r||s (64 bytes), which distribution requires.
      expect(Buffer.from(body.token.split('.')[2], 'base64url')).toHaveLength(64);
    });

    it('accepts the full token as the password with any username', async () => {
      const res = await getToken({ scope: 'repository:acme/app:pull' }, basic('token', `${t.customer!.token.id}.${t.customer!.secret}`));
      expect(res.statusCode).toBe(200);
      expect((await verify(res.json().token)).sub).toBe(t.customer!.token.id);
    });

    it('caps exp at the token expiry', async () => {
      const res = await getToken({ scope: 'repository:acme/app:pull' }, auth(t.shortLived!));
      expect(res.json().expires_in).toBe(90);
    });

    it('caps exp at the end of the license that grants the pull, taking the latest of several', async () => {
      const end = new Date(inst.clock.now.getTime() + 2 * HOUR);
      const res = await getToken({ scope: 'repository:acme/short:pull' }, auth(t.customer!));
      const claims = await verify(res.json().token);
      expect(claims.exp).toBe(Math.min(Math.floor(inst.clock.now.getTime() / 1000) + 300, Math.floor(end.getTime() / 1000)));
      // acme/app is covered by a 30d and a 60d license: the 5m ttl is the cap, not a license.
      expect((await getToken({ scope: 'repository:acme/app:pull' }, auth(t.customer!))).json().expires_in).toBe(300);
    });

    it('a short license end shortens the token below the ttl', async () => {
      const saved = inst.clock.now;
      try {
        inst.clock.now = new Date(saved.getTime() + 2 * HOUR - 60_000);
        const res = await getToken({ scope: 'repository:acme/short:pull' }, auth(t.customer!));
        expect(res.json().expires_in).toBe(60);
        expect((await verify(res.json().token)).access[0]!.actions).toEqual(['pull']);
      } finally {
        inst.clock.now = saved;
      }
    });
  });

  describe('granted subset', () => {
    it('a customer gets pull on a licensed repository and nothing more', async () => {
      expect(await access(t.customer!, ['repository:acme/app:pull,push'])).toEqual([{ type: 'repository', name: 'acme/app', actions: ['pull'] }]);
      expect(await access(t.customer!, ['repository:acme/app:*'])).toEqual([{ type: 'repository', name: 'acme/app', actions: ['pull'] }]);
    });

    it('a customer gets an empty entry for an unlicensed repository, never an error', async () => {
      expect(await access(t.customer!, ['repository:acme/db:pull'])).toEqual([{ type: 'repository', name: 'acme/db', actions: [] }]);
    });

    it('merges repeated scopes, as skopeo sends for a cross-repository mount', async () => {
      const got = await access(t.customer!, ['repository:acme/app:pull', 'repository:acme/db:pull', 'repository:acme/app:push']);
      expect(got).toEqual([
        { type: 'repository', name: 'acme/app', actions: ['pull'] },
        { type: 'repository', name: 'acme/db', actions: [] },
      ]);
      const vendor = await access(t.vendor!, ['repository:acme/new:pull,push', 'repository:acme/app:pull', 'repository:other/x:pull']);
      expect(vendor).toEqual([
        { type: 'repository', name: 'acme/new', actions: ['pull', 'push'] },
        { type: 'repository', name: 'acme/app', actions: ['pull'] },
        { type: 'repository', name: 'other/x', actions: [] },
      ]);
    });

    it('a plan license covers its repositories', async () => {
      expect(await access(t.customer!, ['repository:acme/tools/cli:pull'])).toEqual([{ type: 'repository', name: 'acme/tools/cli', actions: ['pull'] }]);
    });

    it('a suspended license, one not started and one that has ended grant nothing', async () => {
      expect(await access(t.customer!, ['repository:acme/paused:pull', 'repository:acme/soon:pull'])).toEqual([
        { type: 'repository', name: 'acme/paused', actions: [] },
        { type: 'repository', name: 'acme/soon', actions: [] },
      ]);
      const saved = inst.clock.now;
      try {
        inst.clock.now = new Date(saved.getTime() + 2 * HOUR);
        expect(await access(t.customer!, ['repository:acme/short:pull'])).toEqual([{ type: 'repository', name: 'acme/short', actions: [] }]);
      } finally {
        inst.clock.now = saved;
      }
    });

    it('a vendor token gets push, delete and * inside its namespaces only with the push scope', async () => {
      expect(await access(t.vendor!, ['repository:acme/app:*'])).toEqual([{ type: 'repository', name: 'acme/app', actions: ['pull', 'push', 'delete'] }]);
      expect(await access(t.pullOnly!, ['repository:acme/app:pull,push,delete'])).toEqual([{ type: 'repository', name: 'acme/app', actions: ['pull'] }]);
    });

    it('registry:catalog:* goes to the operator vendor only', async () => {
      expect(await access(t.operatorAdmin!, ['registry:catalog:*'])).toEqual([{ type: 'registry', name: 'catalog', actions: ['*'] }]);
      expect(await access(t.vendor!, ['registry:catalog:*'])).toEqual([{ type: 'registry', name: 'catalog', actions: [] }]);
    });

    it('keeps a resource class in the access entry', async () => {
      expect(await access(t.vendor!, ['repository(plugin):acme/p:pull'])).toEqual([{ type: 'repository', class: 'plugin', name: 'acme/p', actions: ['pull'] }]);
    });

    it('no scope (docker login, skopeo login) gives a token with empty access', async () => {
      expect(await access(t.customer!, [])).toEqual([]);
    });
  });

  describe('refusals', () => {
    it('answers every bad credential with one 401, a Basic challenge and no hint', async () => {
      await changeTokenStatus(inst.runtime, acme, t.toDisable!.token.id, 'disable');
      await changeTokenStatus(inst.runtime, acme, t.toRevoke!.token.id, 'revoke');
      const cases = [
        undefined,
        'Bearer nonsense',
        basic(t.customer!.token.id, 'x'.repeat(32)),
        basic('ctok_aaaaaaaaaaaaaaaa', t.customer!.secret),
        auth(t.toDisable!),
        auth(t.toRevoke!),
      ];
      const bodies = new Set<string>();
      for (const authorization of cases) {
        const res = await getToken({ scope: 'repository:acme/app:pull' }, authorization);
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Basic realm="Portcullis"');
        expect(res.headers['content-type']).toContain('application/problem+json');
        bodies.add(res.body);
      }
      expect(bodies.size).toBe(1);
      expect(JSON.parse([...bodies][0]!)).toMatchObject({ status: 401, code: 'unauthenticated', error: 'invalid_grant' });
      await changeTokenStatus(inst.runtime, acme, t.toDisable!.token.id, 'enable');
      expect((await getToken({}, auth(t.toDisable!))).statusCode).toBe(200);
    });

    it('refuses an expired token', async () => {
      const saved = inst.clock.now;
      try {
        inst.clock.now = new Date(saved.getTime() + 91_000);
        expect((await getToken({}, auth(t.shortLived!))).statusCode).toBe(401);
      } finally {
        inst.clock.now = saved;
      }
    });

    it.each([
      ['repository:acme/app', 'bad scope "repository:acme/app": expected type:name:actions'],
      ['repository:Acme/App:pull', 'bad scope "repository:Acme/App:pull":'],
      ['repository:acme/app:pull,,push', 'empty action in "pull,,push"'],
      ['repository:acme/app:Pull', 'bad action "Pull"'],
      ['registry:catalog:pull', 'registry:catalog only takes the action "*"'],
    ])('a malformed scope %s is a 400 naming the bad part', async (scope, detail) => {
      const res = await getToken({ scope }, auth(t.customer!));
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 400, code: 'invalid_input', field: 'scope', error: 'invalid_request' });
      expect(res.json().detail).toContain(detail);
    });

    it('a malformed scope is a 400 even without credentials', async () => {
      expect((await getToken({ scope: 'nonsense' })).statusCode).toBe(400);
    });

    it('too many scopes is a 400', async () => {
      const scopes = Array.from({ length: 65 }, (_, i) => `repository:acme/r${i}:pull`);
      const res = await getToken({ scope: scopes }, auth(t.customer!));
      expect(res.statusCode).toBe(400);
      expect(res.json().detail).toContain('too many scopes');
    });

    it('a service not on the allow-list is a 400; a repeated service too', async () => {
      const res = await getToken({ service: 'evil-registry', scope: 'repository:acme/app:pull' }, auth(t.customer!));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ field: 'service' });
      expect(res.json().detail).toContain('unknown service "evil-registry"');
      expect((await getToken({ service: ['portcullis', 'portcullis'] }, auth(t.customer!))).statusCode).toBe(400);
    });
  });

  describe('refresh tokens and the OAuth2 POST form', () => {
    it('docker login: offline_token=true returns a refresh token that POST exchanges for a new JWT', async () => {
      const login = await getToken({ service: 'portcullis', offline_token: 'true', client_id: 'docker', account: t.customer!.token.id }, auth(t.customer!));
      expect(login.statusCode).toBe(200);
      const refresh = login.json().refresh_token as string;
      expect(refresh).toMatch(/^rt1\./);
      expect(refresh).not.toContain(t.customer!.secret);

      const res = await postToken({ grant_type: 'refresh_token', refresh_token: refresh, client_id: 'docker', service: 'portcullis', scope: 'repository:acme/app:pull repository:acme/db:pull' });
      expect(res.statusCode).toBe(200);
      expect(res.json().refresh_token).toBeUndefined();
      const claims = await verify(res.json().access_token);
      expect(claims.sub).toBe(t.customer!.token.id);
      expect(claims.access).toEqual([
        { type: 'repository', name: 'acme/app', actions: ['pull'] },
        { type: 'repository', name: 'acme/db', actions: [] },
      ]);
    });

    it('grant_type=password with access_type=offline returns a refresh token', async () => {
      const res = await postToken({ grant_type: 'password', username: t.vendor!.token.id, password: t.vendor!.secret, client_id: 'containers/image', access_type: 'offline', scope: 'repository:acme/app:push' });
      expect(res.statusCode).toBe(200);
      expect(res.json().refresh_token).toMatch(/^rt1\./);
      expect((await verify(res.json().token)).access).toEqual([{ type: 'repository', name: 'acme/app', actions: ['push'] }]);
      const wrong = await postToken({ grant_type: 'password', username: t.vendor!.token.id, password: 'y'.repeat(32), client_id: 'x' });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.headers['www-authenticate']).toBeUndefined();
    });

    it('a refresh token dies with its token: disabled, expired, revoked', async () => {
      const tok = await createToken(inst.runtime, acme, { type: 'vendor', name: 'bound', expires: '1h' });
      const login = await getToken({ offline_token: 'true', client_id: 'docker' }, auth(tok));
      const refresh = login.json().refresh_token as string;
      const use = () => postToken({ grant_type: 'refresh_token', refresh_token: refresh, client_id: 'docker' });
      expect((await use()).statusCode).toBe(200);

      await changeTokenStatus(inst.runtime, acme, tok.token.id, 'disable');
      expect((await use()).statusCode).toBe(401);
      await changeTokenStatus(inst.runtime, acme, tok.token.id, 'enable');
      expect((await use()).statusCode).toBe(200);

      const saved = inst.clock.now;
      inst.clock.now = new Date(saved.getTime() + HOUR);
      expect((await use()).statusCode).toBe(401);
      inst.clock.now = saved;

      await changeTokenStatus(inst.runtime, acme, tok.token.id, 'revoke');
      expect((await use()).statusCode).toBe(401);
    });

    it('a refresh token ends 30 days after the login by default (auth.refresh_token_ttl), though its token lives on', async () => {
      expect(inst.runtime.config.auth.refresh_token_ttl).toBe('30d');
      const tok = await createToken(inst.runtime, acme, { type: 'vendor', name: 'long-lived' });
      const login = await getToken({ offline_token: 'true', client_id: 'docker' }, auth(tok));
      const refresh = login.json().refresh_token as string;
      const use = () => postToken({ grant_type: 'refresh_token', refresh_token: refresh, client_id: 'docker' });
      const saved = inst.clock.now;
      try {
        inst.clock.now = new Date(saved.getTime() + 30 * 24 * HOUR - 1000);
        expect((await use()).statusCode).toBe(200);
        inst.clock.now = new Date(saved.getTime() + 30 * 24 * HOUR);
        const ended = await use();
        expect(ended.statusCode).toBe(401);
        expect(ended.json()).toMatchObject({ code: 'unauthenticated', error: 'invalid_grant' });
        // The secret still works: a new login gives a new refresh token.
        expect((await getToken({ offline_token: 'true', client_id: 'docker' }, auth(tok))).json().refresh_token).toMatch(/^rt1\./);
      } finally {
        inst.clock.now = saved;
      }
    });

    it('a forged or altered refresh token is refused', async () => {
      const login = await getToken({ offline_token: 'true', client_id: 'docker' }, auth(t.vendor!));
      const refresh = login.json().refresh_token as string;
      const [prefix, payload, mac] = refresh.split('.');
      const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), t: t.operatorAdmin!.token.id })).toString('base64url');
      for (const bad of [`${prefix}.${other}.${mac}`, `${prefix}.${payload}.${'A'.repeat(43)}`, 'rt1.x.y', 'garbage']) {
        const res = await postToken({ grant_type: 'refresh_token', refresh_token: bad, client_id: 'docker' });
        expect(res.statusCode).toBe(401);
      }
    });

    it.each([
      [{ client_id: 'docker' }, 'grant_type is required', 'invalid_request'],
      [{ grant_type: 'password', username: 'u', password: 'p' }, 'client_id is required', 'invalid_request'],
      [{ grant_type: 'client_credentials', client_id: 'docker' }, 'unsupported grant_type "client_credentials"', 'unsupported_grant_type'],
      [{ grant_type: 'refresh_token', client_id: 'docker' }, 'refresh_token is required', 'invalid_request'],
      [{ grant_type: 'password', client_id: 'docker', username: 'u' }, 'password is required', 'invalid_request'],
      [{ grant_type: 'password', client_id: 'docker', username: 'u', password: 'p', scope: 'repository::pull' }, 'empty name', 'invalid_request'],
    ])('POST %j is a 400: %s', async (form, detail, error) => {
      const res = await postToken(form as Record<string, string>);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ status: 400, error });
      expect(res.json().detail).toContain(detail);
    });

    it('POST with a JSON body is refused with a clear 4xx', async () => {
      const res = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":"password"}' });
      expect(res.statusCode).toBe(400);
      expect(res.json().detail).toContain('x-www-form-urlencoded');
    });

    it('the form parser serves /token alone: the admin API refuses a form body with 415 problem+json', async () => {
      const full = `${inst.bootstrap.token.id}.${inst.bootstrap.secret}`;
      const before = (await app.inject({ url: '/api/v1/customers', headers: { authorization: `Bearer ${full}` } })).json().items.length;
      for (const [url, headers] of [
        ['/api/v1/customers', { authorization: `Bearer ${full}` }],
        ['/api/v1/session', {}],
      ] as const) {
        const res = await app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=from-a-form&email=a%40example.com&password=x' });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(415);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.json()).toMatchObject({ status: 415 });
      }
      expect((await app.inject({ url: '/api/v1/customers', headers: { authorization: `Bearer ${full}` } })).json().items.length).toBe(before);
    });
  });

  describe('logs', () => {
    it('never carry a secret, a password or a refresh token', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const logged = await buildApp(inst.runtime, { logger: pino({ level: 'trace', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink) });
      try {
        const login = await logged.inject({ method: 'GET', url: '/token?offline_token=true&client_id=docker&scope=repository:acme/app:pull', headers: { authorization: auth(t.vendor!) } });
        const refresh = login.json().refresh_token as string;
        await logged.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: q({ grant_type: 'refresh_token', refresh_token: refresh, client_id: 'docker' }) });
        await logged.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: q({ grant_type: 'password', username: t.vendor!.token.id, password: t.vendor!.secret, client_id: 'x' }) });
        await logged.inject({ method: 'GET', url: '/token', headers: { authorization: basic(t.vendor!.token.id, 'w'.repeat(32)) } });
        const text = lines.join('');
        expect(text).toContain('token issued');
        expect(text).toContain('token refused');
        for (const secret of [t.vendor!.secret, refresh, refresh.split('.')[2]!, 'w'.repeat(32), login.json().token]) expect(text).not.toContain(secret);
      } finally {
        await logged.close();
      }
    });
  });

  describe('keys', () => {
    it('publishes the current key; after a rotation both, until the old key can have no live token', async () => {
      const before = inst.runtime.keys.current();
      const jwks = async () => (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys as { kid: string; alg: string; kty: string; x5c?: string[] }[];
      expect((await jwks()).map((k) => k.kid)).toEqual([before.kid]);
      expect((await jwks())[0]).toMatchObject({ kty: 'EC', alg: 'ES256', use: 'sig' });

      const { key } = await rotateKey(inst.runtime, inst.caller, 'RS256');
      inst.runtime.keys.refresh(true);
      expect((await jwks()).map((k) => k.kid)).toEqual([before.kid, key.kid]);
      const res = await getToken({ scope: 'repository:acme/app:pull' }, auth(t.customer!));
      expect(decodeProtectedHeader(res.json().token)).toMatchObject({ alg: 'RS256', kid: key.kid });
      expect((await verify(res.json().token)).access[0]!.actions).toEqual(['pull']);

      const saved = inst.clock.now;
      try {
        inst.clock.now = new Date(key.createdAt.getTime() + (300 + 60) * 1000 - 1);
        expect((await jwks()).map((k) => k.kid)).toEqual([before.kid, key.kid]);
        inst.clock.now = new Date(key.createdAt.getTime() + (300 + 60) * 1000);
        expect((await jwks()).map((k) => k.kid)).toEqual([key.kid]);
      } finally {
        inst.clock.now = saved;
      }
    });

    it('with a certificate, tokens carry x5c: the key certified by the instance CA', async () => {
      const { bundle } = await keyCertificateBundle(inst.runtime, inst.caller);
      inst.runtime.keys.refresh(true);
      const certs = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((p) => new X509Certificate(p));
      const ca = certs.find((c) => c.ca)!;
      expect(ca).toBeDefined();
      const res = await getToken({ scope: 'repository:acme/app:pull' }, auth(t.customer!));
      const header = decodeProtectedHeader(res.json().token);
      expect(header.x5c).toHaveLength(2);
      const leaf = new X509Certificate(Buffer.from(header.x5c![0]!, 'base64'));
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.publicKey.export({ type: 'spki', format: 'der' })).toEqual(inst.runtime.keys.current().publicKey.export({ type: 'spki', format: 'der' }));
      // x5c is standard base64, not base64url.
      expect(header.x5c![0]).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect((await verify(res.json().token)).sub).toBe(t.customer!.token.id);
    });
  });

  describe('/metrics', () => {
    it('counts issued and rejected tokens by reason', async () => {
      const metric = async (name: string) => {
        const text = (await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: auth(inst.bootstrap) } })).body;
        const line = text.split('\n').find((l) => l.startsWith(name));
        return line === undefined ? 0 : Number(line.split(' ').pop());
      };
      const issued = await metric('registry_token_issued_total');
      const badSecret = await metric('registry_token_rejected_total{reason="bad_secret"}');
      const invalidRequest = await metric('registry_token_rejected_total{reason="invalid_request"}');
      await getToken({}, auth(t.vendor!));
      await getToken({}, basic(t.vendor!.token.id, 'z'.repeat(32)));
      await getToken({ scope: 'bad' }, auth(t.vendor!));
      expect(await metric('registry_token_issued_total')).toBe(issued + 1);
      expect(await metric('registry_token_rejected_total{reason="bad_secret"}')).toBe(badSecret + 1);
      expect(await metric('registry_token_rejected_total{reason="invalid_request"}')).toBe(invalidRequest + 1);
      const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: auth(inst.bootstrap) } });
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.body).toContain('# TYPE registry_token_rejected_total counter');
    });
  });

  describe('GET /api/v1/explain', () => {
    const explain = (params: Record<string, string>, authorization?: string) =>
      app.inject({ method: 'GET', url: `/api/v1/explain?${q(params)}`, headers: authorization === undefined ? {} : { authorization } });

    it('says which license allowed a pull and why the others did not', async () => {
      const res = await explain({ token: t.customer!.token.id, scope: 'repository:acme/app:pull,push' }, `Bearer ${t.admin!.token.id}.${t.admin!.secret}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.customer).toMatchObject({ name: 'globex' });
      expect(body.actions).toEqual([
        // Two licenses cover acme/app; the one that lasts longer is named.
        { action: 'pull', allowed: true, license_id: lic.appLonger, reason: `license ${lic.appLonger} allows pull of acme/app` },
        { action: 'push', allowed: false, license_id: null, reason: 'customer tokens are pull-only' },
      ]);
      const byId = Object.fromEntries(body.licenses.map((l: { id: string }) => [l.id, l]));
      expect(byId[lic.suspended!]).toMatchObject({ status: 'suspended', checks: [{ action: 'pull', outcome: 'repository' }] });
      expect(byId[lic.plan!]).toMatchObject({ plan: { name: 'tools' }, checks: [{ action: 'pull', outcome: 'repository' }] });
      expect(byId[lic.app!]).toMatchObject({ checks: [{ action: 'pull', outcome: 'allows' }] });
      expect(byId[lic.app!].valid_until).toBe(new Date(inst.clock.now.getTime() + 30 * 24 * HOUR).toISOString());
    });

    it('names the suspended license for its repository', async () => {
      const res = await explain({ token: t.customer!.token.id, scope: 'repository:acme/paused:pull' }, basic(t.admin!.token.id, t.admin!.secret));
      expect(res.json().actions[0]).toMatchObject({ allowed: false, reason: `license ${lic.suspended} for acme/paused is suspended` });
    });

    it('needs a vendor token with admin:licenses:read, and only sees its own vendor', async () => {
      const params = { token: t.customer!.token.id, scope: 'repository:acme/app:pull' };
      const none = await explain(params);
      expect(none.statusCode).toBe(401);
      expect(none.headers['content-type']).toContain('application/problem+json');
      expect((await explain(params, auth(t.vendor!))).statusCode).toBe(403);
      expect((await explain(params, auth(t.customer!))).statusCode).toBe(403);
      // The operator's admin token acts for the operator vendor: acme's token is not found there.
      const other = await explain(params, auth(t.operatorAdmin!));
      expect(other.statusCode).toBe(404);
      expect(other.json().detail).toBe(`token ${t.customer!.token.id} not found`);
      expect((await explain({ token: 'ctok_nope', scope: 'repository:acme/app:pull' }, auth(t.admin!))).statusCode).toBe(404);
    });

    it.each([
      [{ token: 'x' }, 'scope'],
      [{ token: 'x', scope: 'registry:catalog:*' }, 'repository scope'],
      [{ token: 'x', scope: 'repository:acme/app:read' }, 'unknown action "read"'],
      [{ token: 'x', scope: 'repository:acme/app:pull', tag: '-bad' }, 'bad tag'],
    ])('bad query %j is a 400', async (params, detail) => {
      const res = await explain(params as Record<string, string>, auth(t.admin!));
      expect(res.statusCode).toBe(400);
      expect(res.json().detail).toContain(detail);
    });
  });
});
