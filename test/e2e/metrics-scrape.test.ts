/**
 * A real Prometheus scraping a real `serve`, configured as docs/deployment.md
 * says: the main port with `authorization: {type: Bearer, credentials_file}`,
 * and the separate `[metrics] listen` address without a token. A third job
 * without credentials shows the main port refusing it. Needs a built dist/
 * (npm run build) and the prometheus package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initDataDir, removeDataDir, runCliWithAsync, startServe, type Banner, type ServeProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/distribution.js';
import { describeE2E } from '../helpers/system-tools.js';

interface Target {
  labels: { job: string };
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

/** Polls `check` until it returns a value, or fails with the last thing it saw. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last error: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describeE2E('Prometheus scrapes a running serve', () => {
  let dataDir: string;
  let banner: Banner;
  let serve: ServeProcess;
  let promDir: string;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let mainUrl: string;
  let metricsPort: number;

  beforeAll(async () => {
    ({ dataDir, banner } = initDataDir());
    // serve runs in the data dir, so this is its ./portcullis.toml.
    writeFileSync(join(dataDir, 'portcullis.toml'), '[metrics]\nlisten = "127.0.0.1:0"\n');
    serve = startServe(dataDir, '--port', '0');
    const listening = JSON.parse(await serve.waitForLine(/"msg":"portcullis listening"/)) as { port: number };
    const metrics = JSON.parse(await serve.waitForLine(/"msg":"metrics listening"/)) as { host: string; port: number; require_token: boolean };
    expect(metrics).toMatchObject({ host: '127.0.0.1', require_token: false });
    mainUrl = `http://127.0.0.1:${listening.port}`;
    metricsPort = metrics.port;

    const created = await fetch(`${mainUrl}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${banner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'vendor', name: 'prometheus', scopes: 'admin:metrics:read' }),
    });
    expect(created.status).toBe(201);
    const { full_token: scrapeToken } = (await created.json()) as { full_token: string };

    promDir = mkdtempSync(join(tmpdir(), 'portcullis-prometheus-'));
    const tokenFile = join(promDir, 'portcullis-token');
    writeFileSync(tokenFile, `${scrapeToken}\n`, { mode: 0o600 });
    const target = (port: number) => [{ targets: [`127.0.0.1:${port}`] }];
    // JSON is YAML: the same keys as the scrape config in docs/deployment.md.
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s' },
      scrape_configs: [
        { job_name: 'main', authorization: { type: 'Bearer', credentials_file: tokenFile }, static_configs: target(listening.port) },
        { job_name: 'separate', static_configs: target(metricsPort) },
        { job_name: 'no-token', static_configs: target(listening.port) },
      ],
    };
    writeFileSync(join(promDir, 'prometheus.yml'), JSON.stringify(config));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn('/usr/bin/prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    prometheus.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(0, 10_000)));
    prometheus.on('exit', (code) => {
      if (code !== null && code !== 0) console.error(`prometheus exited ${code}: ${stderr}`);
    });
    await eventually('prometheus ready', async () => ((await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined));
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await serve?.stop();
    if (promDir) rmSync(promDir, { recursive: true, force: true });
    removeDataDir(dataDir);
  });

  it('scrapes the main port with the bearer token and the separate address without one; without a token the main port refuses', async () => {
    const targets = await eventually('every target scraped', async () => {
      const body = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as { data: { activeTargets: Target[] } };
      const byJob = Object.fromEntries(body.data.activeTargets.map((t) => [t.labels.job, t]));
      return ['main', 'separate', 'no-token'].every((job) => byJob[job] && byJob[job].health !== 'unknown') ? byJob : undefined;
    });
    expect(targets.main).toMatchObject({ health: 'up', lastError: '' });
    expect(targets.separate).toMatchObject({ health: 'up', lastError: '' });
    expect(targets['no-token']!.health).toBe('down');
    expect(targets['no-token']!.lastError).toMatch(/401/);

    // The main port counted the refused scrapes; the separate listener serves the same registry, so it shows them.
    const refusals = await eventually('refused scrapes counted', async () => {
      const query = encodeURIComponent('http_request_duration_seconds_count{job="separate",route="/metrics",status_code="401"}');
      const body = (await (await fetch(`${prometheusUrl}/api/v1/query?query=${query}`)).json()) as { data: { result: { value: [number, string] }[] } };
      const value = Number(body.data.result[0]?.value[1] ?? 0);
      return value > 0 ? value : undefined;
    });
    expect(refusals).toBeGreaterThan(0);

    const direct = await fetch(`${mainUrl}/metrics`);
    expect(direct.status).toBe(401);
    expect(direct.headers.get('www-authenticate')).toBe('Bearer realm="Portcullis metrics"');
  });
});

describeE2E('serve with a metrics.listen address it cannot bind', () => {
  let dataDir: string | undefined;
  let busy: Server | undefined;

  afterAll(async () => {
    await new Promise((r) => (busy ? busy.close(r) : r(undefined)));
    removeDataDir(dataDir);
  });

  it('exits 2 naming metrics.listen', async () => {
    ({ dataDir } = initDataDir());
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r));
    const address = busy.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const r = await runCliWithAsync(dataDir, { env: { PORTCULLIS_METRICS_LISTEN: `127.0.0.1:${port}` }, timeoutMs: 30_000 }, 'serve', '--port', '0');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^portcullis: cannot listen on 127\\.0\\.0\\.1:${port} \\(metrics\\.listen\\): EADDRINUSE\\n$`));
  });
});
