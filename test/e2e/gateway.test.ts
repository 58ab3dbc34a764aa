/**
 * Gateway mode over HTTP against the real docker-registry: Portcullis proxies
 * /v2 to it with its own service tokens, applies every rule on the way, relays
 * bodies and storage redirects, maps the upstream's failures, and drops its
 * cached graphs when the registry's notifications arrive.
 * (The skopeo and podman round trip lives in registry-modes.test.ts.)
 */
import { generateKeyPair, SignJWT } from 'jose';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { UPSTREAM_EVENTS_PATH } from '../../src/http/routes/upstream-events.js';
import { createCustomer } from '../../src/service/customers.js';
import { createLicense } from '../../src/service/licenses.js';
import { changeTokenStatus, createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createVendor } from '../../src/service/vendors.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { repositoryAccess } from '../../src/registry/upstream.js';
import { startGateway, NOTIFICATION_SECRET, UPSTREAM_SERVICE, type Gateway } from '../helpers/gateway.js';
import { auth, blob, expectOciError, imageConfig, imageIndex, imageManifest, MT, sha256, V2Client, type Content } from '../helpers/oci-http.js';
import { startInstance } from '../helpers/runtime.js';
import { describeE2E } from '../helpers/system-tools.js';

// acme/app: 1.0 → m1, 1.1 → index of m1 and m3, 2.0 → m2 (its layer only 2.0 reaches).
const cfg1 = imageConfig('gw 1.0');
const layer1 = blob('gateway layer one: 0123456789abcdefghijklmnopqrstuvwxyz');
const m1 = imageManifest({ config: cfg1, layers: [layer1] });
const cfg3 = imageConfig('gw 1.1 arm64', 'arm64');
const layer3 = blob('gateway layer three, arm64');
const m3 = imageManifest({ config: cfg3, layers: [layer3] });
const index11 = imageIndex({
  manifests: [
    { manifest: m1, platform: { os: 'linux', architecture: 'amd64' } },
    { manifest: m3, platform: { os: 'linux', architecture: 'arm64' } },
  ],
});
const cfg2 = imageConfig('gw 2.0');
const layer2 = blob('gateway layer two: only 2.0 reaches this');
const m2 = imageManifest({ config: cfg2, layers: [layer2] });
// Pushed straight to the upstream later, as another instance would.
const cfg15 = imageConfig('gw 1.5');
const layer15 = blob('gateway layer 1.5, pushed around this instance');
const m15 = imageManifest({ config: cfg15, layers: [layer15] });
// beta/secret: another vendor's.
const betaCfg = imageConfig('beta secret');
const betaLayer = blob('beta layer: not for acme');
const betaM = imageManifest({ config: betaCfg, layers: [betaLayer] });

const upstreamBlobPath = (dataDir: string, digest: string) => join(dataDir, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data');

describeE2E('gateway mode: Portcullis in front of docker-registry', () => {
  let gw: Gateway;
  let acme: Caller;
  const t: Record<string, CreatedToken> = {};
  let vendor: V2Client;
  let customer: V2Client;
  let beta: V2Client;
  const pushed: Record<string, string> = {};

  beforeAll(async () => {
    gw = await startGateway();
    const rt = gw.inst.runtime;
    const acmeVendor = await createVendor(rt, gw.inst.caller, { name: 'acme' });
    acme = ownerCaller(acmeVendor, { name: 'test', source: 'test' });
    const betaVendor = await createVendor(rt, gw.inst.caller, { name: 'beta' });
    const globex = await createCustomer(rt, acme, { name: 'globex' });
    await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app', tags: '1.*', validUntil: '30d' });
    t.vendor = await createToken(rt, acme, { type: 'vendor', name: 'ci' });
    t.customer = await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id });
    t.revokeMe = await createToken(rt, acme, { type: 'customer', name: 'laptop', customer: globex.id });
    t.beta = await createToken(rt, ownerCaller(betaVendor, acme.actor), { type: 'vendor', name: 'beta-ci' });
    vendor = new V2Client(gw.app, auth(t.vendor));
    customer = vendor.as(auth(t.customer));
    beta = vendor.as(auth(t.beta));

    for (const [ref, m, blobs] of [
      ['1.0', m1, [cfg1, layer1]],
      [m3.digest, m3, [cfg3, layer3]],
      ['2.0', m2, [cfg2, layer2]],
    ] as [string, Content, Content[]][]) {
      const res = await vendor.pushImage('acme/app', ref, m, blobs);
      pushed[ref] = String(res.headers['docker-content-digest']);
    }
    await vendor.pushManifest('acme/app', '1.1', index11);
    await beta.pushImage('beta/secret', '1.0', betaM, [betaCfg, betaLayer]);
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  describe('the upstream trusts only Portcullis', () => {
    it('refuses a request without a token, and one signed by any other key', async () => {
      const plain = await fetch(`${gw.registry.url}/v2/acme/app/tags/list`);
      expect(plain.status).toBe(401);
      const { privateKey } = await generateKeyPair('ES256');
      const now = Math.floor(Date.now() / 1000);
      const forged = await new SignJWT({ access: [repositoryAccess('acme/app', 'pull')] })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(gw.inst.runtime.config.auth.issuer)
        .setAudience(UPSTREAM_SERVICE)
        .setSubject('intruder')
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(privateKey);
      expect((await fetch(`${gw.registry.url}/v2/acme/app/tags/list`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
    });

    it('accepts the service token Portcullis signs, for what it grants', async () => {
      const jwt = await gw.inst.runtime.upstream!.serviceToken([repositoryAccess('acme/app', 'pull')]);
      const res = await fetch(`${gw.registry.url}/v2/acme/app/tags/list`, { headers: { authorization: `Bearer ${jwt}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { tags: string[] }).tags.sort()).toEqual(['1.0', '1.1', '2.0']);
    });

    it('/token never hands a client a token for the upstream service', async () => {
      const res = await fetch(`${gw.url}/token?service=${UPSTREAM_SERVICE}&scope=repository:acme/app:pull`, { headers: { authorization: auth(t.vendor!) } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(new RegExp(`^unknown service .${UPSTREAM_SERVICE}.`));
    });

    it('/readyz checks the upstream', async () => {
      const res = await gw.app.inject('/readyz');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ready', checks: { store: 'ok', upstream: 'ok' } });
    });
  });

  describe('pushes through the gateway', () => {
    it('land in the upstream, with Locations that point at Portcullis', async () => {
      expect(existsSync(upstreamBlobPath(gw.registry.dataDir, layer1.digest))).toBe(true);
      expect(pushed['1.0']).toBe(m1.digest);
      const start = await vendor.post('/v2/acme/app/blobs/uploads/');
      expect(start.statusCode).toBe(202);
      const location = String(start.headers.location);
      expect(location).toMatch(/^\/v2\/acme\/app\/blobs\/uploads\/[0-9a-f-]{36}\?_state=/);
      expect(start.headers['docker-upload-uuid']).toMatch(/^[0-9a-f-]{36}$/);
      expect(await vendor.delete(location).then((r) => r.statusCode)).toBe(204);
    });

    it('chunked PATCH uploads stream through and finish with PUT', async () => {
      const data = Buffer.from('chunked through the gateway: '.repeat(2000));
      const start = await vendor.post('/v2/acme/app/blobs/uploads/');
      let location = String(start.headers.location);
      const half = data.length / 2;
      for (const [from, to] of [
        [0, half],
        [half, data.length],
      ] as const) {
        const res = await vendor.patch(location, { body: data.subarray(from, to), headers: { 'content-range': `${from}-${to - 1}` } });
        expect(res.statusCode, res.body).toBe(202);
        expect(res.headers.range).toBe(`0-${to - 1}`);
        location = String(res.headers.location);
      }
      const digest = sha256(data);
      const done = await vendor.put(`${location}&digest=${digest}`);
      expect(done.statusCode, done.body).toBe(201);
      expect(done.headers.location).toBe(`/v2/acme/app/blobs/${digest}`);
      const head = await vendor.head(`/v2/acme/app/blobs/${digest}`);
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-length']).toBe(String(data.length));
    });

    it('an upload with a wrong digest stores nothing', async () => {
      const data = Buffer.from('not what the digest says, via the gateway');
      const wrong = `sha256:${'1'.repeat(64)}`;
      const start = await vendor.post('/v2/acme/app/blobs/uploads/');
      const location = String(start.headers.location);
      const res = await vendor.put(`${location}&digest=${wrong}`, { body: data });
      expectOciError(res, 400, 'DIGEST_INVALID');
      expect((await vendor.head(`/v2/acme/app/blobs/${wrong}`)).statusCode).toBe(404);
      expect((await vendor.head(`/v2/acme/app/blobs/${sha256(data)}`)).statusCode).toBe(404);
      expect(existsSync(upstreamBlobPath(gw.registry.dataDir, wrong))).toBe(false);
      expect(existsSync(upstreamBlobPath(gw.registry.dataDir, sha256(data)))).toBe(false);
    });

    it('a vendor pushes only inside its namespaces', async () => {
      const res = await beta.post('/v2/acme/app/blobs/uploads/');
      expectOciError(res, 403, 'DENIED');
      expect(existsSync(join(gw.registry.dataDir, 'docker/registry/v2/repositories/beta/secret'))).toBe(true);
      expect((await vendor.put('/v2/beta/secret/manifests/evil', { body: m1.bytes, contentType: m1.mediaType })).statusCode).toBe(403);
    });

    it('mounts a blob the caller may pull from the source, and turns any other mount into a plain upload', async () => {
      const mounted = await vendor.post(`/v2/acme/mirror/blobs/uploads/?mount=${layer1.digest}&from=acme/app`);
      expect(mounted.statusCode, mounted.body).toBe(201);
      expect(mounted.headers.location).toBe(`/v2/acme/mirror/blobs/${layer1.digest}`);
      // beta/secret is not acme's to read: no mount, an upload session instead.
      const refused = await vendor.post(`/v2/acme/mirror/blobs/uploads/?mount=${betaLayer.digest}&from=beta/secret`);
      expect(refused.statusCode).toBe(202);
      expect((await vendor.head(`/v2/acme/mirror/blobs/${betaLayer.digest}`)).statusCode).toBe(404);
    });
  });

  describe('a customer licensed for 1.*', () => {
    it('pulls 1.0 by tag and 1.1 (an index) with the index media type', async () => {
      const one = await customer.get('/v2/acme/app/manifests/1.0', { headers: { accept: MT.manifest } });
      expect(one.statusCode).toBe(200);
      expect(one.headers['docker-content-digest']).toBe(m1.digest);
      expect(one.rawPayload.equals(m1.bytes)).toBe(true);
      const index = await customer.get('/v2/acme/app/manifests/1.1', { headers: { accept: MT.index } });
      expect(index.statusCode).toBe(200);
      expect(index.headers['content-type']).toBe(MT.index);
      expect(index.headers['docker-content-digest']).toBe(index11.digest);
      // Its arm64 child, by digest, is reachable from 1.1.
      expect((await customer.get(`/v2/acme/app/manifests/${m3.digest}`, { headers: { accept: MT.manifest } })).statusCode).toBe(200);
    });

    it('is denied 2.0 with a message naming the pattern', async () => {
      const res = await customer.get('/v2/acme/app/manifests/2.0', { headers: { accept: MT.manifest } });
      expect(expectOciError(res, 403, 'DENIED').message).toBe('tag 2.0 is outside 1.*');
    });

    it("is denied 2.0's manifest and its own layer by digest, not what 1.* reaches", async () => {
      expectOciError(await customer.get(`/v2/acme/app/manifests/${m2.digest}`, { headers: { accept: MT.manifest } }), 403, 'DENIED');
      expectOciError(await customer.get(`/v2/acme/app/blobs/${layer2.digest}`), 403, 'DENIED');
      expect((await customer.head(`/v2/acme/app/blobs/${cfg2.digest}`)).statusCode).toBe(403);
      const layer = await customer.get(`/v2/acme/app/blobs/${layer1.digest}`);
      expect(layer.statusCode).toBe(200);
      expect(layer.rawPayload.equals(layer1.bytes)).toBe(true);
      expect(layer.headers['docker-content-digest']).toBe(layer1.digest);
      // The vendor reads everything in its namespace.
      expect((await vendor.get(`/v2/acme/app/blobs/${layer2.digest}`)).statusCode).toBe(200);
    });

    it('gets byte ranges of a blob relayed', async () => {
      const res = await customer.get(`/v2/acme/app/blobs/${layer1.digest}`, { headers: { range: 'bytes=8-15' } });
      expect(res.statusCode).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes 8-15/${layer1.bytes.length}`);
      expect(res.rawPayload.equals(layer1.bytes.subarray(8, 16))).toBe(true);
    });

    it('sees only 1.0 and 1.1 in tags/list, paginated by Portcullis', async () => {
      expect((await customer.get('/v2/acme/app/tags/list')).json()).toEqual({ name: 'acme/app', tags: ['1.0', '1.1'] });
      const first = await customer.get('/v2/acme/app/tags/list?n=1');
      expect(first.json().tags).toEqual(['1.0']);
      expect(first.headers.link).toBe('</v2/acme/app/tags/list?n=1&last=1.0>; rel="next"');
      expect((await vendor.get('/v2/acme/app/tags/list')).json().tags).toEqual(['1.0', '1.1', '2.0']);
    });

    it('sees only what it may pull in the catalog', async () => {
      expect((await customer.get('/v2/_catalog')).json()).toEqual({ repositories: ['acme/app'] });
      expect((await beta.get('/v2/_catalog')).json()).toEqual({ repositories: ['beta/secret'] });
      const operator = vendor.as(auth(gw.inst.bootstrap));
      expect((await operator.get('/v2/_catalog')).json().repositories).toEqual(['acme/app', 'acme/mirror', 'beta/secret']);
    });

    it('a token revoked mid-way is refused on the very next request, although its JWT has not expired', async () => {
      const login = await fetch(`${gw.url}/token?service=portcullis&scope=repository:acme/app:pull`, { headers: { authorization: auth(t.revokeMe!) } });
      const jwt = ((await login.json()) as { token: string }).token;
      const get = () => fetch(`${gw.url}/v2/acme/app/manifests/1.0`, { headers: { authorization: `Bearer ${jwt}`, accept: MT.manifest } });
      expect((await get()).status).toBe(200);
      await changeTokenStatus(gw.inst.runtime, acme, t.revokeMe!.token.id, 'revoke');
      const after = await get();
      expect(after.status).toBe(401);
      expect(after.headers.get('www-authenticate')).toContain('error="invalid_token"');
    });

    it('has its manifest pulls in the usage log', async () => {
      await gw.inst.runtime.usage.flush();
      const events = await gw.inst.runtime.store.listUsage(acme.vendorId);
      const pulls = events.filter((e) => e.tokenId === t.customer!.token.id && e.action === 'pull');
      expect(pulls.map((e) => [e.tag, e.digest])).toEqual(expect.arrayContaining([['1.0', m1.digest], ['1.1', index11.digest], [null, m3.digest]]));
      expect(pulls.some((e) => e.tag === '2.0')).toBe(false);
      expect(events.filter((e) => e.action === 'push' && e.tag === '2.0').map((e) => e.digest)).toEqual([m2.digest]);
    });
  });

  describe('notifications', () => {
    it('a push that went around this instance becomes reachable once the upstream notifies', async () => {
      // The graph of acme/app is cached by now; 1.5 is pushed straight to the upstream.
      expectOciError(await customer.get(`/v2/acme/app/manifests/${m15.digest}`, { headers: { accept: MT.manifest } }), 403, 'DENIED');
      const jwt = await gw.inst.runtime.upstream!.serviceToken([repositoryAccess('acme/app', 'pull', 'push')]);
      const direct = (method: string, path: string, body?: Buffer, contentType?: string) =>
        fetch(`${gw.registry.url}${path}`, { method, headers: { authorization: `Bearer ${jwt}`, ...(contentType ? { 'content-type': contentType } : {}) }, ...(body ? { body } : {}) });
      for (const b of [cfg15, layer15]) {
        const start = await direct('POST', '/v2/acme/app/blobs/uploads/');
        const location = new URL(String(start.headers.get('location')));
        location.searchParams.set('digest', b.digest);
        expect((await direct('PUT', location.pathname + location.search, b.bytes, 'application/octet-stream')).status).toBe(201);
      }
      expect((await direct('PUT', '/v2/acme/app/manifests/1.5', m15.bytes, m15.mediaType)).status).toBe(201);
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await customer.get(`/v2/acme/app/manifests/${m15.digest}`, { headers: { accept: MT.manifest } })).statusCode;
      }
      expect(status).toBe(200);
      expect((await customer.get(`/v2/acme/app/blobs/${layer15.digest}`)).statusCode).toBe(200);
    });

    const notify = (headers: Record<string, string>, payload: string) => gw.app.inject({ method: 'POST', url: UPSTREAM_EVENTS_PATH, headers, payload });
    const envelope = JSON.stringify({ events: [{ action: 'push', target: { repository: 'acme/app', tag: '1.0' } }] });
    const eventsType = 'application/vnd.docker.distribution.events.v1+json';

    it('drops the named repositories and says which', async () => {
      await customer.get(`/v2/acme/app/manifests/${m1.digest}`, { headers: { accept: MT.manifest } });
      expect(gw.inst.runtime.graphs.cachedRepositories!()).toContain('acme/app');
      const res = await notify({ authorization: `Bearer ${NOTIFICATION_SECRET}`, 'content-type': eventsType }, envelope);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ events: 1, changed: ['acme/app'] });
      expect(gw.inst.runtime.graphs.cachedRepositories!()).not.toContain('acme/app');
    });

    it('refuses a wrong or missing secret with the same 401, and a malformed body with 400', async () => {
      for (const headers of <Record<string, string>[]>[{ 'content-type': eventsType }, { authorization: 'Bearer wrong-secret-of-some-length', 'content-type': eventsType }, { authorization: `Basic ${NOTIFICATION_SECRET}`, 'content-type': eventsType }]) {
        const res = await notify(headers, envelope);
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ code: 'unauthenticated' });
      }
      const bad = await notify({ authorization: `Bearer ${NOTIFICATION_SECRET}`, 'content-type': eventsType }, '{"events":[{"action":"push"}]}');
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'invalid_input', field: 'events' });
      const notJson = await notify({ authorization: `Bearer ${NOTIFICATION_SECRET}`, 'content-type': eventsType }, '{events');
      expect(notJson.statusCode).toBe(400);
    });

    it('are refused with 404 by an instance that is not a gateway', async () => {
      const plain = await startInstance('real-time', { PORTCULLIS_REGISTRY_NOTIFICATION_SECRET: NOTIFICATION_SECRET });
      const app = await buildApp(plain.runtime);
      try {
        const res = await app.inject({ method: 'POST', url: UPSTREAM_EVENTS_PATH, headers: { authorization: `Bearer ${NOTIFICATION_SECRET}`, 'content-type': eventsType }, payload: envelope });
        expect(res.statusCode).toBe(404);
        expect(res.json()).toMatchObject({ code: 'route_not_found' });
      } finally {
        await app.close();
        await plain.cleanup();
      }
    });
  });

  describe('when the upstream fails', () => {
    it('a 5xx of the upstream is a 502 with an OCI error body', async () => {
      // A tag link the registry cannot parse makes it fail the request.
      const link = join(gw.registry.dataDir, 'docker/registry/v2/repositories/acme/app/_manifests/tags/2.0/current/link');
      writeFileSync(link, 'not a digest');
      const res = await vendor.get('/v2/acme/app/manifests/2.0', { headers: { accept: MT.manifest } });
      const error = expectOciError(res, 502, 'UNKNOWN');
      expect(error.message).toMatch(/upstream registry failed GET \/v2\/acme\/app\/manifests\/2\.0 \(HTTP 5\d\d\)/);
    });

    it('an upstream that is down is a 503 on /v2 and on /readyz', async () => {
      await gw.registry.stop();
      const res = await customer.get('/v2/acme/app/manifests/1.0', { headers: { accept: MT.manifest } });
      expectOciError(res, 503, 'UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('5');
      const ready = await gw.app.inject('/readyz');
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'not ready', checks: { store: 'ok', upstream: 'failing' } });
      // Credentials are still checked first: a stranger learns nothing of the upstream.
      expect((await customer.as(undefined).get('/v2/acme/app/manifests/1.0')).statusCode).toBe(401);
    });
  });
});

describeE2E('gateway mode: storage redirects', () => {
  let gw: Gateway;
  let customer: V2Client;
  let vendor: V2Client;
  const STORAGE = 'http://storage.invalid:9000';

  beforeAll(async () => {
    gw = await startGateway({ redirectBaseUrl: STORAGE, notifications: false });
    const rt = gw.inst.runtime;
    const acmeVendor = await createVendor(rt, gw.inst.caller, { name: 'acme' });
    const acme: Caller = ownerCaller(acmeVendor, { name: 'test', source: 'test' });
    const globex = await createCustomer(rt, acme, { name: 'globex' });
    await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app', tags: '1.*' });
    vendor = new V2Client(gw.app, auth(await createToken(rt, acme, { type: 'vendor', name: 'ci' })));
    customer = vendor.as(auth(await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id })));
    await vendor.pushImage('acme/app', '1.0', m1, [cfg1, layer1]);
    await vendor.pushImage('acme/app', '2.0', m2, [cfg2, layer2]);
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it('passes the redirect to storage to the client after the access check', async () => {
    const res = await customer.get(`/v2/acme/app/blobs/${layer1.digest}`);
    expect(res.statusCode).toBe(307);
    expect(String(res.headers.location)).toMatch(new RegExp(`^${STORAGE}/.*${layer1.digest.slice(7)}`));
    expect(res.rawPayload.length).toBeLessThan(1024);
  });

  it('never redirects a blob the caller may not pull', async () => {
    const res = await customer.get(`/v2/acme/app/blobs/${layer2.digest}`);
    expectOciError(res, 403, 'DENIED');
    expect(res.headers.location).toBeUndefined();
    expect(readdirSync(gw.registry.dataDir).length).toBeGreaterThan(0);
  });
});
