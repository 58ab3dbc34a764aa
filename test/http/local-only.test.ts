/**
 * Local-only mode (auth.enabled = false) in process: the socket address alone
 * decides, loopback callers get everything without credentials, everyone else
 * a 403 (never a challenge), and neither /token nor /api/v1 exists. The same
 * through a real `serve` and skopeo is in test/e2e/local-only.test.ts.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { LOCAL_ONLY_TOKEN_ID } from '../../src/registry/local-only-caller.js';
import { blob, imageConfig, imageManifest, V2Client } from '../helpers/oci-http.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const cfg = imageConfig('local only');
const layer = blob('a layer pushed with no credentials');
const manifest = imageManifest({ config: cfg, layers: [layer] });

describe('local-only mode (auth.enabled = false)', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let v2: V2Client;

  beforeAll(async () => {
    // The operator owns only acme/**: local callers must still reach every repository.
    inst = await startInstance(undefined, { PORTCULLIS_AUTH_ENABLED: 'false', PORTCULLIS_BOOTSTRAP_NAMESPACES: 'acme/**' });
    app = await buildApp(inst.runtime);
    v2 = new V2Client(app);
  });
  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  const from = (remoteAddress: string, url = '/v2/', method: 'GET' | 'DELETE' = 'GET') => app.inject({ method, url, remoteAddress });

  it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])('answers a loopback caller (%s) with no credentials', async (address) => {
    const res = await from(address);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it.each(['192.0.2.7', '10.0.0.1', '::ffff:192.0.2.7', 'fd00::2', '0.0.0.0'])('refuses %s with 403 DENIED and no challenge', async (address) => {
    for (const [method, url] of [
      ['GET', '/v2/'],
      ['GET', '/v2/acme/app/tags/list'],
      ['DELETE', '/v2/acme/app/manifests/1.0'],
      ['GET', '/v2/no/such/endpoint'],
    ] as const) {
      const res = await from(address, url, method);
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(403);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.json()).toEqual({ errors: [{ code: 'DENIED', message: expect.stringMatching(/local-only mode \(auth\.enabled = false\).*loopback/), detail: null }] });
    }
  });

  it('refuses a loopback request that names another host or comes from another site (DNS rebinding)', async () => {
    const attempts: [Record<string, string>, RegExp][] = [
      [{ host: 'rebind.evil.example:5000' }, /only requests to localhost or a loopback address/],
      [{ host: 'rebind.evil.example:5000', origin: 'http://rebind.evil.example:5000' }, /only requests to localhost/],
      [{ host: '127.0.0.1:5000', origin: 'http://evil.example' }, /origin "http:\/\/evil.example"/],
      [{ host: 'localhost:5000', 'sec-fetch-site': 'cross-site' }, /cross-site request/],
    ];
    for (const [headers, message] of attempts) {
      for (const [method, url] of [
        ['GET', '/v2/_catalog'],
        ['POST', '/v2/elsewhere/app/blobs/uploads/'],
        ['PUT', '/v2/elsewhere/app/manifests/evil'],
        ['DELETE', '/v2/elsewhere/app/manifests/1.0'],
      ] as const) {
        const res = await app.inject({ method, url, remoteAddress: '127.0.0.1', headers });
        expect(res.statusCode, `${method} ${url} ${JSON.stringify(headers)}: ${res.body}`).toBe(403);
        expect(res.json().errors[0]).toMatchObject({ code: 'DENIED', message: expect.stringMatching(message) });
      }
    }
    // The developer's own clients name this machine, by any of its loopback names.
    for (const host of ['localhost:5000', '127.0.0.1:5000', '[::1]:5000', '127.0.0.2']) {
      expect((await app.inject({ url: '/v2/', remoteAddress: '127.0.0.1', headers: { host } })).statusCode, host).toBe(200);
    }
  });

  it('ignores X-Forwarded-For and credentials: only the socket address counts', async () => {
    const spoofed = await app.inject({ url: '/v2/', remoteAddress: '192.0.2.7', headers: { 'x-forwarded-for': '127.0.0.1', authorization: `Basic ${Buffer.from(`${inst.bootstrap.token.id}:${inst.bootstrap.secret}`).toString('base64')}` } });
    expect(spoofed.statusCode).toBe(403);
  });

  it('lets loopback push, pull and delete outside the operator namespaces, and records usage as token "local"', async () => {
    await v2.pushImage('elsewhere/app', '1.0', manifest, [cfg, layer]);
    const pulled = await v2.get('/v2/elsewhere/app/manifests/1.0', { headers: { accept: manifest.mediaType } });
    expect(pulled.statusCode, pulled.body).toBe(200);
    expect(pulled.headers['docker-content-digest']).toBe(manifest.digest);
    const catalog = await v2.get('/v2/_catalog');
    expect(catalog.json()).toEqual({ repositories: ['elsewhere/app'] });

    await inst.runtime.usage.flush();
    const events = await inst.runtime.store.listUsage(inst.runtime.operator.id);
    expect(events.map((e) => [e.action, e.tokenId, e.repository, e.tag, e.ip])).toEqual(
      expect.arrayContaining([
        ['push', LOCAL_ONLY_TOKEN_ID, 'elsewhere/app', '1.0', '127.0.0.1'],
        ['pull', LOCAL_ONLY_TOKEN_ID, 'elsewhere/app', '1.0', '127.0.0.1'],
      ]),
    );

    const deleted = await v2.delete(`/v2/elsewhere/app/manifests/${manifest.digest}`);
    expect(deleted.statusCode, deleted.body).toBe(202);
  });

  it('serves no /token: 404 problem+json saying why, before any body is read', async () => {
    for (const res of [
      await app.inject({ method: 'GET', url: '/token?service=portcullis&scope=repository:acme/app:pull' }),
      await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=password&client_id=x&username=a&password=b' }),
      await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'text/weird' }, payload: 'x' }),
    ]) {
      expect(res.statusCode, res.body).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'not_found', detail: expect.stringMatching(/no \/token in local-only mode/) });
    }
  });

  it('registers no /api/v1 route at all, from loopback or not', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/customers'],
      ['POST', '/api/v1/customers'],
      ['GET', '/api/v1/explain?token=x&scope=repository:a:pull'],
      ['GET', '/api/v1/openapi.json'],
    ] as const) {
      const res = await app.inject({ method, url, ...(method === 'POST' ? { payload: { name: 'x' } } : {}) });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(404);
      expect(res.json()).toMatchObject({ code: 'route_not_found', detail: expect.stringMatching(/admin API is off in local-only mode/) });
    }
    // Not even the upstream registry's notification hook: that exists in gateway mode only.
    const apiRoutes = app.printRoutes({ commonPrefix: false }).split('\n').filter((l) => l.includes('api'));
    expect(apiRoutes).toEqual([]);
    const events = await app.inject({ method: 'POST', url: '/api/v1/upstream/events', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(events.statusCode).toBe(404);
    expect(events.json()).toMatchObject({ code: 'route_not_found' });
  });

  it('keeps /healthz, /readyz and /metrics, the last behind its token as in every mode', async () => {
    for (const url of ['/healthz', '/readyz']) {
      const res = await app.inject({ url, remoteAddress: '192.0.2.7' });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    }
    expect((await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(401);
    const scrape = await app.inject({ url: '/metrics', remoteAddress: '192.0.2.7', headers: { authorization: `Bearer ${inst.bootstrap.token.id}.${inst.bootstrap.secret}` } });
    expect(scrape.statusCode, scrape.body).toBe(200);
  });
});

describe('with auth enabled (the default)', () => {
  it('still challenges a loopback caller without credentials, and serves /token and /api/v1', async () => {
    const inst = await startInstance();
    const app = await buildApp(inst.runtime);
    try {
      const res = await app.inject({ url: '/v2/', remoteAddress: '127.0.0.1' });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      expect((await app.inject({ url: '/token' })).statusCode).toBe(401);
      expect((await app.inject({ url: '/api/v1/explain?token=x&scope=repository:a:pull' })).statusCode).toBe(401);
    } finally {
      await app.close();
      await inst.cleanup();
    }
  });
});
