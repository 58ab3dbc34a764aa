import type { ErrorCode } from '../core/errors.js';

/** The one map from domain error code to HTTP status, title and the OCI code used on /v2. */
export const ERROR_CATALOGUE: Record<ErrorCode, { status: number; title: string; oci: string }> = {
  invalid_input: { status: 400, title: 'Bad request', oci: 'UNSUPPORTED' },
  not_found: { status: 404, title: 'Not found', oci: 'NAME_UNKNOWN' },
  conflict: { status: 409, title: 'Conflict', oci: 'UNSUPPORTED' },
  unauthenticated: { status: 401, title: 'Authentication required', oci: 'UNAUTHORIZED' },
  denied: { status: 403, title: 'Forbidden', oci: 'DENIED' },
  csrf_failed: { status: 403, title: 'CSRF token missing or wrong', oci: 'DENIED' },
  unsupported_media: { status: 415, title: 'Unsupported media type', oci: 'UNSUPPORTED' },
  rate_limited: { status: 429, title: 'Too many requests', oci: 'TOOMANYREQUESTS' },
  unavailable: { status: 503, title: 'Service unavailable', oci: 'UNAVAILABLE' },
};

/** /v2 and everything below it, but not /v2foo: those speak the OCI error envelope. */
export function isRegistryPath(url: string): boolean {
  return /^\/v2(?:[/?]|$)/.test(url);
}

/** The same words for every bad credential, so a response never tells whether a token exists. */
export const BAD_CREDENTIALS_MESSAGE = 'authentication required: missing or invalid credentials';

export interface OciErrorBody {
  errors: { code: string; message: string; detail: unknown }[];
}

export function ociError(code: string, message: string, detail: unknown = null): OciErrorBody {
  return { errors: [{ code, message, detail }] };
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  field?: string;
  instance?: string;
}

export function problem(code: ErrorCode | 'internal' | 'route_not_found', status: number, title: string, detail: string, field?: string): ProblemBody {
  return { type: `https://portcullis.dev/problems/${code.replace(/_/g, '-')}`, title, status, detail, code, ...(field ? { field } : {}) };
}
