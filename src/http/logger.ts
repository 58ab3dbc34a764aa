import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Credentials reach the service in headers, form bodies and, by mistake, query
 * strings. Request lines are logged without headers, with the query's values
 * kept only for parameters known to carry none; these paths catch a header or
 * field that some code logs by hand.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'authorization',
  'password',
  'secret',
  'refresh_token',
  'access_token',
];

const CENSOR = '[redacted]';

/**
 * Query parameters of Portcullis' own routes whose values are names, digests,
 * scopes, filters or page positions, never credentials. (Explain's `token` is
 * not one: a full token pasted there would be a secret.)
 */
const LOGGED_QUERY_PARAMS = new Set([
  // /token
  'service', 'scope', 'account', 'client_id', 'offline_token',
  // /v2
  'n', 'last', 'digest', 'mount', 'from', 'artifactType',
  // /api/v1
  'tag', 'type', 'customer', 'status', 'repo', 'since', 'object', 'format', 'limit', 'cursor',
]);
// Short enough that neither a 32-character secret nor a full token passes for a parameter name.
const PARAM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,23}$/;

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * Paths that carry a credential in a segment: an invitation link's token,
 * which the dashboard's accept page looks up (GET /api/v1/invitations/TOKEN).
 */
const SECRET_PATH_SEGMENTS: readonly RegExp[] = [/^(\/api\/v1\/invitations\/)(?!accept(?:[/?]|$))[^/?]+/];

/**
 * The URL as logged: the path with credential segments replaced, and the
 * query with every value but those of LOGGED_QUERY_PARAMS replaced, since a
 * client may put a password anywhere.
 */
export function loggableUrl(rawUrl: string): string {
  const url = SECRET_PATH_SEGMENTS.reduce((u, re) => u.replace(re, `$1${CENSOR}`), rawUrl);
  const at = url.indexOf('?');
  if (at < 0) return url;
  const parts = url
    .slice(at + 1)
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = safeDecode(eq < 0 ? part : part.slice(0, eq));
      if (LOGGED_QUERY_PARAMS.has(name)) return part;
      return PARAM_NAME_RE.test(name) ? `${name}=${CENSOR}` : CENSOR;
    });
  return `${url.slice(0, at)}?${parts.join('&')}`;
}

interface LoggedRequest {
  method: string;
  url: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's request line without its `version` header echo, and with the query scrubbed. */
function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/**
 * Node's HTTP parse errors carry the raw request bytes (`rawPacket`),
 * Authorization header included; HTTP client errors may carry the headers sent.
 */
const ERROR_FIELDS_DROPPED = ['rawPacket', 'headers'];

function serializeError(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const serialized = pino.stdSerializers.err(err as Error) as unknown;
  // Anything not an Error comes back as given: copy it rather than edit the caller's object.
  const out = (serialized === err ? { ...err } : serialized) as Record<string, unknown>;
  for (const field of ERROR_FIELDS_DROPPED) delete out[field];
  return out;
}

export function logOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    serializers: { req: serializeRequest, err: serializeError },
  };
}

/** The service's JSON logger; Fastify adds a `reqId` to every line of a request. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return destination ? pino(logOptions(level), destination) : pino(logOptions(level));
}
