/**
 * Starts the real CNCF registry (Debian's `docker-registry`, distribution 2.8)
 * on 127.0.0.1 with its own config and storage in a temp dir. See
 * /work/shared/REGISTRY-NOTES.md for what this version accepts.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DOCKER_REGISTRY_BIN = '/usr/bin/docker-registry';

export interface DistributionOptions {
  /** Token auth; without it the registry is open to anyone. */
  auth?: {
    realm: string;
    /** Becomes the JWT `aud` the registry expects. */
    service: string;
    /** Must equal the JWT `iss`. */
    issuer: string;
    /** Path to a PEM file with at least one certificate. */
    rootCertBundle: string;
  };
  /** One notification endpoint that receives the registry's events. */
  notifications?: {
    url: string;
    /** Full Authorization header value, e.g. `Bearer SECRET`. */
    authorization?: string;
  };
  /** Storage redirects (distribution's `redirect` middleware): blob GETs answer 307 to baseurl + path. */
  redirectBaseUrl?: string;
  /** The port to listen on; default a free one. */
  port?: number;
  /** How long to wait for /v2/ to answer; default 10 s. */
  startTimeoutMs?: number;
}

export interface Distribution {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, as used in image references. */
  host: string;
  /** The registry's storage root. */
  dataDir: string;
  /** The registry's stdout and stderr so far (the last MAX_LOG_CHARS). */
  logs(): string;
  /** Stops the process and removes its temp dir; safe to call twice. */
  stop(): Promise<void>;
}

const MAX_LOG_CHARS = 256 * 1024;

/**
 * A port that was free a moment ago. Another process may grab it before the
 * caller binds it; acceptable for tests on one machine.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** The registry config; JSON is valid YAML, so no YAML writer is needed. */
function registryConfig(addr: string, dataDir: string, options: DistributionOptions): Record<string, unknown> {
  const config: Record<string, unknown> = {
    version: '0.1',
    log: { level: 'info', formatter: 'text' },
    storage: { filesystem: { rootdirectory: dataDir }, delete: { enabled: true } },
    http: { addr, secret: randomBytes(16).toString('hex') },
  };
  if (options.auth) {
    const { realm, service, issuer, rootCertBundle } = options.auth;
    config.auth = { token: { realm, service, issuer, rootcertbundle: rootCertBundle } };
  }
  if (options.redirectBaseUrl) {
    config.middleware = { storage: [{ name: 'redirect', options: { baseurl: options.redirectBaseUrl } }] };
  }
  if (options.notifications) {
    const { url, authorization } = options.notifications;
    config.notifications = {
      events: { includereferences: true },
      endpoints: [
        {
          name: 'portcullis',
          url,
          ...(authorization ? { headers: { Authorization: [authorization] } } : {}),
          timeout: '2s',
          threshold: 5,
          backoff: '1s',
        },
      ],
    };
  }
  return config;
}

/** The environment without REGISTRY_* variables, which would override the config file. */
function registryEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startDistribution(options: DistributionOptions = {}): Promise<Distribution> {
  const tempDir = mkdtempSync(join(tmpdir(), 'portcullis-registry-'));
  const dataDir = join(tempDir, 'data');
  const configPath = join(tempDir, 'config.yml');
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  writeFileSync(configPath, JSON.stringify(registryConfig(host, dataDir, options), null, 2));

  let log = '';
  const append = (chunk: string): void => {
    log = (log + chunk).slice(-MAX_LOG_CHARS);
  };
  const child = spawn(DOCKER_REGISTRY_BIN, ['serve', configPath], { env: registryEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8').on('data', append);
  child.stderr.setEncoding('utf8').on('data', append);
  let exitInfo: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.on('error', (err) => {
      exitInfo ??= `failed to start: ${err.message}`;
      resolve();
    });
    child.on('exit', (code, signal) => {
      exitInfo ??= `exited with ${code ?? signal}`;
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (!stopped) {
      stopped = true;
      if (exitInfo === null) {
        child.kill('SIGTERM');
        // The registry drains connections on SIGTERM; don't let a stuck one hang the suite.
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killTimer);
      }
    }
    rmSync(tempDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    if (exitInfo !== null) {
      await stop();
      throw new Error(`docker-registry ${exitInfo} before answering /v2/:\n${log}`);
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      // 401 is the expected answer with token auth: the registry is up either way.
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer ${url}/v2/ in time:\n${log}`);
    }
    await sleep(50);
  }

  return { url, host, dataDir, logs: () => log, stop };
}
