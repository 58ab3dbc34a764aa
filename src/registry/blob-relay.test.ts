/**
 * The relay's own protocol handling, against small HTTP servers that answer
 * the ways a real registry does not (chunked, cut short): the end-to-end path
 * with docker-registry is in test/e2e/gateway.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openRelay, type RelayRequest } from './blob-relay.js';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

/** Serves `handler` on 127.0.0.1; `seen` gets each request it receives. */
async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** A front server that relays every request to `port` and answers with the relay's head and body. */
async function front(port: number, path = '/v2/a/blobs/x', headers: Record<string, string> = {}): Promise<number> {
  return upstream(async (_req, res) => {
    const relay = await openRelay({ host: '127.0.0.1', port, method: 'GET', path, headers });
    if (!relay) {
      res.writeHead(599).end('no relay');
      return;
    }
    res.writeHead(relay.head.statusCode, { 'content-length': String(relay.head.contentLength) });
    await relay.pipeTo(res);
  });
}

/** GETs a URL, reading slowly when asked; resolves with the status, the bytes and whether the body ended cleanly. */
function get(port: number, slow = false): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (slow) {
          res.pause();
          setTimeout(() => res.resume(), 1);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), complete: false }));
      res.on('aborted', () => undefined);
    })
      .on('error', reject)
      .end();
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('openRelay', () => {
  it('streams a body much larger than its pool exactly, to a slow reader', async () => {
    const blob = randomBytes(24 * 1024 * 1024);
    const port = await front(await upstream((_req, res) => res.writeHead(200, { 'content-length': String(blob.length) }).end(blob)));
    const got = await get(port, true);
    expect(got.status).toBe(200);
    expect(got.complete).toBe(true);
    expect(got.body.length).toBe(blob.length);
    expect(sha(got.body)).toBe(sha(blob));
  });

  it('sends the request it was given, with Connection: close and the headers', async () => {
    let seen: IncomingMessage | undefined;
    const up = await upstream((req, res) => {
      seen = req;
      res.writeHead(206, { 'content-length': '3', 'content-range': 'bytes 0-2/10' }).end('abc');
    });
    const got = await get(await front(up, '/v2/acme/app/blobs/sha256:x', { range: 'bytes=0-2', authorization: 'Bearer t' }));
    expect(got).toMatchObject({ status: 206, complete: true });
    expect(got.body.toString()).toBe('abc');
    expect(seen!.url).toBe('/v2/acme/app/blobs/sha256:x');
    expect(seen!.headers).toMatchObject({ range: 'bytes=0-2', authorization: 'Bearer t', connection: 'close' });
  });

  it('relays an answer without a body (a redirect)', async () => {
    const up = await upstream((_req, res) => res.writeHead(307, { location: 'https://storage/x', 'content-length': '0' }).end());
    const relay = await openRelay({ host: '127.0.0.1', port: up, method: 'GET', path: '/x', headers: {} });
    expect(relay!.head).toMatchObject({ statusCode: 307, contentLength: 0, headers: { location: 'https://storage/x' } });
    relay!.close();
  });

  it('leaves a chunked answer to the full client, before anything reached the client', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('part one');
      res.end('part two');
    });
    expect(await openRelay({ host: '127.0.0.1', port: up, method: 'GET', path: '/x', headers: {} })).toBeUndefined();
    const got = await get(await front(up));
    expect(got.status).toBe(599);
  });

  it.each<[string, Partial<RelayRequest>]>([
    ['a header value with a line break', { headers: { accept: 'x\r\nX-Injected: 1' } }],
    ['a path with a space', { path: '/v2/a b' }],
  ])('refuses %s without sending anything', async (_what, change) => {
    let requests = 0;
    const up = await upstream((_req, res) => {
      requests++;
      res.end();
    });
    expect(await openRelay({ host: '127.0.0.1', port: up, method: 'GET', path: '/x', headers: {}, ...change })).toBeUndefined();
    expect(requests).toBe(0);
  });

  it('cuts the client off when the upstream stops half-way, so it never takes a short body for a whole one', async () => {
    const up = await upstream((req, res) => {
      res.writeHead(200, { 'content-length': String(4 * 1024 * 1024) });
      res.write(Buffer.alloc(1024 * 1024, 1), () => req.socket.destroy());
    });
    const got = await get(await front(up));
    expect(got.status).toBe(200);
    expect(got.complete).toBe(false);
    expect(got.body.length).toBeLessThan(4 * 1024 * 1024);
  });

  it('stops reading from the upstream when the client goes away', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    let written = 0;
    const up = await upstream((req, res) => {
      res.writeHead(200, { 'content-length': String(1024 * 1024 * 1024) });
      req.socket.on('close', upstreamClosed);
      const chunk = Buffer.alloc(1024 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const port = await front(up);
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined).end();
    });
    await closed;
    // Backpressure held the upstream back, and the client's leaving ended its connection long before the gigabyte.
    expect(written).toBeLessThan(128 * 1024 * 1024);
  });

  it('rejects with the socket error when the upstream is not there', async () => {
    const up = await upstream(() => undefined);
    await new Promise((r) => servers.pop()!.close(r));
    await expect(openRelay({ host: '127.0.0.1', port: up, method: 'GET', path: '/x', headers: {} })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
