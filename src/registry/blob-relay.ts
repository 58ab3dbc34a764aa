import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { parseResponseHead, responseHeadFault, type ResponseHead } from '../core/upstream-proxy.js';

/**
 * The one hot path of gateway mode: a blob GET, from a plain-HTTP upstream to
 * the client. Node's HTTP client reads 64 KiB at a time and copies every body
 * chunk into a fresh buffer; at a gigabyte a second that per-chunk work is
 * what limits the gateway, and the garbage is what swells its memory. This
 * relay reads the upstream's answer into 1 MiB buffers from a fixed pool: a
 * buffer goes back to the pool when the client's socket has taken it, and the
 * upstream is paused while the pool is empty. So a blob streams near the speed
 * of the sockets, with backpressure both ways and a fixed amount of memory.
 *
 * Only what it can stream exactly is handled: a head with Content-Length. For
 * anything else `open` answers undefined before a byte reached the client, and
 * the caller asks again through Node's client. A head that is not valid HTTP
 * at all (a bare CR or LF, a control character) rejects with the code
 * MALFORMED_ANSWER, and the upstream's connection is closed.
 */

/** The error code of an upstream answer whose head breaks HTTP/1.1. */
export const MALFORMED_ANSWER = 'ERR_UPSTREAM_MALFORMED_ANSWER';

const BUFFER_BYTES = 1024 * 1024;
const POOL_BUFFERS = 8;
const SPARE_BYTES = 64 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const CONNECT_TIMEOUT_MS = 5_000;
const IDLE_TIMEOUT_MS = 300_000;

export interface RelayRequest {
  host: string;
  port: number;
  method: 'GET';
  path: string;
  headers: Record<string, string>;
}

export interface OpenRelay {
  head: ResponseHead;
  /** Streams the body to `res` (whose head the caller wrote); resolves when it was all sent or either side gave up. */
  pipeTo(res: ServerResponse): Promise<void>;
  /** Drops the relay without sending its body. */
  close(): void;
}

/** Header values that could smuggle a line break never reach the request line by line. */
function requestText(req: RelayRequest): string | undefined {
  const lines = [`${req.method} ${req.path} HTTP/1.1`, `Host: ${req.host}:${req.port}`, 'Connection: close'];
  for (const [name, value] of Object.entries(req.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) return undefined;
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Sends the request and reads the response head. Rejects with the socket's
 * error (code ECONNREFUSED, ETIMEDOUT…) when the upstream cannot be reached.
 */
export function openRelay(req: RelayRequest): Promise<OpenRelay | undefined> {
  const text = requestText(req);
  if (text === undefined || !/^\/[^\s]*$/.test(req.path)) return Promise.resolve(undefined);

  const free: Buffer[] = Array.from({ length: POOL_BUFFERS }, () => Buffer.allocUnsafe(BUFFER_BYTES));
  let headBytes: Buffer = Buffer.alloc(0);
  let head: ResponseHead | undefined;
  let remaining = 0;
  let target: ServerResponse | undefined;
  /** Body bytes that arrived with the head, or before a target was given. */
  const early: Buffer[] = [];
  let settleHead: (relay: OpenRelay | undefined) => void = () => undefined;
  let failHead: (err: Error) => void = () => undefined;
  let finish: () => void = () => undefined;
  let paused = false;
  let closed = false;

  /** Pool buffers go back; a spare is left to the garbage collector. */
  const release = (buffer: Buffer): void => {
    if (buffer.length === BUFFER_BYTES && free.length < POOL_BUFFERS) free.push(buffer);
    if (paused && !socket.destroyed) {
      paused = false;
      socket.resume();
    }
  };

  const forward = (chunk: Buffer, pooled: Buffer | undefined): void => {
    const body = chunk.length > remaining ? chunk.subarray(0, remaining) : chunk;
    remaining -= body.length;
    if (!target) {
      // Before pipeTo: keep a copy and give the buffer back at once.
      early.push(Buffer.from(body));
      if (pooled) release(pooled);
    } else if (body.length > 0) {
      target.write(body, () => pooled && release(pooled));
    } else if (pooled) {
      release(pooled);
    }
    if (remaining === 0) done();
  };

  const done = (): void => {
    if (target && !target.writableEnded) target.end();
    socket.destroy();
    finish();
  };

  const socket: Socket = connect({
    host: req.host,
    port: req.port,
    onread: {
      // Reading stops when the pool runs out (see below), but one more read may already be under way: it gets a small spare.
      buffer: () => free.pop() ?? Buffer.allocUnsafe(SPARE_BYTES),
      // Returning false pauses the socket: the pool is empty until the client takes a buffer.
      callback: (n: number, buffer: Uint8Array): boolean => {
        const pooled = buffer as Buffer;
        const chunk = pooled.subarray(0, n);
        if (head === undefined) {
          headBytes = Buffer.concat([headBytes, chunk]);
          release(pooled);
          const end = headBytes.indexOf('\r\n\r\n');
          // Checked as the head arrives: a head with bare LFs may never hold the CRLF CRLF that ends it.
          const fault = responseHeadFault(headBytes.subarray(0, end < 0 ? headBytes.length : end).toString('latin1'));
          if (fault !== undefined) {
            socket.destroy();
            failHead(Object.assign(new Error(`the upstream's answer has ${fault} in its head`), { code: MALFORMED_ANSWER }));
            return true;
          }
          if (end < 0) {
            if (headBytes.length > MAX_HEAD_BYTES) {
              socket.destroy();
              settleHead(undefined);
            }
            return true;
          }
          head = parseResponseHead(headBytes.subarray(0, end).toString('latin1'));
          if (head === undefined) {
            socket.destroy();
            settleHead(undefined);
            return true;
          }
          remaining = head.contentLength;
          const rest = headBytes.subarray(end + 4);
          settleHead(relay);
          if (rest.length > 0 || remaining === 0) forward(rest, undefined);
          return true;
        }
        forward(chunk, pooled);
        paused = free.length === 0;
        return !paused;
      },
    },
  });
  socket.setNoDelay(true);
  socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy(Object.assign(new Error('upstream socket idle too long'), { code: 'ETIMEDOUT' })));
  const connectTimer = setTimeout(() => socket.destroy(Object.assign(new Error('upstream connect timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
  socket.once('connect', () => clearTimeout(connectTimer));
  socket.on('error', (err) => {
    clearTimeout(connectTimer);
    if (head === undefined) failHead(err);
    // After the head the client already has a status: an unfinished body is all it can be told.
    else target?.destroy(err);
  });
  socket.on('close', () => {
    closed = true;
    clearTimeout(connectTimer);
    if (head === undefined) settleHead(undefined);
    else if (remaining > 0) target?.destroy(new Error('the upstream closed the connection before the end of the body'));
    finish();
  });
  socket.write(text);

  const relay: OpenRelay = {
    get head() {
      return head!;
    },
    pipeTo(res) {
      target = res;
      return new Promise<void>((resolve) => {
        finish = resolve;
        res.on('close', () => {
          // The client went away mid-blob: stop reading from the upstream too.
          if (remaining > 0) socket.destroy();
          resolve();
        });
        for (const chunk of early.splice(0)) res.write(chunk);
        if (remaining === 0) done();
        else if (closed) {
          res.destroy(new Error('the upstream closed the connection before the end of the body'));
          resolve();
        }
      });
    },
    close() {
      socket.destroy();
    },
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    settleHead = (value) => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    failHead = (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
  });
}
