/**
 * /metrics as Prometheus scrapes it, after real traffic through the app:
 * request durations by route pattern, pulls and pushes by repository, cache
 * hits and misses; and the X-Request-Id every answer carries.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createCustomer } from '../../src/service/customers.js';
import { createLicense } from '../../src/service/licenses.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createVendor } from '../../src/service/vendors.js';
import type { Caller } from '../../src/service/context.js';
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
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return parseExposition(res.body);
  };

  beforeAll(async () => {
    inst = await startInstance();
    app = await buildApp(inst.runtime);
    const rt = inst.runtime;
    const acmeVendor = await createVendor(rt, inst.caller, { name: 'acme' });
    const acme: Caller = { vendorId: acmeVendor.id, actor: { name: 'test', source: 'test' } };
    const globex = await createCustomer(rt, acme, { name: 'globex' });
    await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app' });
    t.vendor = await createToken(rt, acme, { type: 'vendor', name: 'ci' });
    t.customer = await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id });
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
    await createCustomer(inst.runtime, { vendorId: inst.runtime.operator.id, actor: { name: 'test', source: 'test' } }, { name: 'cache-buster' });
    const cold = await scrape();
    const cache = (s: Sample[], name: string, result: string) => valueOf(s, 'portcullis_cache_requests_total', { cache: name, result });

    const byDigest = `/v2/acme/app/manifests/${manifest.digest}`;
    expect((await customer.get(byDigest, { headers: { accept: manifest.mediaType } })).statusCode).toBe(200);
    const first = await scrape();
    for (const name of ['token', 'principal']) {
      expect(cache(first, name, 'miss') - cache(cold, name, 'miss'), name).toBe(1);
      expect(cache(first, name, 'hit') - cache(cold, name, 'hit'), name).toBe(0);
    }

    expect((await customer.get(byDigest, { headers: { accept: manifest.mediaType } })).statusCode).toBe(200);
    const second = await scrape();
    for (const name of ['token', 'principal']) {
      expect(cache(second, name, 'hit') - cache(first, name, 'hit'), name).toBe(1);
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

describeE2E('/metrics of a gateway: the upstream graph and manifest caches', () => {
  let gw: Gateway;
  let customer: V2Client;

  beforeAll(async () => {
    // Without notifications: one arriving between the two pulls would drop the graph, as it should, and blur the count.
    gw = await startGateway({ notifications: false });
    const rt = gw.inst.runtime;
    const acmeVendor = await createVendor(rt, gw.inst.caller, { name: 'acme' });
    const acme: Caller = { vendorId: acmeVendor.id, actor: { name: 'test', source: 'test' } };
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
    const scrape = async () => parseExposition((await gw.app.inject({ method: 'GET', url: '/metrics' })).body);
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
