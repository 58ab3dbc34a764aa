import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import type { AccessEntry } from '../core/access.js';
import type { Random } from '../core/ids.js';
import { nextPageUrl } from '../core/upstream-proxy.js';
import { signRegistryToken } from '../auth/registry-jwt.js';
import type { KeyRing } from '../auth/signing-keys.js';
import { MALFORMED_ANSWER, openRelay, type OpenRelay } from './blob-relay.js';
import { readLimited } from './read-limited.js';

/**
 * The upstream registry of gateway mode, reached over a pool of keep-alive connections.
 * Every request carries a short-lived service JWT that Portcullis signs for
 * exactly the access that request needs; the upstream trusts no other issuer,
 * so it is useless without Portcullis in front.
 */

/** Why the upstream could not answer: down or unreachable (503), or broken (502). */
export class UpstreamError extends Error {
  constructor(
    readonly kind: 'unavailable' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export interface UpstreamOptions {
  /** The upstream's origin, e.g. http://127.0.0.1:5001. */
  url: string;
  /** The upstream's auth.token.service: the service tokens' `aud`. */
  service: string;
  issuer: string;
  keys: KeyRing;
  now: () => Date;
  random: Random;
  /** Connections kept to the upstream. */
  connections?: number;
}

export interface UpstreamRequest {
  method: string;
  /** Path and query, starting with /v2/. */
  path: string;
  headers?: Record<string, string>;
  body?: Readable | Buffer | null;
  /** What the service token grants for this request. */
  access: AccessEntry[];
  signal?: AbortSignal;
}

export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The body as it arrives; consume it, pipe it on, or discard() it. */
  body: IncomingMessage;
}

/** Service tokens live a minute and are reused for the first half of it. */
const SERVICE_TOKEN_TTL_S = 60;
const SERVICE_TOKEN_REUSE_S = 30;
const IDLE_TIMEOUT_MS = 300_000;
const CONNECT_TIMEOUT_MS = 5_000;
/** Whom the upstream's log shows as the caller. */
export const SERVICE_SUBJECT = 'portcullis-gateway';

export function repositoryAccess(name: string, ...actions: string[]): AccessEntry {
  return { type: 'repository', name, actions };
}

export const CATALOG_ACCESS: AccessEntry = { type: 'registry', name: 'catalog', actions: ['*'] };

/** Error codes of connection failures: the upstream is not there (503), as opposed to answering badly (502). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'ABORT_ERR']);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** An upstream answer that should be JSON; anything else is the upstream failing (502), not us (500). */
export function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new UpstreamError('failed', `the upstream's answer to ${what.split('?')[0]} is not JSON`);
  }
}

/**
 * A connection failure is the upstream being unavailable (503); an answer that
 * is not valid HTTP (Node's parser errors are HPE_*) is the upstream failing
 * (502); anything else stays what it is.
 */
function asUpstreamError(err: unknown): unknown {
  const code = errorCode(err);
  if (code !== undefined && UNREACHABLE.has(code)) return new UpstreamError('unavailable', `the upstream registry cannot be reached (${code})`);
  if (code === MALFORMED_ANSWER || code?.startsWith('HPE_')) {
    return new UpstreamError('failed', `the upstream registry's answer is not valid HTTP (${code === MALFORMED_ANSWER ? (err as Error).message : `${code}: ${(err as Error).message}`})`);
  }
  return err;
}

export class Upstream {
  readonly origin: string;
  private readonly target: URL;
  private readonly agent: HttpAgent;
  private readonly tokens = new Map<string, { jwt: string; renewAt: number }>();

  constructor(private readonly options: UpstreamOptions) {
    this.target = new URL(options.url);
    this.origin = this.target.origin;
    // Node's own client: its native parser streams large bodies with less CPU than a WASM one.
    const agentOptions = { keepAlive: true, maxSockets: options.connections ?? 64, maxFreeSockets: 16, scheduling: 'lifo' as const };
    this.agent = this.target.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  }

  /** A service JWT for `access`, reused while it has more than half its life left. */
  async serviceToken(access: AccessEntry[]): Promise<string> {
    const key = this.options.keys.current();
    const cacheKey = `${key.kid}\u0000${JSON.stringify(access)}`;
    const nowS = Math.floor(this.options.now().getTime() / 1000);
    const cached = this.tokens.get(cacheKey);
    if (cached && cached.renewAt > nowS) return cached.jwt;
    const jwt = await signRegistryToken(key, {
      issuer: this.options.issuer,
      subject: SERVICE_SUBJECT,
      audience: this.options.service,
      access,
      issuedAt: nowS,
      expiresAt: nowS + SERVICE_TOKEN_TTL_S,
      jti: Buffer.from(this.options.random(12)).toString('base64url'),
    });
    if (this.tokens.size >= 10_000) this.tokens.clear();
    this.tokens.set(cacheKey, { jwt, renewAt: nowS + SERVICE_TOKEN_REUSE_S });
    return jwt;
  }

  /**
   * One request; the response body is a stream the caller must consume or
   * destroy. Throws UpstreamError('unavailable') when the upstream cannot be
   * reached; any HTTP answer, 5xx included, is returned for the caller to judge.
   */
  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const jwt = await this.serviceToken(req.access);
    const options: RequestOptions = {
      protocol: this.target.protocol,
      hostname: this.target.hostname,
      port: this.target.port,
      method: req.method,
      path: req.path,
      headers: { ...req.headers, authorization: `Bearer ${jwt}` },
      agent: this.agent,
      // Idle time on the socket, not a limit on the whole transfer: big layers take as long as they take.
      timeout: IDLE_TIMEOUT_MS,
      ...(req.signal ? { signal: req.signal } : {}),
    };
    return new Promise((resolve, reject) => {
      const out = (this.target.protocol === 'https:' ? httpsRequest : httpRequest)(options);
      const timedOut = (what: string) => out.destroy(Object.assign(new Error(`upstream ${what}`), { code: 'ETIMEDOUT' }));
      out.on('timeout', () => timedOut('socket idle too long'));
      // A host that drops packets would otherwise hold the request for the kernel's whole SYN retry time.
      out.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => timedOut('connect timed out'), CONNECT_TIMEOUT_MS);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      out.on('response', (res) => resolve({ statusCode: res.statusCode ?? 502, headers: res.headers, body: res }));
      out.on('error', (err) => reject(asUpstreamError(err)));
      const body = req.body;
      if (body === undefined || body === null) out.end();
      else if (Buffer.isBuffer(body)) out.end(body);
      // pipeline: the client's upload flows at the pace the upstream takes it, and an abort on either side ends both.
      else pipeline(body, out, () => undefined);
    });
  }

  /**
   * A blob GET through the fast relay (see blob-relay.ts); undefined when the
   * relay does not apply (a TLS upstream, an answer it does not stream), and
   * the caller sends the request through send() instead.
   */
  async relay(req: Omit<UpstreamRequest, 'method' | 'body'>): Promise<OpenRelay | undefined> {
    if (this.target.protocol !== 'http:') return undefined;
    const jwt = await this.serviceToken(req.access);
    try {
      return await openRelay({
        host: this.target.hostname,
        port: Number(this.target.port || 80),
        method: 'GET',
        path: req.path,
        headers: { ...req.headers, authorization: `Bearer ${jwt}` },
      });
    } catch (err) {
      throw asUpstreamError(err);
    }
  }

  /**
   * A small JSON (or manifest) answer, read whole up to `limit` bytes.
   * Returns the status and, for 2xx, the body; a 5xx or a refusal of our own
   * token is an UpstreamError.
   */
  async fetch(req: UpstreamRequest, limit: number): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    const res = await this.send(req);
    const body = await readLimited(res.body, limit);
    if (body === undefined) throw new UpstreamError('failed', `the upstream's answer to ${req.method} ${req.path.split('?')[0]} is larger than ${limit} bytes`);
    this.judge(res.statusCode, req);
    return { status: res.statusCode, headers: res.headers, body };
  }

  /** 5xx, and 401/403 (the upstream does not trust our key: a configuration error), are the upstream's failures. */
  judge(status: number, req: Pick<UpstreamRequest, 'method' | 'path'>): void {
    const what = `${req.method} ${req.path.split('?')[0]}`;
    if (status >= 500) throw new UpstreamError('failed', `the upstream registry failed ${what} (HTTP ${status})`);
    if (status === 401 || status === 403) {
      throw new UpstreamError('failed', `the upstream registry refused Portcullis' service token for ${what} (HTTP ${status}): check its auth.token issuer, service and rootcertbundle`);
    }
  }

  /** Every name of a paginated list (`tags` or `repositories`), following Link headers. */
  async list(path: string, field: 'tags' | 'repositories', access: AccessEntry[]): Promise<string[] | undefined> {
    const names: string[] = [];
    let next: string | undefined = `${path}?n=1000`;
    for (let pages = 0; next !== undefined; pages++) {
      if (pages >= 10_000) throw new UpstreamError('failed', `the upstream's ${path} does not end`);
      const res = await this.fetch({ method: 'GET', path: next, access, headers: { accept: 'application/json' } }, 16 * 1024 * 1024);
      if (res.status === 404) return pages === 0 ? undefined : names;
      if (res.status !== 200) throw new UpstreamError('failed', `the upstream answered ${path} with HTTP ${res.status}`);
      const body = parseJson(res.body, path) as Record<string, unknown> | null;
      const page = body?.[field];
      if (page !== null && page !== undefined && !(Array.isArray(page) && page.every((x) => typeof x === 'string'))) {
        throw new UpstreamError('failed', `the upstream's ${path} holds no "${field}" list`);
      }
      names.push(...((page ?? []) as string[]));
      const link = nextPageUrl(res.headers.link);
      next = link === undefined ? undefined : new URL(link, this.origin).pathname + new URL(link, this.origin).search;
    }
    return names;
  }

  /** Readiness: the upstream answers /v2/ and accepts our token. */
  async ping(): Promise<void> {
    const res = await this.fetch({ method: 'GET', path: '/v2/', access: [], signal: AbortSignal.timeout(2_000) }, 64 * 1024);
    if (res.status !== 200) throw new UpstreamError('failed', `the upstream answered /v2/ with HTTP ${res.status}`);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

/** Lets go of a response body nobody will read; read to its end, the connection serves the next request. */
export function discard(body: IncomingMessage): void {
  body.on('error', () => undefined);
  body.resume();
}
