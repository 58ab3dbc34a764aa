/**
 * `[server] trusted_proxies`: only a request whose socket peer is a trusted
 * proxy has its client taken from the forwarding header, and that client is
 * the address of every consumer: audit sources, usage events, a token's last
 * use, the per-address lockout, the log. Spoofed headers from anyone else
 * change nothing. Mostly through app.inject (its remoteAddress is the socket
 * peer); the last tests use real connections from a second loopback address.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { createCustomer } from '../../src/service/customers.js';
import { createLicense } from '../../src/service/licenses.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { auth, blob, imageConfig, imageManifest, V2Client } from '../helpers/oci-http.js';
import { listenLocally, startInstance, type TestInstance } from '../helpers/runtime.js';

const cfg = imageConfig('behind a proxy');
const layer = blob('a layer pulled through a proxy');
const manifest = imageManifest({ config: cfg, layers: [layer] });

const PROXY = '10.0.0.2';
const WRONG = 'W'.repeat(32);

interface Setup {
  inst: TestInstance;
  app: FastifyInstance;
  vendor: CreatedToken;
  customer: CreatedToken;
  close(): Promise<void>;
}

/** An instance with these settings, a customer licensed for acme/app, and acme/app pushed. */
async function setup(env: Record<string, string>): Promise<Setup> {
  const inst = await startInstance(undefined, { PORTCULLIS_BOOTSTRAP_NAMESPACES: 'acme/**', PORTCULLIS_AUTH_MAX_FAILED_LOGINS: '3', ...env });
  const app = await buildApp(inst.runtime);
  const rt = inst.runtime;
  const globex = await createCustomer(rt, inst.caller, { name: 'globex' });
  await createLicense(rt, inst.caller, { customer: globex.id, repositories: 'acme/app' });
  const vendor = await createToken(rt, inst.caller, { type: 'vendor', name: 'ci', scopes: 'pull,push,admin:customers:write' });
  const customer = await createToken(rt, inst.caller, { type: 'customer', name: 'prod', customer: globex.id });
  await new V2Client(app, auth(vendor)).pushImage('acme/app', '1.0', manifest, [cfg, layer]);
  return {
    inst,
    app,
    vendor,
    customer,
    async close() {
      await app.close();
      await inst.cleanup();
    },
  };
}

/** Creates a customer through the admin API; resolves with the audit event's source. */
async function auditSource(s: Setup, remoteAddress: string, headers: Record<string, string>): Promise<string> {
  const name = `c-${Math.random().toString(36).slice(2, 10)}`;
  const res = await s.app.inject({ method: 'POST', url: '/api/v1/customers', remoteAddress, headers: { ...headers, authorization: auth(s.vendor) }, payload: { name } });
  expect(res.statusCode, res.body).toBe(201);
  const events = await s.inst.runtime.store.listAudit(s.inst.runtime.operator.id);
  const event = events.find((e) => e.action === 'customer.create' && e.detail.name === name);
  expect(event, JSON.stringify(events.slice(-3))).toBeDefined();
  return event!.source;
}

/** Pulls acme/app:1.0 with the customer token; resolves with the usage event's address and the token's last-used address. */
async function pullAddresses(s: Setup, remoteAddress: string, headers: Record<string, string>): Promise<{ usage: string; lastUsed: string | null }> {
  const rt = s.inst.runtime;
  await rt.usage.flush();
  const before = (await rt.store.listUsage(rt.operator.id)).length;
  // A token's last use is only ever moved forward in time.
  s.inst.clock.now = new Date(s.inst.clock.now.getTime() + 1000);
  const res = await s.app.inject({ method: 'GET', url: '/v2/acme/app/manifests/1.0', remoteAddress, headers: { ...headers, accept: manifest.mediaType, authorization: auth(s.customer) } });
  expect(res.statusCode, res.body).toBe(200);
  await rt.usage.flush();
  await rt.lastUsed.flush();
  const events = await rt.store.listUsage(rt.operator.id);
  expect(events.length).toBe(before + 1);
  const pulled = events.filter((e) => e.action === 'pull').sort((a, b) => b.id.localeCompare(a.id))[0]!;
  const token = await rt.store.getToken(rt.operator.id, s.customer.token.id);
  return { usage: pulled.ip, lastUsed: token?.lastUsedIp ?? null };
}

/** /v2/ with a wrong secret for the vendor token: one failed login. */
const failLogin = (s: Setup, remoteAddress: string, headers: Record<string, string>) =>
  s.app.inject({ method: 'GET', url: '/v2/', remoteAddress, headers: { ...headers, authorization: `Basic ${Buffer.from(`${s.vendor.token.id}:${WRONG}`).toString('base64')}` } });
const login = (s: Setup, remoteAddress: string, headers: Record<string, string>) => s.app.inject({ method: 'GET', url: '/v2/', remoteAddress, headers: { ...headers, authorization: auth(s.vendor) } });

describe('trusted_proxies with X-Forwarded-For (the default header)', () => {
  let s: Setup;

  beforeAll(async () => {
    // As an environment list, the way a container sets it.
    s = await setup({ PORTCULLIS_SERVER_TRUSTED_PROXIES: '10.0.0.0/8, ::1' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('ignores X-Forwarded-For and Forwarded from a peer that is not a trusted proxy', async () => {
    const spoofed = { 'x-forwarded-for': '203.0.113.5', forwarded: 'for=203.0.113.6' };
    expect(await auditSource(s, '198.51.100.7', spoofed)).toBe('198.51.100.7');
    expect(await pullAddresses(s, '198.51.100.7', spoofed)).toEqual({ usage: '198.51.100.7', lastUsed: '198.51.100.7' });
  });

  it('takes the client from a trusted proxy’s X-Forwarded-For for the audit source, the usage event and the last-used address', async () => {
    expect(await auditSource(s, PROXY, { 'x-forwarded-for': '203.0.113.5' })).toBe('203.0.113.5');
    expect(await pullAddresses(s, PROXY, { 'x-forwarded-for': '203.0.113.7' })).toEqual({ usage: '203.0.113.7', lastUsed: '203.0.113.7' });
  });

  it('ignores Forwarded when the configured header is X-Forwarded-For, even from a trusted proxy', async () => {
    expect(await auditSource(s, PROXY, { forwarded: 'for=203.0.113.8' })).toBe(PROXY);
  });

  it('skips every trusted hop of a chain, and never reads what the client put left of its own address', async () => {
    expect(await auditSource(s, PROXY, { 'x-forwarded-for': '203.0.113.20, 10.1.1.1, 10.2.2.2' })).toBe('203.0.113.20');
    // The client claims to be a trusted proxy itself; the real proxy appended the address it saw.
    expect(await auditSource(s, PROXY, { 'x-forwarded-for': '10.9.9.9, 203.0.113.21' })).toBe('203.0.113.21');
    // Every hop trusted: the farthest is the client.
    expect(await auditSource(s, PROXY, { 'x-forwarded-for': '10.3.3.3, 10.4.4.4' })).toBe('10.3.3.3');
  });

  it('uses the peer when the proxy’s own entry is malformed, and when there is no header', async () => {
    expect(await auditSource(s, PROXY, { 'x-forwarded-for': 'not-an-address' })).toBe(PROXY);
    expect(await auditSource(s, PROXY, {})).toBe(PROXY);
  });

  it('locks out one client behind the proxy after its failed logins, not the others coming through the same proxy', async () => {
    const a = { 'x-forwarded-for': '203.0.113.30' };
    const b = { 'x-forwarded-for': '203.0.113.31' };
    for (let i = 0; i < 3; i++) expect((await failLogin(s, PROXY, a)).statusCode).toBe(401);
    const locked = await login(s, PROXY, a);
    expect(locked.statusCode).toBe(429);
    expect(locked.json().errors[0].code).toBe('TOOMANYREQUESTS');
    expect((await login(s, PROXY, b)).statusCode).toBe(200);
    // The proxy's own address is not locked either: a request without the header is its own.
    expect((await login(s, PROXY, {})).statusCode).toBe(200);
    // A client cannot slip out of its lockout by claiming another address in front of its own.
    expect((await login(s, PROXY, { 'x-forwarded-for': '203.0.113.99, 203.0.113.30' })).statusCode).toBe(429);
  });

  it('reads an IPv6 client through an IPv6 proxy, and locks it out by its /64', async () => {
    expect(await auditSource(s, '::1', { 'x-forwarded-for': '2001:db8:0:1::5' })).toBe('2001:db8:0:1::5');
    for (let i = 0; i < 3; i++) expect((await failLogin(s, '::1', { 'x-forwarded-for': '2001:db8:0:2::1' })).statusCode).toBe(401);
    expect((await login(s, '::1', { 'x-forwarded-for': '[2001:db8:0:2::99]:4711' })).statusCode).toBe(429);
    expect((await login(s, '::1', { 'x-forwarded-for': '2001:db8:0:3::1' })).statusCode).toBe(200);
  });

  it('never takes the public URL from forwarded headers', async () => {
    const res = await s.app.inject({ url: '/v2/', remoteAddress: PROXY, headers: { 'x-forwarded-for': '203.0.113.5', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', forwarded: 'host=evil.example;proto=https', host: 'evil.example' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:5000\/token"/);
  });
});

describe('without trusted_proxies', () => {
  it('locks every client behind a proxy out together: the reason trusted_proxies exists', async () => {
    const s = await setup({});
    try {
      expect(await auditSource(s, PROXY, { 'x-forwarded-for': '203.0.113.5' })).toBe(PROXY);
      for (let i = 0; i < 3; i++) expect((await failLogin(s, PROXY, { 'x-forwarded-for': '203.0.113.30' })).statusCode).toBe(401);
      expect((await login(s, PROXY, { 'x-forwarded-for': '203.0.113.31' })).statusCode).toBe(429);
    } finally {
      await s.close();
    }
  });
});

describe('trusted_proxies with forwarded_header = "forwarded" (RFC 7239)', () => {
  let s: Setup;

  beforeAll(async () => {
    s = await setup({ PORTCULLIS_SERVER_TRUSTED_PROXIES: '10.0.0.0/8,::1', PORTCULLIS_SERVER_FORWARDED_HEADER: 'forwarded' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('reads for= of the nearest untrusted element, quoted IPv6 with a port included', async () => {
    expect(await auditSource(s, '::1', { forwarded: 'for="[2001:db8::1]:4711";proto=https' })).toBe('2001:db8::1');
    expect(await auditSource(s, PROXY, { forwarded: 'for=203.0.113.40;proto=https, for=10.5.5.5' })).toBe('203.0.113.40');
    expect(await pullAddresses(s, PROXY, { forwarded: 'for="203.0.113.41:5555"' })).toEqual({ usage: '203.0.113.41', lastUsed: '203.0.113.41' });
  });

  it('ignores X-Forwarded-For then, which a Forwarded-writing proxy passes on as the client sent it', async () => {
    expect(await auditSource(s, PROXY, { 'x-forwarded-for': '203.0.113.42' })).toBe(PROXY);
  });

  it('keeps what the proxy appended when the client sent a broken Forwarded, and uses the peer when the proxy’s own element is broken', async () => {
    expect(await auditSource(s, PROXY, { forwarded: 'for="203.0.113.1, for=203.0.113.43' })).toBe('203.0.113.43');
    expect(await auditSource(s, PROXY, { forwarded: 'for="203.0.113.44' })).toBe(PROXY);
    expect(await auditSource(s, PROXY, { forwarded: 'for=unknown' })).toBe(PROXY);
  });

  it('ignores Forwarded from a peer that is not trusted', async () => {
    expect(await auditSource(s, '198.51.100.8', { forwarded: 'for=203.0.113.45' })).toBe('198.51.100.8');
  });
});

describe('trusted_proxies over real connections', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let port: number;
  let vendor: CreatedToken;
  const lines: Record<string, unknown>[] = [];

  /** GET /v2/ with the vendor token from a chosen local (loopback) address. */
  const getFrom = (localAddress: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v2/', localAddress, headers: { ...headers, authorization: auth(vendor) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    // Only 127.0.0.2 is the proxy; 127.0.0.1 (the test's own default address) and 127.0.0.3 are not.
    inst = await startInstance(undefined, { PORTCULLIS_SERVER_TRUSTED_PROXIES: '127.0.0.2' });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    app = await buildApp(inst.runtime, { logger: createLogger('info', sink) });
    vendor = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: 'ci' });
    port = await listenLocally(app);
  });
  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  it('believes the header from the trusted peer only: the token’s last use and the request log show it', async () => {
    const lastUsedIp = async () => {
      await inst.runtime.lastUsed.flush();
      inst.clock.now = new Date(inst.clock.now.getTime() + 1000);
      return (await inst.runtime.store.getToken(inst.runtime.operator.id, vendor.token.id))?.lastUsedIp;
    };
    expect(await getFrom('127.0.0.2', { 'x-forwarded-for': '203.0.113.50', 'x-request-id': 'via-proxy' })).toBe(200);
    expect(await lastUsedIp()).toBe('203.0.113.50');
    expect(await getFrom('127.0.0.3', { 'x-forwarded-for': '203.0.113.51', 'x-request-id': 'not-via-proxy' })).toBe(200);
    expect(await lastUsedIp()).toBe('127.0.0.3');

    const incoming = (id: string) => lines.find((l) => l.reqId === id && l.msg === 'incoming request') as { client?: string; req: { remoteAddress: string } } | undefined;
    expect(incoming('via-proxy')).toMatchObject({ client: '203.0.113.50', req: { remoteAddress: '127.0.0.2' } });
    expect(incoming('not-via-proxy')?.req.remoteAddress).toBe('127.0.0.3');
    expect(incoming('not-via-proxy')).not.toHaveProperty('client');
    // Every line of the request carries the client, the completion line included.
    expect(lines.find((l) => l.reqId === 'via-proxy' && l.msg === 'request completed')).toMatchObject({ client: '203.0.113.50' });
  });
});

describe('[server] trusted_proxies and forwarded_header settings', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'portcullis-proxies-config-'));

  it.each([
    [{ PORTCULLIS_SERVER_TRUSTED_PROXIES: '10.0.0.0/8,localhost' }, /"server\.trusted_proxies\.1".*: "localhost" is not an IP address or CIDR range/],
    [{ PORTCULLIS_SERVER_TRUSTED_PROXIES: '10.0.0.0/33' }, /"server\.trusted_proxies\.0".*prefix length after \/ must be a number from 0 to 32/],
    [{ PORTCULLIS_SERVER_FORWARDED_HEADER: 'x-real-ip' }, /"server\.forwarded_header"/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig({ env, cwd })).toThrow(message);
  });

  it('reads a list of addresses and ranges; none by default', () => {
    expect(loadConfig({ env: {}, cwd }).server).toMatchObject({ trusted_proxies: [], forwarded_header: 'x-forwarded-for' });
    expect(loadConfig({ env: { PORTCULLIS_SERVER_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1,::1 , fd00::/8' }, cwd }).server.trusted_proxies).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  });
});
