/**
 * The gateway's notification hook, POST /api/v1/upstream/events: the shared
 * secret is checked before the body is read (an unauthenticated caller costs
 * no parsing, and a big upload is cut off after the 401), bodies are capped
 * at 1 MiB like every other, wrong secrets count against the per-address
 * lockout, and the route exists in gateway mode only. The upstream's real
 * notifications are in test/e2e/gateway.test.ts.
 */
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { UPSTREAM_EVENTS_PATH } from '../../src/http/routes/upstream-events.js';
import { freePort } from '../helpers/distribution.js';
import { listenLocally, startInstance, type TestInstance } from '../helpers/runtime.js';

const SECRET = 'upstream-events-test-secret';
const EVENTS_TYPE = 'application/vnd.docker.distribution.events.v1+json';
const MAX_FAILED = 5;
const envelope = JSON.stringify({ events: [{ action: 'push', target: { repository: 'acme/app', tag: '1.0' } }] });

/** A gateway instance; nothing listens at the upstream's address, and this route never calls it. */
async function gateway(env: Record<string, string> = {}): Promise<{ inst: TestInstance; app: FastifyInstance }> {
  const inst = await startInstance(undefined, {
    PORTCULLIS_REGISTRY_UPSTREAM: `http://127.0.0.1:${await freePort()}`,
    PORTCULLIS_AUTH_MAX_FAILED_LOGINS: String(MAX_FAILED),
    ...env,
  });
  return { inst, app: await buildApp(inst.runtime) };
}

interface RawExchange {
  /** What the server sent. */
  text: string;
  /** Body bytes the client had written when the server's answer began. */
  sentBeforeAnswer: number;
  /** Whether the server closed the connection (rather than the client giving up). */
  closedByServer: boolean;
}

/**
 * Sends a POST head announcing `bodyBytes`, then streams the body in chunks
 * for as long as the connection takes them, and collects the answer until
 * the server closes the connection.
 */
function rawPost(port: number, authorization: string, bodyBytes: number, giveUpMs = 20_000): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    let sent = 0;
    let sentBeforeAnswer = -1;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms after ${sent} bytes; got: ${text.slice(0, 200)}`));
    }, giveUpMs);
    const pump = (): void => {
      while (sent < bodyBytes && !socket.destroyed && sentBeforeAnswer < 0) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      if (sentBeforeAnswer < 0) sentBeforeAnswer = sent;
      text += d;
    });
    // Writing into a connection the server has closed may fail: that is the expected end here.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, sentBeforeAnswer, closedByServer: text !== '' || sent < bodyBytes });
    });
    socket.on('connect', () => {
      socket.write(`POST ${UPSTREAM_EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nContent-Type: ${EVENTS_TYPE}\r\nContent-Length: ${bodyBytes}\r\n\r\n`);
      pump();
    });
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);

describe('POST /api/v1/upstream/events in gateway mode', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let port: number;
  const post = (authorization: string | undefined, payload: string, remoteAddress: string, contentType = EVENTS_TYPE) =>
    app.inject({ method: 'POST', url: UPSTREAM_EVENTS_PATH, headers: { 'content-type': contentType, ...(authorization === undefined ? {} : { authorization }) }, payload, remoteAddress });

  beforeAll(async () => {
    ({ inst, app } = await gateway({ PORTCULLIS_REGISTRY_NOTIFICATION_SECRET: SECRET }));
    port = await listenLocally(app);
  });
  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  it('takes a notification with the right secret', async () => {
    const res = await post(`Bearer ${SECRET}`, envelope, '192.0.2.1');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ events: 1, changed: ['acme/app'] });
  });

  it('answers a wrong or missing secret 401 without parsing the body: not JSON is still 401, not 400', async () => {
    for (const authorization of [undefined, 'Bearer wrong-secret-of-some-length', `Basic ${SECRET}`]) {
      const res = await post(authorization, '{not json at all', '192.0.2.2');
      expect(res.statusCode, `${authorization}: ${res.body}`).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      expect(res.json()).toMatchObject({ code: 'unauthenticated' });
      // Closed after the answer: the unread body is not drained.
      expect(res.headers.connection).toBe('close');
    }
    // An unsupported media type is not even looked at without the secret.
    expect((await post('Bearer wrong-secret-of-some-length', 'x', '192.0.2.2', 'text/plain')).statusCode).toBe(401);
    // With the right secret, the same body is parsed and refused as what it is.
    const parsed = await post(`Bearer ${SECRET}`, '{not json at all', '192.0.2.2');
    expect(parsed.statusCode).toBe(400);
    expect(parsed.json()).toMatchObject({ code: 'invalid_input' });
  });

  it('answers a body over 1 MiB 413, with the right secret too', async () => {
    const big = JSON.stringify({ events: [], padding: 'x'.repeat(2 * 1024 * 1024) });
    const res = await post(`Bearer ${SECRET}`, big, '192.0.2.3');
    expect(res.statusCode, res.body.slice(0, 200)).toBe(413);
    expect(res.json()).toMatchObject({ code: 'invalid_input', status: 413 });
  });

  it('answers an unauthenticated 16 MiB upload 401 at once over a real socket, and closes the connection instead of reading it', async () => {
    const total = 16 * 1024 * 1024;
    const exchange = await rawPost(port, 'Bearer wrong-secret-of-some-length', total);
    expect(statusOf(exchange.text), exchange.text.slice(0, 300)).toBe(401);
    expect(exchange.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(exchange.closedByServer).toBe(true);
    // The answer came long before the announced body had been sent.
    expect(exchange.sentBeforeAnswer).toBeGreaterThanOrEqual(0);
    expect(exchange.sentBeforeAnswer).toBeLessThan(total / 2);
    // The instance still answers.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('locks an address out after max_failed_logins wrong secrets: 429 with Retry-After, even for the right secret', async () => {
    const address = '192.0.2.50';
    for (let i = 0; i < MAX_FAILED; i++) {
      const res = await post(`Bearer wrong-guess-number-${i}`, envelope, address);
      expect(res.statusCode, `guess ${i}`).toBe(401);
    }
    for (const authorization of ['Bearer another-wrong-guess', `Bearer ${SECRET}`]) {
      const res = await post(authorization, envelope, address);
      expect(res.statusCode, res.body).toBe(429);
      expect(res.json()).toMatchObject({ code: 'rate_limited' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Another address is not affected, and requests without any credential are not counted as guesses.
    for (let i = 0; i < MAX_FAILED + 1; i++) expect((await post(undefined, envelope, '192.0.2.51')).statusCode).toBe(401);
    expect((await post(`Bearer ${SECRET}`, envelope, '192.0.2.51')).statusCode).toBe(200);
    // The lockout ends with lockout_duration.
    inst.clock.now = new Date(inst.clock.now.getTime() + 16 * 60_000);
    expect((await post(`Bearer ${SECRET}`, envelope, address)).statusCode).toBe(200);
  });
});

describe('POST /api/v1/upstream/events elsewhere', () => {
  it('answers 404 not_found in a gateway without a notification secret, before any body is read', async () => {
    const { inst, app } = await gateway();
    try {
      const res = await app.inject({ method: 'POST', url: UPSTREAM_EVENTS_PATH, headers: { 'content-type': EVENTS_TYPE, authorization: `Bearer ${SECRET}` }, payload: '{not json' });
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json()).toMatchObject({ code: 'not_found', detail: expect.stringMatching(/set registry\.notification_secret/) });
    } finally {
      await app.close();
      await inst.cleanup();
    }
  });

  it('is no route at all with the built-in registry, even with a secret configured', async () => {
    const inst = await startInstance(undefined, { PORTCULLIS_REGISTRY_NOTIFICATION_SECRET: SECRET });
    const app = await buildApp(inst.runtime);
    try {
      const res = await app.inject({ method: 'POST', url: UPSTREAM_EVENTS_PATH, headers: { 'content-type': EVENTS_TYPE, authorization: `Bearer ${SECRET}` }, payload: envelope });
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json()).toMatchObject({ code: 'route_not_found' });
      expect(app.printRoutes({ commonPrefix: false })).not.toContain('upstream');
    } finally {
      await app.close();
      await inst.cleanup();
    }
  });
});
