/**
 * Gateway mode for tests: a Portcullis instance whose /v2 fronts Debian's
 * docker-registry, which trusts only the instance's key (token auth with the
 * instance CA's bundle) and sends its notifications back to the instance.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { UPSTREAM_EVENTS_PATH } from '../../src/http/routes/upstream-events.js';
import { keyCertificateBundle } from '../../src/service/keys.js';
import { freePort, startDistribution, type Distribution } from './distribution.js';
import { startInstance, type TestInstance } from './runtime.js';

export const NOTIFICATION_SECRET = 'gateway-test-notification-secret';
export const UPSTREAM_SERVICE = 'portcullis-upstream';

export interface Gateway {
  inst: TestInstance;
  app: FastifyInstance;
  /** http://127.0.0.1:PORT of Portcullis. */
  url: string;
  /** 127.0.0.1:PORT of Portcullis, as used in image references. */
  host: string;
  registry: Distribution;
  /** Stops the registry, the app and the instance; safe to call twice. */
  stop(): Promise<void>;
}

export interface GatewayOptions {
  /** Extra PORTCULLIS_* settings. */
  env?: Record<string, string>;
  /** Let the registry redirect blob GETs to this base URL (its `redirect` storage middleware). */
  redirectBaseUrl?: string;
  /** Send the registry's notifications to Portcullis (default true). */
  notifications?: boolean;
}

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const upstreamPort = await freePort();
  const port = await freePort();
  const inst = await startInstance('real-time', {
    PORTCULLIS_REGISTRY_UPSTREAM: `http://127.0.0.1:${upstreamPort}`,
    PORTCULLIS_REGISTRY_NOTIFICATION_SECRET: NOTIFICATION_SECRET,
    ...options.env,
  });
  const work = mkdtempSync(join(tmpdir(), 'portcullis-gateway-'));
  let app: FastifyInstance | undefined;
  let registry: Distribution | undefined;
  const stop = async (): Promise<void> => {
    await registry?.stop();
    await app?.close();
    await inst.cleanup();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    app = await buildApp(inst.runtime);
    const url = await app.listen({ host: '127.0.0.1', port });
    const bundle = join(work, 'bundle.pem');
    writeFileSync(bundle, (await keyCertificateBundle(inst.runtime, inst.caller)).bundle);
    inst.runtime.keys.refresh(true);
    registry = await startDistribution({
      port: upstreamPort,
      // Clients never see the upstream's challenge: its realm is never followed.
      auth: { realm: `${url}/token`, service: UPSTREAM_SERVICE, issuer: inst.runtime.config.auth.issuer, rootCertBundle: bundle },
      ...(options.notifications === false ? {} : { notifications: { url: `${url}${UPSTREAM_EVENTS_PATH}`, authorization: `Bearer ${NOTIFICATION_SECRET}` } }),
      ...(options.redirectBaseUrl ? { redirectBaseUrl: options.redirectBaseUrl } : {}),
    });
    return { inst, app, url, host: new URL(url).host, registry, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
