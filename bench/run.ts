/**
 * npm run bench: figures are ratios to a baseline measured in the same run.
 * - the cost of a credential check on /v2/ against /healthz (no auth) through
 *   the same in-process app, so the ratio isolates what authentication adds;
 * - /token issuance for a licensed customer against the practical limit: a bare
 *   Fastify endpoint that only checks Basic credentials against one HMAC and
 *   signs the same JWT with the same key through jose;
 * - the built-in registry against docker-registry (bench/registry.ts);
 * - gateway mode against its upstream asked directly (bench/gateway.ts);
 * - /token and a manifest HEAD with 1,000,000 tokens and 100,000 customers in
 *   the store against the same with a small store, on SQLite and PostgreSQL
 *   (bench/large-store.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import Fastify from 'fastify';
import { SignJWT } from 'jose';
import { parseBasicAuthorization } from '../src/core/basic-auth.js';
import { hashSecret, verifySecret } from '../src/auth/secret-hash.js';
import { buildApp } from '../src/http/app.js';
import { openRuntime } from '../src/runtime.js';
import { benchGateway } from './gateway.js';
import { benchLargeStore } from './large-store.js';
import { benchScaleOut } from './scale-out.js';
import { BENCH_ENV, benchRegistry } from './registry.js';
import { createCustomer } from '../src/service/customers.js';
import { createLicense } from '../src/service/licenses.js';
import { createToken } from '../src/service/tokens.js';
import { ownerCaller } from '../src/service/context.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
/** BENCH_ONLY=auth,registry,gateway,large-store,scale-out runs some of the suites; unset, all. */
const ONLY = process.env.BENCH_ONLY?.split(',');
const only = (suite: string) => ONLY === undefined || ONLY.includes(suite);
const CONCURRENCY = 32;

/** `requests` defaults to BENCH_REQUESTS; the large-store suite measures in shorter alternating slices. */
async function measure(label: string, send: () => Promise<{ statusCode: number }>, expected: number, requests = REQUESTS) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < requests) {
        const t = performance.now();
        const res = await send();
        latencies.push(performance.now() - t);
        if (res.statusCode !== expected) throw new Error(`${label}: status ${res.statusCode}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]!;
  return { label, rps: requests / seconds, p50_ms: pct(50), p99_ms: pct(99) };
}

type Row = Awaited<ReturnType<typeof measure>>;

/** The first row is the baseline; every row's ratio is to it. */
function report(name: string, measured: Row[]): void {
  const baseline = measured[0]!;
  const rows = measured.map((r) => ({ ...r, ratio: r.rps / baseline.rps }));
  console.table(rows.map((r) => ({ case: r.label, 'req/s': Math.round(r.rps), 'p50 ms': r.p50_ms.toFixed(3), 'p99 ms': r.p99_ms.toFixed(3), 'ratio to baseline': r.ratio.toFixed(2) })));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${name}.json`, JSON.stringify({ at: new Date().toISOString(), requests: REQUESTS, concurrency: CONCURRENCY, rows }, null, 2));
}

const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
try {
  if (only('auth')) {
    const config = loadConfig({ env: BENCH_ENV, flags: { data_dir: dataDir } });
    const { runtime, created } = await openRuntime(config, { initialize: true });
    const app = await buildApp(runtime);
    const authorization = `Basic ${Buffer.from(`${created!.token.id}:${created!.secret}`).toString('base64')}`;
    const baseline = await measure('GET /healthz (baseline)', () => app.inject({ url: '/healthz' }), 200);
    const authed = await measure('GET /v2/ with Basic auth', () => app.inject({ url: '/v2/', headers: { authorization } }), 200);
    report('credential-check', [baseline, authed]);

    // /token for a customer with a license, against a bare sign-only endpoint.
    const caller = ownerCaller(runtime.operator, { name: 'bench', source: 'bench' });
    const customer = await createCustomer(runtime, caller, { name: 'globex' });
    await createLicense(runtime, caller, { customer: customer.id, repositories: 'acme/app' });
    const tok = await createToken(runtime, caller, { type: 'customer', name: 'bench', customer: customer.id });
    const customerAuth = `Basic ${Buffer.from(`${tok.token.id}:${tok.secret}`).toString('base64')}`;
    const url = '/token?service=portcullis&scope=repository:acme/app:pull';
    const bare = Fastify();
    const key = runtime.keys.current();
    const storedHash = hashSecret(runtime.pepper, tok.secret);
    bare.get('/token', async (request, reply) => {
      const basic = parseBasicAuthorization(request.headers.authorization);
      if (!basic || !verifySecret(runtime.pepper, basic.password, storedHash)) return reply.code(401).send();
      const iat = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ iss: 'portcullis', sub: basic.user, aud: 'portcullis', exp: iat + 300, nbf: iat, iat, jti: String(iat), access: [{ type: 'repository', name: 'acme/app', actions: ['pull'] }] })
        .setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: key.kid })
        .sign(key.privateKey);
      return { token, access_token: token, expires_in: 300, issued_at: new Date(iat * 1000).toISOString() };
    });
    const signOnly = await measure('bare Basic check + jose sign (baseline)', () => bare.inject({ url, headers: { authorization: customerAuth } }), 200);
    const issued = await measure('GET /token, customer with a license', () => app.inject({ url, headers: { authorization: customerAuth } }), 200);
    report('token-issuance', [signOnly, issued]);
    await bare.close();
    await app.close();
    await runtime.close();
  }

  // The built-in registry against docker-registry, real servers on loopback.
  if (only('registry')) {
    const registryRows = await benchRegistry();
    console.table(registryRows);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/builtin-registry.json', JSON.stringify({ at: new Date().toISOString(), rows: registryRows }, null, 2));
  }

  // Gateway mode against its upstream, asked directly with a token of the same key.
  if (only('gateway')) {
    const gatewayRows = await benchGateway();
    console.table(gatewayRows);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/gateway.json', JSON.stringify({ at: new Date().toISOString(), rows: gatewayRows }, null, 2));
  }

  // The same /token and HEAD figures with a million tokens in the store, on SQLite and PostgreSQL.
  if (only('large-store')) await benchLargeStore(measure, { requests: REQUESTS, concurrency: CONCURRENCY });

  // One instance against two on PostgreSQL and Redis, real processes under autocannon.
  if (only('scale-out')) {
    const scaleRows = await benchScaleOut();
    console.table(scaleRows);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/scale-out.json', JSON.stringify({ at: new Date().toISOString(), seconds: Number(process.env.BENCH_SECONDS ?? 10), rows: scaleRows }, null, 2));
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
