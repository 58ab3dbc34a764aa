/**
 * HTTP-level fuzzing in process (app.inject): arbitrary Authorization headers,
 * query strings and form bodies on /token, arbitrary paths, headers and bodies
 * on /v2, and arbitrary JSON bodies on every POST, PATCH and PUT route of the
 * admin API (enumerated from its OpenAPI document, so routes added later are
 * fuzzed too). Every answer must be below 500, and every 4xx must be a clear
 * error: problem+json with a `code`, or on /v2 the OCI error envelope.
 */
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { isRegistryPath } from '../../src/http/error-catalogue.js';
import { fullToken } from '../../src/core/token-format.js';
import { createCustomer } from '../../src/service/customers.js';
import { createLicense } from '../../src/service/licenses.js';
import { createPlan } from '../../src/service/plans.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createUser } from '../../src/service/users.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { anyText, fuzzParams, near } from './fuzz.js';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface JsonSchema {
  type?: string;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  maxLength?: number;
  nullable?: boolean;
}

const latin1 = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09), fc.integer({ min: 0x80, max: 0xff })).map((n) => String.fromCharCode(n));
/** What Node lets through as a header value (tab, printable ASCII, Latin-1). */
const headerValue = fc.oneof(fc.string({ unit: latin1, maxLength: 200 }), fc.string({ unit: latin1, minLength: 2000, maxLength: 9000 }));
const base64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
// Raw query or path text that a URL may carry unencoded, malformed escapes included.
const URL_PIECES = ['a', 'Z', '0', '/', '%', '%zz', '%2F', '%00', '%E0%A4%A', '%25', '&', '=', '+', ';', ',', '[', ']', '.', '..', '~', '*', ':', '@', '!', '$', "'", '(', ')', '?'];

/** encodeURIComponent throws on a lone surrogate; such text cannot be sent percent-encoded anyway. */
const encode = (s: string) => encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
const encoded = anyText.map(encode);
const urlText = fc.oneof(near(URL_PIECES, 20), encoded);

function queryString(keys: readonly string[], values: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const key = fc.oneof(fc.constantFrom(...keys), urlText);
  const pair = fc.tuple(key, fc.oneof(values.map(encode), urlText)).map(([k, v]) => `${k}=${v}`);
  return fc.oneof(fc.array(pair, { maxLength: 8 }).map((p) => p.join('&')), urlText);
}

/** Below 500; a 4xx is problem+json with a `code`. */
function expectProblemOnError(res: LightMyRequestResponse, what: string): void {
  const where = `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, where).toBeLessThan(500);
  if (res.statusCode < 400) return;
  expect(res.headers['content-type'], where).toMatch(/^application\/problem\+json/);
  const body = res.json() as { code?: unknown; detail?: unknown };
  expect(typeof body.code, where).toBe('string');
  expect(typeof body.detail, where).toBe('string');
}

/** Below 500; a 4xx on /v2 is the OCI envelope with a code and a message. */
function expectOciOnError(res: LightMyRequestResponse, method: Method, what: string): void {
  const where = `${what} → ${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, where).toBeLessThan(500);
  if (res.statusCode < 400 || method === 'HEAD') return;
  const body = res.json() as { errors?: { code?: unknown; message?: unknown }[] };
  expect(typeof body.errors?.[0]?.code, where).toBe('string');
  expect(typeof body.errors?.[0]?.message, where).toBe('string');
}

describe('HTTP fuzzing', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let admin: CreatedToken;
  let victim: CreatedToken;
  let customerToken: CreatedToken;
  const ids: Record<string, string[]> = {};
  let adminBasic: string;
  let adminBearer: string;

  beforeAll(async () => {
    inst = await startInstance();
    app = await buildApp(inst.runtime);
    const { runtime, caller } = inst;
    // Its own token, with a rate limit the fuzzing cannot reach, so no other token's state matters.
    admin = await createToken(runtime, caller, { type: 'vendor', name: 'fuzz admin', scopes: 'pull,push,admin:*:*', rateLimit: 100_000_000 });
    victim = await createToken(runtime, caller, { type: 'vendor', name: 'fuzz victim' });
    const customer = await createCustomer(runtime, caller, { name: 'globex' });
    const plan = await createPlan(runtime, caller, { name: 'basic', repositories: 'acme/**' });
    const license = await createLicense(runtime, caller, { customer: customer.id, repositories: 'acme/app', tags: '1.*' });
    customerToken = await createToken(runtime, caller, { type: 'customer', customer: customer.id, name: 'fuzz customer' });
    const user = await createUser(runtime, caller, { email: 'fuzz@example.com', role: 'viewer', password: 'a long enough password' });
    adminBasic = `Basic ${base64(`${admin.token.id}:${admin.secret}`)}`;
    adminBearer = `Bearer ${fullToken(admin.token.id, admin.secret)}`;
    // Real ids for path parameters, by the names the routes give them, so requests get past the lookup.
    Object.assign(ids, {
      username: [victim.token.id, customerToken.token.id],
      customer: [customer.id, customer.name],
      id: [license.id],
      license: [license.id],
      plan: [plan.id, plan.name],
      vendor: [runtime.operator.id, runtime.operator.name],
      user: [user.id, user.email],
    });
  });
  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  const authorization = () =>
    fc.oneof(
      headerValue,
      fc.constant(undefined),
      anyText.map((s) => `Basic ${base64(s)}`),
      fc.tuple(anyText, anyText).map(([u, p]) => `Basic ${base64(`${u}:${p}`)}`),
      fc.uint8Array({ maxLength: 64 }).map((b) => `Basic ${base64(b)}`),
      fc.constantFrom('Basic', 'Basic ', 'Basic ====', 'Bearer', 'Bearer ', 'Bearer eyJhbGciOiJub25lIn0.e30.', 'Bearer a.b.c', 'Negotiate abc'),
      fc.tuple(fc.constantFrom('Bearer ', 'bearer '), near(['eyJ', 'hbGci', '.', '.', 'AAAA', '-', '_', '=', vtok()], 10)).map(([a, b]) => a + b),
      fc.constant(adminBasic),
      fc.constant(adminBearer),
    );
  const vtok = () => 'vtok_0000000000000000';
  // Bad credentials from one address would end in a lockout; spread them as clients would be.
  const remoteAddress = fc.ipV4();

  it('GET /token with any Authorization header and query string', async () => {
    const query = queryString(['service', 'scope', 'offline_token', 'account', 'client_id'], near(['repository', ':', 'acme/app', ':', 'pull', ',', 'push', '*', 'registry:catalog:*', 'portcullis', ' ', 'true'], 10));
    await fc.assert(
      fc.asyncProperty(authorization(), query, remoteAddress, async (auth, q, ip) => {
        const url = `/token?${q}`;
        const res = await app.inject({ method: 'GET', url, remoteAddress: ip, headers: auth === undefined ? {} : { authorization: auth } });
        expectProblemOnError(res, `GET ${url} (authorization ${JSON.stringify(auth?.slice(0, 80))})`);
      }),
      fuzzParams(200),
    );
  });

  it('POST /token with any form body, content type and Authorization header', async () => {
    const form = queryString(
      ['grant_type', 'client_id', 'username', 'password', 'refresh_token', 'scope', 'service', 'access_type'],
      fc.oneof(fc.constantFrom('password', 'refresh_token', 'client_credentials', 'docker', 'offline', admin?.token.id ?? 'x'), anyText),
    );
    const body = fc.oneof(form, anyText, fc.jsonValue().map((v) => JSON.stringify(v)));
    const contentType = fc.oneof(fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/json', 'text/plain', 'multipart/form-data'), headerValue);
    await fc.assert(
      fc.asyncProperty(authorization(), body, contentType, remoteAddress, async (auth, payload, type, ip) => {
        const headers: Record<string, string> = { 'content-type': type };
        if (auth !== undefined) headers.authorization = auth;
        const res = await app.inject({ method: 'POST', url: '/token', remoteAddress: ip, headers, payload });
        expectProblemOnError(res, `POST /token ${type} ${JSON.stringify(payload.slice(0, 120))}`);
      }),
      fuzzParams(200),
    );
  });

  it('/v2 with any method, path, headers and body', async () => {
    const segment = fc.oneof(
      fc.constantFrom('acme', 'app', 'acme/app', 'manifests', 'blobs', 'uploads', 'tags', 'list', 'referrers', '_catalog', '1.0', 'latest', `sha256:${'a'.repeat(64)}`, 'sha256:zz', '..', '.', ''),
      urlText,
    );
    const path = fc.array(segment, { maxLength: 8 }).map((s) => `/v2/${s.join('/')}`);
    const method = fc.constantFrom<Method>('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE');
    const query = queryString(['n', 'last', 'digest', 'mount', 'from', 'artifactType'], fc.oneof(fc.constantFrom('1', '-1', '99999999999999999999', `sha256:${'b'.repeat(64)}`, 'acme/app'), anyText));
    const body = fc.oneof(fc.constant(undefined), anyText, fc.jsonValue().map((v) => JSON.stringify(v)), fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)));
    const contentType = fc.oneof(fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'application/octet-stream', 'application/json'), headerValue);
    const extra = fc.record(
      { accept: headerValue, 'content-range': fc.oneof(fc.constantFrom('0-9', '5-1', 'bytes=0-9', '0-99999999999999999999'), headerValue), range: headerValue },
      { requiredKeys: [] },
    );
    // The admin token half of the time, so requests get past authentication into the routes.
    const auth = fc.oneof(authorization(), fc.constant(adminBasic));
    await fc.assert(
      fc.asyncProperty(method, path, query, auth, body, contentType, extra, remoteAddress, async (m, p, q, a, payload, type, headers, ip) => {
        const url = q === '' ? p : `${p}?${q}`;
        const all: Record<string, string> = { ...headers };
        if (a !== undefined) all.authorization = a;
        if (payload !== undefined) all['content-type'] = type;
        const res = await app.inject({ method: m, url, remoteAddress: ip, headers: all, ...(payload !== undefined && m !== 'GET' && m !== 'HEAD' ? { payload } : {}) });
        // The injector resolves dot segments as a URL parser would: /v2/.. reaches the server as /.
        if (isRegistryPath(new URL(url, 'http://x').pathname)) expectOciOnError(res, m, `${m} ${url}`);
        else if (m !== 'HEAD') expectProblemOnError(res, `${m} ${url}`);
      }),
      fuzzParams(300),
    );
  });

  describe('admin API', () => {
    interface Operation {
      method: Method;
      /** Fastify-style path, with {name} parameters. */
      path: string;
      params: string[];
      query: string[];
      /** JSON Schema of the body, as the OpenAPI document gives it. */
      body?: JsonSchema;
    }

    /** Every operation the OpenAPI document lists; the document is generated from the routes themselves. */
    async function operations(): Promise<Operation[]> {
      const res = await app.inject({ url: '/api/v1/openapi.json' });
      expect(res.statusCode, 'the admin API publishes /api/v1/openapi.json').toBe(200);
      type Op = { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } };
      const doc = res.json() as { paths: Record<string, Record<string, Op>> };
      const out: Operation[] = [];
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
          const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
          const body = op.requestBody?.content?.['application/json']?.schema;
          out.push({ method: method.toUpperCase() as Method, path, params, query, ...(body ? { body } : {}) });
        }
      }
      return out;
    }

    const pathValue = (name: string) => fc.oneof(fc.constantFrom(...(ids[name] ?? ['x'])), urlText.filter((s) => s !== ''));
    const fill = (op: Operation, values: Record<string, string>) => op.path.replace(/\{([^}]+)\}/g, (_, name: string) => values[name] ?? 'x');

    /** Strings a real client would send to some field, so that valid-looking bodies get past the services' own checks. */
    const plausible = fc.oneof(
      fc.constantFrom('acme/**', 'acme/app', 'acme/*', '**', '1.*', 'semver:^1.2', 'semver:>=x', '30d', '1y', '0', 'never', '2026-12-31', '2026-12-31T23:59:59Z', '2020-01-01'),
      fc.constantFrom('pull', 'push', 'delete', 'pull,push', 'admin:*:*', 'admin:tokens:read', 'vendor', 'customer', 'globex', 'basic', ''),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    );
    const hostileValue = fc.oneof(fc.constantFrom(1e308, -1, 0, 2 ** 53, -0, 1.5, true, false, null), anyText, fc.jsonValue({ maxDepth: 4 }));

    /** A value for a JSON Schema: mostly of the right type, with plausible or hostile content. */
    function valueFor(schema: JsonSchema): fc.Arbitrary<unknown> {
      if (schema.anyOf) return fc.oneof(...schema.anyOf.map(valueFor));
      let typed: fc.Arbitrary<unknown>;
      if (schema.type === 'string') typed = fc.oneof(plausible, anyText).map((v) => v.slice(0, schema.maxLength ?? v.length));
      else if (schema.type === 'integer' || schema.type === 'number') typed = fc.oneof(fc.integer({ min: -10, max: 200_000_000 }), fc.constantFrom(0, 2 ** 53, Number.MAX_SAFE_INTEGER));
      else if (schema.type === 'boolean') typed = fc.boolean();
      else if (schema.type === 'array') typed = fc.array(valueFor(schema.items ?? { type: 'string' }), { maxLength: 4 });
      else if (schema.type === 'object') typed = objectFor(schema);
      else typed = fc.jsonValue({ maxDepth: 3 });
      if (schema.nullable) typed = fc.oneof(typed, fc.constant(null));
      return fc.oneof({ weight: 5, arbitrary: typed }, { weight: 1, arbitrary: hostileValue });
    }

    function objectFor(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
      const props = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, valueFor(v)]));
      return fc.record(props, { requiredKeys: (schema.required ?? []).filter((k) => k in props) });
    }

    const hostileJson = fc.constantFrom(
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '{"name":"x","__proto__":{"name":"y"}}',
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      `{"a":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`,
      '{"name": 1e999}',
      '{"name": "\\ud800"}',
      '{',
      'null',
      '"text"',
      '12345678901234567890123456789',
      '',
    );

    function bodyFor(op: Operation): fc.Arbitrary<string> {
      const shaped = op.body ? objectFor(op.body).map((o) => JSON.stringify(o)) : fc.constant('{}');
      // Unknown fields and wrong types beside the known ones.
      const extra = fc.dictionary(fc.oneof(fc.constantFrom(...Object.keys(op.body?.properties ?? { x: 1 })), fc.string({ maxLength: 12 })), hostileValue, { maxKeys: 5 }).map((o) => JSON.stringify(o));
      return fc.oneof(
        { weight: 4, arbitrary: shaped },
        { weight: 1, arbitrary: extra },
        { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: hostileJson },
        { weight: 1, arbitrary: anyText },
      );
    }

    it('answers any JSON body on every POST, PATCH and PUT route with a 2xx or a problem+json 4xx', async () => {
      const writes = (await operations()).filter((op) => op.method === 'POST' || op.method === 'PATCH' || op.method === 'PUT');
      expect(writes.length, 'the admin API has write routes to fuzz').toBeGreaterThan(0);
      const contentType = fc.oneof({ weight: 5, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded') }, { weight: 1, arbitrary: headerValue });
      for (const op of writes) {
        const params = fc.record(Object.fromEntries(op.params.map((name) => [name, pathValue(name)])) as Record<string, fc.Arbitrary<string>>);
        await fc.assert(
          // From many addresses: failed logins (POST /api/v1/session) must not lock the admin token's address out of the rest.
          fc.asyncProperty(params, bodyFor(op), contentType, fc.constantFrom(adminBasic, adminBearer), remoteAddress, async (values, payload, type, auth, ip) => {
            const url = fill(op, values);
            const res = await app.inject({ method: op.method, url, remoteAddress: ip, headers: { authorization: auth, 'content-type': type }, payload });
            expectProblemOnError(res, `${op.method} ${url} ${type} ${JSON.stringify(payload.slice(0, 200))}`);
          }),
          fuzzParams(40),
        );
      }
    });

    it('answers any query string on every GET route the same way', async () => {
      const reads = (await operations()).filter((op) => op.method === 'GET');
      expect(reads.length).toBeGreaterThan(0);
      for (const op of reads) {
        const params = fc.record(Object.fromEntries(op.params.map((name) => [name, pathValue(name)])) as Record<string, fc.Arbitrary<string>>);
        const query = queryString(op.query.length > 0 ? op.query : ['x'], fc.oneof(fc.constantFrom('1', '0', '-1', '1001', '99999999999999999999', '7d', '2026-01-01', 'csv', 'json', 'active', 'vendor', ''), anyText));
        await fc.assert(
          fc.asyncProperty(params, query, remoteAddress, async (values, q, ip) => {
            const url = `${fill(op, values)}?${q}`;
            const res = await app.inject({ method: 'GET', url, remoteAddress: ip, headers: { authorization: adminBearer } });
            expectProblemOnError(res, `GET ${url}`);
          }),
          fuzzParams(25),
        );
      }
    });
  });
});
