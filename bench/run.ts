/**
 * npm run bench: figures are ratios to a baseline measured in the same run.
 * Now: the cost of a credential check on /v2/ against /healthz (no auth) through
 * the same in-process app, so the ratio isolates what authentication adds.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { buildApp } from '../src/http/app.js';
import { openRuntime } from '../src/runtime.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = 32;

async function measure(label: string, send: () => Promise<{ statusCode: number }>, expected: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) {
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
  return { label, rps: REQUESTS / seconds, p50_ms: pct(50), p99_ms: pct(99) };
}

const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
try {
  const config = loadConfig({ env: {}, flags: { data_dir: dataDir } });
  const { runtime, created } = await openRuntime(config, { initialize: true });
  const app = await buildApp(runtime);
  const authorization = `Basic ${Buffer.from(`${created!.token.id}:${created!.secret}`).toString('base64')}`;
  const baseline = await measure('GET /healthz (baseline)', () => app.inject({ url: '/healthz' }), 200);
  const authed = await measure('GET /v2/ with Basic auth', () => app.inject({ url: '/v2/', headers: { authorization } }), 200);
  await app.close();
  await runtime.close();
  const rows = [baseline, authed].map((r) => ({ ...r, ratio: r.rps / baseline.rps }));
  console.table(rows.map((r) => ({ case: r.label, 'req/s': Math.round(r.rps), 'p50 ms': r.p50_ms.toFixed(3), 'p99 ms': r.p99_ms.toFixed(3), 'ratio to baseline': r.ratio.toFixed(2) })));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/credential-check.json', JSON.stringify({ at: new Date().toISOString(), requests: REQUESTS, concurrency: CONCURRENCY, rows }, null, 2));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
