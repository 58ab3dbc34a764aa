/**
 * Gateway mode against an upstream that answers with raw bytes a real
 * registry would not send: a TCP server from node:net writes each answer
 * verbatim and keeps its connection open, so a gateway that waits, hangs or
 * leaks the connection shows. A broken head is a 502 with an OCI error body
 * and the upstream's connection closed; a Location never sends the client
 * to another host unless the upstream wrote an absolute URL to one.
 */
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { auth } from '../helpers/oci-http.js';
import { listenLocally, startInstance, type TestInstance } from '../helpers/runtime.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const BLOB_PATH = `/v2/acme/app/blobs/${DIGEST}`;
const MANIFEST_PATH = '/v2/acme/app/manifests/1.0';
const DEADLINE_MS = 10_000;

interface UpstreamConnection {
  /** The request line Portcullis sent. */
  requestLine: string;
  /** Resolves when the connection is closed (by Portcullis: this side never closes it). */
  closed: Promise<void>;
}

/** An upstream that answers every request with `answer(port)`, verbatim, and never closes a connection itself. */
class RawUpstream {
  readonly connections: UpstreamConnection[] = [];
  answer: (port: number) => string = () => 'HTTP/1.1 500 Not Set\r\nContent-Length: 0\r\n\r\n';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      let closedNow!: () => void;
      const closed = new Promise<void>((resolve) => (closedNow = resolve));
      socket.on('close', () => {
        this.sockets.delete(socket);
        closedNow();
      });
      socket.on('error', () => undefined);
      let pending = '';
      socket.setEncoding('latin1');
      // Keep-alive: Node's client sends the next request on the same connection (these GETs have no body).
      socket.on('data', (chunk: string) => {
        pending += chunk;
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          this.connections.push({ requestLine: pending.slice(0, pending.indexOf('\r\n')), closed });
          pending = pending.slice(end + 4);
          socket.write(this.answer(this.port), 'latin1');
        }
      });
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** The connection of the last request, once Portcullis has closed it. */
  async lastClosed(): Promise<UpstreamConnection> {
    const last = this.connections.at(-1);
    if (!last) throw new Error('the upstream got no request');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the connection for ${last.requestLine} is still open after ${DEADLINE_MS} ms`)), DEADLINE_MS)));
    try {
      await Promise.race([last.closed, late]);
    } finally {
      clearTimeout(timer);
    }
    return last;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET over a real socket, redirects not followed; fails the test if no answer comes within the deadline. */
function get(port: number, path: string, authorization: string, accept?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { authorization, ...(accept ? { accept } : {}) }, timeout: DEADLINE_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to GET ${path} within ${DEADLINE_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function ociError(answer: Answer): { code: string; message: string } {
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(answer.body) as { errors: { code: string; message: string }[] };
  return body.errors[0]!;
}

describe('gateway mode against an upstream that sends malformed answers', () => {
  let upstream: RawUpstream;
  let inst: TestInstance;
  let app: FastifyInstance;
  let port: number;
  let authorization: string;

  beforeAll(async () => {
    upstream = new RawUpstream();
    await upstream.listen();
    inst = await startInstance(undefined, { PORTCULLIS_REGISTRY_UPSTREAM: `http://127.0.0.1:${upstream.port}` });
    app = await buildApp(inst.runtime);
    port = await listenLocally(app);
    authorization = auth(inst.bootstrap);
  });
  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
    await upstream?.close();
  });

  describe.each([
    ['a blob (the fast relay)', BLOB_PATH],
    ['a manifest (Node’s client)', MANIFEST_PATH],
  ])('%s', (_what, path) => {
    it.each([
      ['a bare LF inside a relayed header', 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\nX-Injected: 1\r\nContent-Length: 2\r\n\r\nok', /bare LF|HPE_CR_EXPECTED/],
      ['a bare CR inside a header', 'HTTP/1.1 200 OK\r\nX-Other: a\rSet-Cookie: x=y\r\nContent-Length: 2\r\n\r\nok', /bare CR|HPE_LF_EXPECTED/],
      ['LF-only line ends, and the connection left open', 'HTTP/1.1 200 OK\nContent-Type: application/octet-stream\nContent-Length: 2\n\nok', /bare LF|HPE_CR_EXPECTED/],
      ['a NUL in a header value', 'HTTP/1.1 200 OK\r\nContent-Type: a\u0000b\r\nContent-Length: 2\r\n\r\nok', /U\+0000|HPE_INVALID_HEADER_TOKEN/],
    ])('%s: 502 with an OCI error, and the upstream connection closed', async (_case, raw, why) => {
      upstream.answer = () => raw;
      const answer = await get(port, path, authorization);
      expect(answer.status, answer.body).toBe(502);
      const error = ociError(answer);
      expect(error.code).toBe('UNKNOWN');
      expect(error.message).toMatch(/the upstream registry's answer is not valid HTTP/);
      expect(error.message).toMatch(why);
      expect(answer.headers['x-injected']).toBeUndefined();
      expect(answer.headers['set-cookie']).toBeUndefined();
      const connection = await upstream.lastClosed();
      expect(connection.requestLine).toBe(`GET ${path} HTTP/1.1`);
    });
  });

  describe.each([
    ['a blob redirect (the fast relay)', BLOB_PATH],
    ['a manifest redirect (Node’s client)', MANIFEST_PATH],
  ])('the Location of %s', (_what, path) => {
    const redirect = (location: string) => `HTTP/1.1 307 Temporary Redirect\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`;

    it.each([
      ['its own URL with a doubled slash', (up: number) => `http://127.0.0.1:${up}//evil.example/x`, '/evil.example/x'],
      ['a protocol-relative reference', () => '//evil.example/x', '/evil.example/x'],
      ['a path that dot segments turn into //', (up: number) => `http://127.0.0.1:${up}/v2/../..//evil.example/x?y=1`, '/evil.example/x?y=1'],
      ['its own URL', (up: number) => `http://127.0.0.1:${up}/v2/acme/app/blobs/uploads/u-1?_state=s`, '/v2/acme/app/blobs/uploads/u-1?_state=s'],
      ['storage elsewhere, an absolute URL', () => 'https://bucket.s3.example.com/docker/registry/v2/blobs/x?X-Amz-Signature=abc%2Fdef', 'https://bucket.s3.example.com/docker/registry/v2/blobs/x?X-Amz-Signature=abc%2Fdef'],
    ])('%s', async (_case, location, expected) => {
      upstream.answer = (up) => redirect(location(up));
      const answer = await get(port, path, authorization);
      expect(answer.status, answer.body).toBe(307);
      expect(answer.headers.location).toBe(expected);
    });

    it('that is no http(s) URL is the upstream failing: 502', async () => {
      upstream.answer = () => redirect('javascript:alert(1)');
      const answer = await get(port, path, authorization);
      expect(answer.status, answer.body).toBe(502);
      expect(ociError(answer).message).toMatch(/with a Location that is no http\(s\) URL/);
      expect(answer.headers.location).toBeUndefined();
    });
  });

  it('still relays a well-formed blob answer', async () => {
    upstream.answer = () => 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nDocker-Content-Digest: sha256:x\r\nContent-Length: 5\r\n\r\nhello';
    const answer = await get(port, BLOB_PATH, authorization);
    expect(answer.status, answer.body).toBe(200);
    expect(answer.body).toBe('hello');
    expect(answer.headers['docker-content-digest']).toBe('sha256:x');
    // The relay asked for Connection: close and closes when the body is through.
    await upstream.lastClosed();
  });
});
