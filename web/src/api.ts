import type { Page } from './types';

/** An answer of the admin API that was not a success: `message` is the problem's detail, fit to show as is. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null = null,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

// The CSRF token of the current session, from the last GET/POST /api/v1/session. It lives in memory only:
// after a reload GET /api/v1/session hands it out again.
let csrfToken: string | null = null;
let sessionLost: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when an authenticated call answers 401: the session ended (expired, logged out elsewhere, user disabled). */
export function onSessionLost(handler: () => void): void {
  sessionLost = handler;
}

export interface CallOptions {
  /** A 401 is the expected answer here (login, the session probe), not a lost session. */
  expect401?: boolean;
}

export async function api<T>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError('could not reach the server: check the connection and try again', 0);
  }
  if (res.status === 401 && !options.expect401) {
    csrfToken = null;
    sessionLost();
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: a proxy's error page, say. Described by its status below.
  }
  if (!res.ok) {
    const problem = (data ?? {}) as { detail?: unknown; code?: unknown; field?: unknown };
    const detail = typeof problem.detail === 'string' && problem.detail ? problem.detail : `the server answered ${res.status} ${res.statusText}`.trim();
    throw new ApiError(detail, res.status, typeof problem.code === 'string' ? problem.code : null, typeof problem.field === 'string' ? problem.field : null);
  }
  return data as T;
}

/** A query string from the set values only: `?type=vendor&status=active`, or '' when none is set. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Every item of a list, following next_cursor (for the small lists that fill drop-downs and look-ups). */
export async function listAll<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const answer: Page<T> = await api<Page<T>>('GET', path + query({ ...params, limit: 500, cursor }));
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
