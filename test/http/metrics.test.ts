/**
 * /metrics as Prometheus scrapes it, after real traffic through the app:
 * request durations by route pattern, pulls and pushes by repository, cache
 * hits and misses; and the X-Request-Id every answer carries. Who may read
 * it: by default only an operator token with admin:metrics:read, since the
 * series name every vendor's repositories; `access = "public"` and the
 * separate `listen` address.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { listenForMetrics } from '../../src/http/metrics-listener.js';
import { createCustomer } from '../../src/service/customers.js';
import { createLicense } from '../../src/service/licenses.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createVendor } from '../../src/service/vendors.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { startGateway, type Gateway } from '../helpers/gateway.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { describeE2E } from '../helpers/system-tools.js';
import { auth, blob, imageConfig, imageManifest, V2Client } from '../helpers/oci-http.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of the text exposition format (label values here hold no escaped quotes). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

/** What Prometheus sends with `authorization: {type: Bearer, credentials_file: …}`: the full token. */
const bearer = (t: CreatedToken): string => `Bearer ${t.token.id}.${t.secret}`;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const cfg = imageConfig('metrics app 1.0');
const layer = blob('metrics layer');
const manifest = imageManifest({ config: cfg, layers: [layer] });

describe('/metrics and request ids', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let vendor: V2Client;
  let customer: V2Client;
  const t: Record<string, CreatedToken> = {};

  const scrape = async (): Promise<Sample[]> => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: bearer(t.scraper!) } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return parseExposition(res.body);
  };

  beforeAll(async () => {
    inst = await startInstance();
    app = await buildApp(inst.runtime);
    const rt = inst.runtime;
    const acmeVendor = await createVendor(rt, inst.caller, { name: 'acme' });
    const acme: Caller = ownerCaller(acmeVendor, { name: 'test', source: 'test' });
    const globex = await createCustomer(rt, acme, { name: 'globex' });
    await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app' });
    t.vendor = await createToken(rt, acme, { type: 'vendor', name: 'ci' });
    t.customer = await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id });
    t.scraper = await createToken(rt, inst.caller, { type: 'vendor', name: 'prometheus', scopes: 'admin:metrics:read' });
    vendor = new V2Client(app, auth(t.vendor));
    customer = new V2Client(app, auth(t.customer));
    await vendor.pushImage('acme/app', '1.0', manifest, [cfg, layer]);
  });

  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  it('counts pushes, and pulls by repository and by how the manifest was named', async () => {
    const before = await scrape();
    expect(valueOf(before, 'portcullis_registry_pushes_total', { repository: 'acme/app' })).toBe(1);

    expect((await customer.get('/v2/acme/app/manifests/1.0', { headers: { accept: manifest.mediaType } })).statusCode).toBe(200);
    expect((await customer.get(`/v2/acme/app/manifests/${manifest.digest}`, { headers: { accept: manifest.mediaType } })).statusCode).toBe(200);
    expect((await customer.get(`/v2/acme/app/manifests/${manifest.digest}`, { headers: { accept: manifest.mediaType } })).statusCode).toBe(200);
    // Neither a HEAD nor a refused pull is a pull.
    expect((await customer.head('/v2/acme/app/manifests/1.0', { headers: { accept: manifest.mediaType } })).statusCode).toBe(200);
    expect((await customer.get('/v2/acme/db/manifests/1.0')).statusCode).toBe(403);

    const after = await scrape();
    const pulls = (kind: string, s: Sample[]) => valueOf(s, 'portcullis_registry_pulls_total', { repository: 'acme/app', kind });
    expect(pulls('tag', after) - pulls('tag', before)).toBe(1);
    expect(pulls('digest', after) - pulls('digest', before)).toBe(2);
    expect(after.filter((s) => s.name === 'portcullis_registry_pulls_total' && s.labels.repository !== 'acme/app')).toEqual([]);
  });

  it('times requests by route pattern, with /v2 split by OCI endpoint and no raw path as a label', async () => {
    await customer.get(`/v2/acme/app/blobs/${layer.digest}`);
    await new V2Client(app).get('/v2/acme/app/tags/list');
    await app.inject({ method: 'GET', url: '/no/such/route-42' });
    await app.inject({ method: 'GET', url: '/healthz' });
    const samples = await scrape();
    const count = (labels: Record<string, string>) => valueOf(samples, 'http_request_duration_seconds_count', labels);

    expect(count({ method: 'GET', route: '/v2/<name>/manifests/<reference>', status_code: '200' })).toBeGreaterThanOrEqual(3);
    expect(count({ method: 'HEAD', route: '/v2/<name>/manifests/<reference>', status_code: '200' })).toBeGreaterThanOrEqual(1);
    expect(count({ method: 'GET', route: '/v2/<name>/manifests/<reference>', status_code: '403' })).toBe(1);
    expect(count({ method: 'GET', route: '/v2/<name>/blobs/<digest>', status_code: '200' })).toBe(1);
    expect(count({ method: 'PUT', route: '/v2/<name>/manifests/<reference>', status_code: '201' })).toBe(1);
    // Refused by the auth hook, before the route kept its parsed path: still labelled by endpoint.
    expect(count({ method: 'GET', route: '/v2/<name>/tags/list', status_code: '401' })).toBe(1);
    expect(count({ method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    expect(count({ method: 'GET', route: '/healthz', status_code: '200' })).toBe(1);
    expect(valueOf(samples, 'http_request_duration_seconds_bucket', { route: '/healthz', le: '+Inf' })).toBe(1);
    expect(valueOf(samples, 'http_request_duration_seconds_sum', { route: '/healthz' })).toBeGreaterThan(0);

    const routes = new Set(samples.filter((s) => s.name.startsWith('http_request_duration_seconds')).map((s) => s.labels.route));
    for (const route of routes) expect(route).not.toMatch(/acme|sha256|route-42/);
  });

  it('counts cache hits once a second request finds what the first loaded', async () => {
    // A write moves the store's change marker and empties the cache: start from a cold one.
    await createCustomer(inst.runtime, ownerCaller(inst.runtime.operator, { name: 'test', source: 'test' }), { name: 'cache-buster' });
    const cold = await scrape();
    const cache = (s: Sample[], name: string, result: string) => valueOf(s, 'portcullis_cache_requests_total', { cache: name, result });
    // Each scrape checks its own token before the counts are read: the cold scrape loaded it, every later one finds it.
    const scrapeHits: Record<string, number> = { token: 1, principal: 0 };

    const byDigest = `/v2/acme/app/manifests/${manifest.digest}`;
    expect((await customer.get(byDigest, { headers: { accept: manifest.mediaType } })).statusCode).toBe(200);
    const first = await scrape();
    for (const name of ['token', 'principal']) {
      expect(cache(first, name, 'miss') - cache(cold, name, 'miss'), name).toBe(1);
      expect(cache(first, name, 'hit') - cache(cold, name, 'hit'), name).toBe(scrapeHits[name]);
    }

    expect((await customer.get(byDigest, { headers: { accept: manifest.mediaType } })).statusCode).toBe(200);
    const second = await scrape();
    for (const name of ['token', 'principal']) {
      expect(cache(second, name, 'hit') - cache(first, name, 'hit'), name).toBe(1 + scrapeHits[name]!);
      expect(cache(second, name, 'miss') - cache(first, name, 'miss'), name).toBe(0);
    }
    // A pull by digest walks the repository's graph: the first loads it, the second finds it.
    expect(cache(first, 'repository_graph', 'miss') - cache(cold, 'repository_graph', 'miss')).toBe(1);
    expect(cache(second, 'repository_graph', 'miss') - cache(first, 'repository_graph', 'miss')).toBe(0);
    expect(cache(second, 'repository_graph', 'hit') - cache(first, 'repository_graph', 'hit')).toBeGreaterThanOrEqual(1);
  });

  it('answers every request with an X-Request-Id, keeping a plain one the caller sent', async () => {
    const ids = new Set<string>();
    for (const res of [
      await app.inject({ method: 'GET', url: '/healthz' }),
      await app.inject({ method: 'GET', url: '/v2/' }),
      await app.inject({ method: 'GET', url: '/nowhere' }),
      await app.inject({ method: 'GET', url: '/token' }),
      // Thrown and answered by the error handler.
      await app.inject({ method: 'GET', url: '/api/v1/explain?token=x&scope=repository:acme/app:pull' }),
      await customer.get('/v2/acme/app/tags/list'),
    ]) {
      const id = res.headers['x-request-id'];
      expect(id, `${res.statusCode} ${res.body}`).toMatch(UUID_RE);
      ids.add(String(id));
    }
    expect(ids.size).toBe(6);

    const echoed = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'lb-7f3a.91_x' } });
    expect(echoed.headers['x-request-id']).toBe('lb-7f3a.91_x');
    for (const bad of ['has space', 'a'.repeat(65), 'quote"d', '{"msg":"forged"}', '']) {
      const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': bad } });
      expect(res.headers['x-request-id'], JSON.stringify(bad)).toMatch(UUID_RE);
    }
  });
});

/**
 * A tenant's data for the access tests: the acme vendor, its customer globex,
 * a pushed acme/app and tokens of every kind. None of these names may show to
 * a caller /metrics refuses.
 */
async function tenantFixture(inst: TestInstance, app: FastifyInstance): Promise<Record<string, CreatedToken>> {
  const rt = inst.runtime;
  const acmeVendor = await createVendor(rt, inst.caller, { name: 'acme' });
  const acme: Caller = ownerCaller(acmeVendor, { name: 'test', source: 'test' });
  const globex = await createCustomer(rt, acme, { name: 'globex' });
  await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app' });
  const t: Record<string, CreatedToken> = {
    acmeCi: await createToken(rt, acme, { type: 'vendor', name: 'ci' }),
    acmeScraper: await createToken(rt, acme, { type: 'vendor', name: 'acme-prometheus', scopes: 'admin:metrics:read' }),
    customer: await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id }),
    scraper: await createToken(rt, inst.caller, { type: 'vendor', name: 'prometheus', scopes: 'admin:metrics:read' }),
    operatorCi: await createToken(rt, inst.caller, { type: 'vendor', name: 'operator-ci', scopes: 'pull,push,admin:audit:read' }),
    writer: await createToken(rt, inst.caller, { type: 'vendor', name: 'metrics-writer', scopes: 'admin:metrics:write' }),
  };
  await new V2Client(app, auth(t.acmeCi!)).pushImage('acme/app', '1.0', manifest, [cfg, layer]);
  return t;
}

const TENANT_NAMES = /acme|globex/;
const PUSHES = 'portcullis_registry_pushes_total{repository="acme/app"} 1';

describe('who may read /metrics (the default: access = "token")', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let base: string;
  let t: Record<string, CreatedToken>;
  const scrapeAs = (authorization: string | undefined, remoteAddress = '192.0.2.10') =>
    app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers: authorization === undefined ? {} : { authorization } });

  beforeAll(async () => {
    inst = await startInstance(undefined, { PORTCULLIS_AUTH_MAX_FAILED_LOGINS: '3' });
    app = await buildApp(inst.runtime);
    t = await tenantFixture(inst, app);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  it('answers a caller without credentials 401 with a Bearer challenge, naming no repository, customer or vendor', async () => {
    for (const authorization of [undefined, 'Digest username="x"', 'Bearer', `Bearer ${t.scraper!.token.id}`]) {
      const res = await scrapeAs(authorization);
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="Portcullis metrics"');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'unauthenticated', status: 401 });
      expect(res.body).not.toMatch(TENANT_NAMES);
      expect(res.body).not.toContain('portcullis_');
    }
    const head = await app.inject({ method: 'HEAD', url: '/metrics', remoteAddress: '192.0.2.10' });
    expect(head.statusCode).toBe(401);
  });

  it('answers 403 to a token without admin:metrics:read, and to any token of another vendor or a customer', async () => {
    const cases: [CreatedToken, RegExp][] = [
      [t.operatorCi!, /lacks the admin:metrics:read scope/],
      [t.acmeScraper!, /^to scrape \/metrics needs the operator vendor$/],
      [t.acmeCi!, /lacks the admin:metrics:read scope/],
      [t.customer!, /takes vendor tokens only/],
    ];
    for (const [token, detail] of cases) {
      const res = await scrapeAs(bearer(token));
      expect(res.statusCode, token.token.name).toBe(403);
      expect(res.json()).toMatchObject({ code: 'denied', detail: expect.stringMatching(detail) });
      expect(res.body).not.toMatch(TENANT_NAMES);
    }
  });

  it('serves every vendor’s series to an operator token holding admin:metrics:read, by Bearer or Basic', async () => {
    for (const authorization of [bearer(t.scraper!), auth(t.scraper!), bearer(t.writer!), bearer(inst.bootstrap), auth(inst.bootstrap)]) {
      const res = await scrapeAs(authorization);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toContain(PUSHES);
      // A scrape is a token request like any other: it counts against the token's hourly budget.
      expect(Number(res.headers['x-ratelimit-limit'])).toBeGreaterThan(0);
    }
  });

  it('counts a wrong secret as a failed login: after max_failed_logins the address is locked out, here and on the admin API', async () => {
    const wrong = `Bearer ${t.scraper!.token.id}.${'W'.repeat(32)}`;
    const attacker = '203.0.113.66';
    for (let i = 0; i < 3; i++) {
      const res = await scrapeAs(wrong, attacker);
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toMatch(TENANT_NAMES);
    }
    const locked = await scrapeAs(bearer(t.scraper!), attacker);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.body).not.toContain('portcullis_');
    const api = await app.inject({ method: 'GET', url: '/api/v1/audit', remoteAddress: attacker, headers: { authorization: bearer(inst.bootstrap) } });
    expect(api.statusCode).toBe(429);
    // Another address is not concerned, and the refusal is counted under its own surface.
    const other = await scrapeAs(bearer(t.scraper!), '192.0.2.11');
    expect(other.statusCode).toBe(200);
    expect(other.body).toMatch(/^portcullis_rate_limited_total\{surface="metrics",kind="lockout"\} 1$/m);
  });

  it('answers a Prometheus scrape over a real connection, with the full token as Bearer', async () => {
    const prometheusHeaders = {
      accept: 'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.1',
      'user-agent': 'Prometheus/2.42.0',
      'x-prometheus-scrape-timeout-seconds': '10',
    };
    const scraped = await fetch(`${base}/metrics`, { headers: { ...prometheusHeaders, authorization: bearer(t.scraper!) } });
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await scraped.text()).toContain(PUSHES);
    const refused = await fetch(`${base}/metrics`, { headers: prometheusHeaders });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="Portcullis metrics"');
    expect(await refused.text()).not.toMatch(TENANT_NAMES);
  });
});

describe('[metrics] access = "public"', () => {
  it('serves /metrics to anyone, as before the setting existed', async () => {
    const inst = await startInstance(undefined, { PORTCULLIS_METRICS_ACCESS: 'public' });
    const app = await buildApp(inst.runtime);
    try {
      await tenantFixture(inst, app);
      for (const headers of [{}, { authorization: `Bearer vtok_0000000000000000.${'x'.repeat(32)}` }]) {
        const res = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '198.51.100.9', headers });
        expect(res.statusCode).toBe(200);
        expect(res.body).toContain(PUSHES);
      }
    } finally {
      await app.close();
      await inst.cleanup();
    }
  });
});

describe('[metrics] listen: a separate listener for /metrics', () => {
  const start = async (env: Record<string, string>) => {
    const inst = await startInstance(undefined, { PORTCULLIS_METRICS_LISTEN: '127.0.0.1:0', ...env });
    const app = await buildApp(inst.runtime);
    const t = await tenantFixture(inst, app);
    const side = await listenForMetrics(inst.runtime, app.portcullisMetrics);
    if (!side) throw new Error('metrics.listen is set: expected a listener');
    const address = side.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return {
      inst,
      app,
      t,
      url,
      async stop() {
        await side.close();
        await app.close();
        await inst.cleanup();
      },
    };
  };

  it('serves /metrics there without a token, and nothing else, while the main port still asks for one', async () => {
    const s = await start({});
    try {
      const scraped = await fetch(`${s.url}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain(PUSHES);
      const elsewhere = await fetch(`${s.url}/api/v1/audit`, { headers: { authorization: bearer(s.inst.bootstrap) } });
      expect(elsewhere.status).toBe(404);
      expect((await elsewhere.json()) as unknown).toMatchObject({ code: 'route_not_found', detail: expect.stringMatching(/serves GET \/metrics only/) });
      expect((await fetch(`${s.url}/v2/`)).status).toBe(404);

      const main = await s.app.inject({ method: 'GET', url: '/metrics' });
      expect(main.statusCode).toBe(401);
      expect(main.body).not.toMatch(TENANT_NAMES);
      // Both read one registry: the main port's refusal shows on the listener.
      expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/metrics",status_code="401"\} 1$/m);
    } finally {
      await s.stop();
    }
  });

  it('asks for the token there too with require_token = true', async () => {
    const s = await start({ PORTCULLIS_METRICS_REQUIRE_TOKEN: 'true' });
    try {
      const refused = await fetch(`${s.url}/metrics`);
      expect(refused.status).toBe(401);
      expect(await refused.text()).not.toMatch(TENANT_NAMES);
      expect((await fetch(`${s.url}/metrics`, { headers: { authorization: bearer(s.t.operatorCi!) } })).status).toBe(403);
      const scraped = await fetch(`${s.url}/metrics`, { headers: { authorization: bearer(s.t.scraper!) } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain(PUSHES);
    } finally {
      await s.stop();
    }
  });

  it('starts no listener when metrics.listen is empty', async () => {
    const inst = await startInstance();
    const app = await buildApp(inst.runtime);
    try {
      expect(await listenForMetrics(inst.runtime, app.portcullisMetrics)).toBeUndefined();
    } finally {
      await app.close();
      await inst.cleanup();
    }
  });
});

describe('[metrics] settings', () => {
  // An empty directory: no portcullis.toml is picked up from it.
  const cwd = mkdtempSync(join(tmpdir(), 'portcullis-metrics-config-'));
  it.each([
    [{ PORTCULLIS_METRICS_ACCESS: 'open' }, /"metrics\.access" \(from PORTCULLIS_METRICS_ACCESS\)/],
    [{ PORTCULLIS_METRICS_LISTEN: '9464' }, /"metrics\.listen".*"9464" is not a listen address: expected HOST:PORT/],
    [{ PORTCULLIS_METRICS_LISTEN: '::1:9464' }, /"metrics\.listen".*not a listen address/],
    [{ PORTCULLIS_METRICS_LISTEN: '127.0.0.1:70000' }, /"metrics\.listen".*port must be a number from 0 to 65535/],
    [{ PORTCULLIS_METRICS_REQUIRE_TOKEN: 'maybe' }, /PORTCULLIS_METRICS_REQUIRE_TOKEN: expected true or false/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig({ env, cwd })).toThrow(message);
  });

  it('reads the defaults and an IPv6 listen address', () => {
    expect(loadConfig({ env: {}, cwd }).metrics).toEqual({ access: 'token', listen: '', require_token: false });
    expect(loadConfig({ env: { PORTCULLIS_METRICS_LISTEN: '[::1]:9464' }, cwd }).metrics.listen).toBe('[::1]:9464');
  });
});

describeE2E('/metrics of a gateway: the upstream graph and manifest caches', () => {
  let gw: Gateway;
  let customer: V2Client;

  beforeAll(async () => {
    // Without notifications: one arriving between the two pulls would drop the graph, as it should, and blur the count.
    gw = await startGateway({ notifications: false });
    const rt = gw.inst.runtime;
    const acmeVendor = await createVendor(rt, gw.inst.caller, { name: 'acme' });
    const acme: Caller = ownerCaller(acmeVendor, { name: 'test', source: 'test' });
    const globex = await createCustomer(rt, acme, { name: 'globex' });
    await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app' });
    const vendorToken = await createToken(rt, acme, { type: 'vendor', name: 'ci' });
    const customerToken = await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id });
    await new V2Client(gw.app, auth(vendorToken)).pushImage('acme/app', '1.0', manifest, [cfg, layer]);
    customer = new V2Client(gw.app, auth(customerToken));
  });

  afterAll(async () => {
    await gw?.stop();
  });

  it('counts a miss when a repository graph is read from the upstream and a hit when it is reused', async () => {
    const scrape = async () => parseExposition((await gw.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: bearer(gw.inst.bootstrap) } })).body);
    const cache = (s: Sample[], name: string, result: string) => valueOf(s, 'portcullis_cache_requests_total', { cache: name, result });
    const pull = async () => expect((await customer.get(`/v2/acme/app/manifests/${manifest.digest}`, { headers: { accept: manifest.mediaType } })).statusCode).toBe(200);

    const before = await scrape();
    await pull();
    const first = await scrape();
    expect(cache(first, 'upstream_graph', 'miss') - cache(before, 'upstream_graph', 'miss')).toBe(1);
    // The graph's one tag led to one manifest, fetched from the upstream.
    expect(cache(first, 'upstream_manifest', 'miss') - cache(before, 'upstream_manifest', 'miss')).toBe(1);

    await pull();
    const second = await scrape();
    expect(cache(second, 'upstream_graph', 'hit') - cache(first, 'upstream_graph', 'hit')).toBe(1);
    expect(cache(second, 'upstream_graph', 'miss') - cache(first, 'upstream_graph', 'miss')).toBe(0);
    expect(valueOf(second, 'portcullis_registry_pulls_total', { repository: 'acme/app', kind: 'digest' })).toBe(2);
    expect(valueOf(second, 'portcullis_registry_pushes_total', { repository: 'acme/app' })).toBe(1);
  });
});
