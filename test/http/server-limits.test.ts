/**
 * The HTTP server's limits over real sockets: a body over the cap is a clean
 * 413 problem+json, a request head over max_header_bytes a 431, a client too
 * slow with its head (slowloris) is answered 408 and cut off, an idle
 * connection is closed, and a slow body is NOT cut by any of these.
 */
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { auth } from '../helpers/oci-http.js';
import { listenLocally, startInstance, type TestInstance } from '../helpers/runtime.js';

const HEADERS_TIMEOUT_MS = 600;
const IDLE_TIMEOUT_MS = 1500;
const KEEP_ALIVE_TIMEOUT_MS = 1000;

interface RawAnswer {
  /** Everything the server sent before it closed the connection. */
  text: string;
  /** Milliseconds from connecting until the server closed. */
  closedAfterMs: number;
}

/** Opens a socket, lets `talk` write to it, and collects what comes back until the server closes it. */
function raw(port: number, talk: (socket: Socket) => void, giveUpMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms; got: ${text.slice(0, 200)}`));
    }, giveUpMs);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => talk(socket));
  });
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

describe('server limits', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    inst = await startInstance('real-time', {
      PORTCULLIS_SERVER_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      PORTCULLIS_SERVER_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      PORTCULLIS_SERVER_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    });
    app = await buildApp(inst.runtime);
    port = await listenLocally(app);
  });
  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  it('configures Node with the [server] values, and no overall request timeout', () => {
    // Set from the createServer options, though @types/node does not declare it.
    expect((app.server as unknown as { maxHeaderSize?: number }).maxHeaderSize).toBe(16 * 1024);
    expect(app.server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
    expect(app.server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
    expect(app.server.timeout).toBe(IDLE_TIMEOUT_MS);
    expect(app.server.requestTimeout).toBe(0);
  });

  it('answers a JSON body over 1 MiB with 413 problem+json; on the admin API only once the credentials passed', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) });
    // Credentials come first: a stranger's body is never read, whatever its size.
    const stranger = await app.inject({ method: 'POST', url: '/api/v1/customers', headers: { 'content-type': 'application/json' }, payload: big });
    expect(stranger.statusCode).toBe(401);
    const admin = `Bearer ${inst.bootstrap.token.id}.${inst.bootstrap.secret}`;
    for (const [url, headers] of [['/api/v1/customers', { authorization: admin }], ['/token', {}]] as const) {
      const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: big });
      expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBe(413);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 413, code: 'invalid_input', title: expect.stringMatching(/Too Large/), detail: expect.stringMatching(/body/i) });
    }
  });

  it('refuses a body it will not read on arrival and closes the connection, rather than draining it', async () => {
    const LENGTH = 64 * 1024 * 1024;
    for (const [path, status] of [
      ['/api/v1/customers', 401],
      ['/api/v1/tokens', 401],
      ['/v2/acme/app/blobs/uploads/', 401],
      ['/api/v1/no-such-route', 404],
      ['/metrics', 404],
    ] as const) {
      let sent = 0;
      const answer = await raw(port, (socket) => {
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${LENGTH}\r\n\r\n`);
        const chunk = '['.repeat(64 * 1024);
        sent = chunk.length;
        socket.write(chunk);
        // Like a client that reads the early answer, then goes on sending: a server that drained would take all 64 MiB.
        socket.once('data', () => {
          const more = () => {
            if (socket.destroyed || socket.writableEnded || sent >= LENGTH) return;
            sent += chunk.length;
            if (socket.write(chunk)) setImmediate(more);
            else socket.once('drain', more);
          };
          more();
        });
      });
      expect(statusOf(answer.text), `${path}: ${answer.text.slice(0, 200)}`).toBe(status);
      expect(answer.text).toMatch(/\r\nconnection: close\r\n/i);
      expect(sent, path).toBeLessThan(LENGTH / 4);
    }
  });

  it('answers URLs the router cannot take in the shape of the surface asked, without repeating them', async () => {
    const badEscape = await app.inject({ url: '/v2/acme/%E0%A4%A/tags/list' });
    expect(badEscape.statusCode).toBe(400);
    expect(badEscape.json()).toEqual({ errors: [{ code: 'UNSUPPORTED', message: 'the URL holds a percent-escape that does not decode', detail: null }] });
    const api = await app.inject({ url: '/api/v1/customers/%zz%E0' });
    expect(api.statusCode).toBe(400);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(api.json()).toMatchObject({ code: 'invalid_input', status: 400 });
    const long = await app.inject({ url: `/api/v1/customers/${'c'.repeat(600)}` });
    expect(long.statusCode).toBe(414);
    expect(long.json()).toMatchObject({ code: 'invalid_input', status: 414, detail: 'a path segment is too long' });
  });

  it('answers a /token form over 64 KiB with 413 problem+json', async () => {
    const res = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=password&x=${'a'.repeat(70 * 1024)}` });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'invalid_input', status: 413 });
  });

  it('answers a request head over 16 KiB with 431 and closes the connection', async () => {
    const answer = await raw(port, (s) => s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`));
    expect(statusOf(answer.text), answer.text).toBe(431);
    // A large Authorization header under the limit is fine.
    const ok = await app.inject({ url: '/healthz', headers: { 'x-padding': 'a'.repeat(12 * 1024) } });
    expect(ok.statusCode).toBe(200);
  });

  it('cuts off a client that sends its request head too slowly (slowloris) with 408', async () => {
    const answer = await raw(port, (s) => {
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      // One more header line now and then, never the blank line that ends the head.
      const drip = setInterval(() => s.writable && s.write('X-Drip: 1\r\n'), 100);
      s.on('close', () => clearInterval(drip));
    });
    expect(statusOf(answer.text), answer.text).toBe(408);
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    // Node sweeps every half headers_timeout: the cut comes within 1.5 times it (plus scheduling slack).
    expect(answer.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS * 1.5 + 1000);
  });

  it('closes a connection on which nothing moves for idle_timeout_ms, even mid-body', async () => {
    const answer = await raw(port, (s) => s.write('POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type'));
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
    expect(answer.closedAfterMs).toBeLessThan(IDLE_TIMEOUT_MS + 2000);
  });

  it('closes an idle keep-alive connection after keep_alive_timeout_ms', async () => {
    const answer = await raw(port, (s) => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(statusOf(answer.text)).toBe(200);
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 50);
    expect(answer.closedAfterMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 2000);
  });

  it('lets a blob body that flows slowly run past every one of these limits', async () => {
    const authorization = auth(inst.bootstrap);
    const started = await app.inject({ method: 'POST', url: '/v2/acme/slow/blobs/uploads/', headers: { authorization } });
    expect(started.statusCode, started.body).toBe(202);
    const location = String(started.headers.location);
    const chunks = 6;
    const answer = await raw(port, (s) => {
      s.write(`PATCH ${location} HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${chunks * 1000}\r\nConnection: close\r\n\r\n`);
      let sent = 0;
      // A chunk every 400 ms: the body takes 2.4 s, longer than the head, idle and keep-alive timeouts.
      const drip = setInterval(() => {
        s.write('x'.repeat(1000));
        if (++sent === chunks) clearInterval(drip);
      }, 400);
      s.on('close', () => clearInterval(drip));
    });
    expect(statusOf(answer.text), answer.text.slice(0, 300)).toBe(202);
    expect(answer.closedAfterMs).toBeGreaterThan(Math.max(HEADERS_TIMEOUT_MS, IDLE_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS));
    expect(bodyOf(answer.text)).toBe('');
  });
});
