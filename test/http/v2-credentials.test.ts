import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, REDACTED_PATHS } from '../../src/http/app.js';
import { fullToken } from '../../src/core/token-format.js';
import { changeTokenStatus, createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createCustomer } from '../../src/service/customers.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('/v2/ credential check', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  const logLines: string[] = [];
  const tokens: Record<string, CreatedToken> = {};

  beforeAll(async () => {
    inst = await startInstance();
    const sink = new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'trace', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
    app = await buildApp(inst.runtime, { logger });
    const rt = inst.runtime;
    const customer = await createCustomer(rt, inst.caller, { name: 'globex' });
    tokens.vendor = await createToken(rt, inst.caller, { type: 'vendor', name: 'ci' });
    tokens.customer = await createToken(rt, inst.caller, { type: 'customer', name: 'prod', customer: customer.id });
    tokens.disabled = await createToken(rt, inst.caller, { type: 'vendor', name: 'off' });
    tokens.revoked = await createToken(rt, inst.caller, { type: 'vendor', name: 'gone' });
    tokens.expiring = await createToken(rt, inst.caller, { type: 'vendor', name: 'short', expires: '1h' });
    await changeTokenStatus(rt, inst.caller, tokens.disabled.token.id, 'disable');
    await changeTokenStatus(rt, inst.caller, tokens.revoked.token.id, 'revoke');
  });

  afterAll(async () => {
    await app.close();
    await inst.cleanup();
  });

  const get = (authorization?: string, url = '/v2/') =>
    app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });

  it('answers 200 {} to a vendor token, a customer token and the bootstrap token', async () => {
    for (const t of [tokens.vendor!, tokens.customer!, inst.bootstrap]) {
      const res = await get(basic(t.token.id, t.secret));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});
      expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
    }
  });

  it('accepts the full token in the password field with any username', async () => {
    const t = tokens.customer!;
    for (const user of ['token', 'x', t.token.id, '']) {
      const res = await get(basic(user, fullToken(t.token.id, t.secret)));
      expect(res.statusCode, `user ${user}`).toBe(200);
    }
  });

  it('refuses every bad credential with the same 401, challenge and OCI body', async () => {
    const v = tokens.vendor!;
    const cases: Record<string, string | undefined> = {
      missing: undefined,
      'other scheme': `Bearer ${fullToken(v.token.id, v.secret)}`,
      'bad base64': 'Basic !!!not-base64!!!',
      'no colon': `Basic ${Buffer.from('justuser').toString('base64')}`,
      'wrong secret': basic(v.token.id, 'A'.repeat(32)),
      'secret of another token': basic(v.token.id, tokens.customer!.secret),
      'unknown username': basic('vtok_0000000000000000', v.secret),
      'malformed username': basic('admin', 'admin'),
      disabled: basic(tokens.disabled!.token.id, tokens.disabled!.secret),
      revoked: basic(tokens.revoked!.token.id, tokens.revoked!.secret),
      'revoked as full token': basic('token', fullToken(tokens.revoked!.token.id, tokens.revoked!.secret)),
    };
    const bodies = new Set<string>();
    for (const [name, header] of Object.entries(cases)) {
      const res = await get(header);
      expect(res.statusCode, name).toBe(401);
      // The realm comes from config (server.public_url, here its default), never from the request.
      const expected = 'Bearer realm="http://127.0.0.1:5000/token",service="portcullis"' + (header?.startsWith('Bearer') ? ',error="invalid_token"' : '');
      expect(res.headers['www-authenticate'], name).toBe(expected);
      expect(res.json().errors[0].code, name).toBe('UNAUTHORIZED');
      bodies.add(res.body);
    }
    expect(bodies.size).toBe(1);
  });

  it('refuses an expired token from the moment its expiry passes', async () => {
    const t = tokens.expiring!;
    expect((await get(basic(t.token.id, t.secret))).statusCode).toBe(200);
    const before = inst.clock.now;
    inst.clock.now = new Date(t.token.expiresAt!.getTime());
    try {
      const res = await get(basic(t.token.id, t.secret));
      expect(res.statusCode).toBe(401);
      expect(res.body).toBe((await get()).body);
    } finally {
      inst.clock.now = before;
    }
  });

  it('challenges unauthenticated requests to any /v2 path before routing', async () => {
    const res = await app.inject({ method: 'GET', url: '/v2/acme/app/manifests/1.0', headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="http://127.0.0.1:5000/token",service="portcullis",scope="repository:acme/app:pull"');
    const nowhere = await get(undefined, '/v2/no/such/route/at/all');
    expect(nowhere.statusCode).toBe(401);
    const authed = await get(basic(tokens.vendor!.token.id, tokens.vendor!.secret), '/v2/acme/app/manifests/1.0');
    expect(authed.statusCode).toBe(404);
    expect(authed.json().errors[0].code).toBe('MANIFEST_UNKNOWN');
  });

  it('sees a disable made after the app started on the very next request', async () => {
    const t = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: 'flip' });
    expect((await get(basic(t.token.id, t.secret))).statusCode).toBe(200);
    await changeTokenStatus(inst.runtime, inst.caller, t.token.id, 'disable');
    expect((await get(basic(t.token.id, t.secret))).statusCode).toBe(401);
    await changeTokenStatus(inst.runtime, inst.caller, t.token.id, 'enable');
    expect((await get(basic(t.token.id, t.secret))).statusCode).toBe(200);
  });

  it('records last use in memory and writes it in a batch, not on the request', async () => {
    const t = tokens.customer!;
    await inst.runtime.lastUsed.flush();
    inst.clock.now = new Date(inst.clock.now.getTime() + 1000);
    await get(basic(t.token.id, t.secret));
    expect((await inst.runtime.store.getToken(inst.caller.vendorId, t.token.id))?.lastUsedAt).not.toEqual(inst.clock.now);
    expect(inst.runtime.lastUsed.size).toBeGreaterThan(0);
    await inst.runtime.lastUsed.flush();
    const stored = await inst.runtime.store.getToken(inst.caller.vendorId, t.token.id);
    expect(stored?.lastUsedAt).toEqual(inst.clock.now);
    expect(stored?.lastUsedIp).toBe('127.0.0.1');
  });

  it('treats /v2foo as an ordinary unknown route, not the registry', async () => {
    const res = await app.inject({ url: '/v2foo' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers /healthz and unknown routes with problem+json', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const res = await app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, code: 'route_not_found' });
  });

  it('never writes a secret to the log or to the database in clear', async () => {
    await inst.runtime.lastUsed.flush();
    const secrets = [...Object.values(tokens), inst.bootstrap].flatMap((t) => [t.secret, fullToken(t.token.id, t.secret)]);
    const log = logLines.join('');
    expect(log).toContain('request completed');
    const files = readdirSync(inst.dataDir).filter((f) => f.startsWith('portcullis.db'));
    expect(files).toContain('portcullis.db');
    const db = files.map((f) => readFileSync(join(inst.dataDir, f)).toString('latin1')).join('');
    for (const s of secrets) {
      expect(log).not.toContain(s);
      expect(db).not.toContain(s);
      // Nor base64 of user:secret, as an Authorization header would carry it.
      expect(log).not.toContain(Buffer.from(s).toString('base64').slice(0, 24));
    }
  });
});

describe('/readyz', () => {
  it('is 200 while the store and the blob storage answer, 503 naming the failing check when not', async () => {
    const inst = await startInstance();
    const app = await buildApp(inst.runtime);
    try {
      const ok = await app.inject({ url: '/readyz' });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ status: 'ready', checks: { store: 'ok', storage: 'ok' } });
      await inst.runtime.store.close();
      const down = await app.inject({ url: '/readyz' });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toEqual({ status: 'not ready', checks: { store: 'failing', storage: 'ok' } });
    } finally {
      await app.close();
      rmSync(inst.dataDir, { recursive: true, force: true });
    }
  });
});
