import type { FastifyInstance } from 'fastify';
import { PortcullisError, type ErrorCode } from '../core/errors.js';
import { ERROR_CATALOGUE } from '../http/error-catalogue.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface ApiResponse {
  status: number;
  contentType: string;
  body: string;
}

/** One request to the admin API, in-process or over HTTP. */
export type Transport = (method: string, path: string, body: unknown) => Promise<ApiResponse>;

interface Problem {
  code?: string;
  detail?: string;
  field?: string;
}

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * What the management commands speak: the admin API, whether the instance is
 * this data dir (in-process) or a remote one. Problems come back as the same
 * PortcullisErrors the services throw, so exit codes do not depend on where
 * the instance runs.
 */
export class ApiClient {
  constructor(
    private readonly transport: Transport,
    /** The instance's clock: the local runtime's, or this machine's for a remote. */
    readonly now: () => Date,
  ) {}

  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    const res = await this.raw(method, path, options);
    // 204 No Content (a delete, a logout) has no body to parse.
    return (res.body === '' ? undefined : JSON.parse(res.body)) as T;
  }

  /** The answer as text (CSV exports). */
  async text(path: string, query: Query): Promise<string> {
    return (await this.raw('GET', path, { query })).body;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  /** Every page of a list, or its first `max` items. */
  async all<T>(path: string, query: Query = {}, max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.get<{ items: T[]; next_cursor: string | null }>(path, { ...query, limit: Math.min(500, max - items.length), cursor });
      items.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor && items.length < max);
    return items;
  }

  private async raw(method: string, path: string, options: { query?: Query; body?: unknown }): Promise<ApiResponse> {
    const res = await this.transport(method, withQuery(path, options.query), options.body);
    if (res.status < 400) return res;
    let problem: Problem = {};
    try {
      problem = JSON.parse(res.body) as Problem;
    } catch {
      // Not ours (a proxy's HTML page): the status says enough.
    }
    const code = problem.code && problem.code in ERROR_CATALOGUE ? (problem.code as ErrorCode) : undefined;
    const detail = problem.detail ?? `the instance answered ${res.status}`;
    if (code) throw new PortcullisError(code, detail, problem.field);
    throw new Error(detail);
  }
}

/** The CLI's own instance: requests go through app.inject, never a socket. */
export function injectTransport(app: FastifyInstance): Transport {
  return async (method, path, body) => {
    const res = await app.inject({
      method: method as 'GET',
      url: path,
      ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: res.body };
  };
}

/** A remote instance over HTTP(S), authenticated with a vendor token. */
export function httpTransport(baseUrl: string, token: string): Transport {
  return async (method, path, body) => {
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new PortcullisError('unavailable', `cannot reach ${baseUrl}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
  };
}
