import { invalid } from './errors.js';
import { isValidRepositoryName } from './repo-pattern.js';

/**
 * The rules of gateway mode that need no I/O: which headers cross the proxy
 * in each direction, how the upstream's own URLs are made relative, and what a
 * notification from the upstream says has changed.
 */

/**
 * Request headers passed to the upstream. Authorization is never among them:
 * the upstream gets Portcullis' service token instead of the client's
 * credential, and X-Forwarded-* would let a client pick the URLs it builds.
 */
export const FORWARDED_REQUEST_HEADERS = ['accept', 'range', 'content-type', 'content-length', 'content-range', 'if-none-match', 'user-agent'] as const;

/** Response headers passed back to the client; hop-by-hop and upstream-internal ones stay behind. */
export const RELAYED_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'docker-content-digest',
  'docker-upload-uuid',
  'etag',
  'last-modified',
  'cache-control',
  'location',
  'range',
  'oci-subject',
  'oci-filters-applied',
  'retry-after',
] as const;

export type HeaderValue = string | string[] | undefined;

/** The named headers that are present, as single strings (joined when repeated). */
export function pickHeaders(headers: Record<string, HeaderValue>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Written as an absolute http(s) URL with a host: the only kind of Location that may leave the site. */
const ABSOLUTE_HTTP_URL = /^https?:\/\/[^/\\]/i;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * The upstream builds absolute URLs from the Host it was sent (its own), so a
 * Location on the upstream's origin becomes a relative one the client resolves
 * against Portcullis. Any other absolute http(s) URL is a redirect to storage
 * (S3, a CDN) and passes, normalised, as an absolute URL: the client fetches
 * the bytes from there. Whatever else the upstream writes is a path on the
 * upstream, and the path given to the client always starts with exactly one
 * slash: `http://up//evil.example/x` or `//evil.example/x` must not become a
 * protocol-relative reference to another host. Undefined: no usable URL (not
 * parseable, or another scheme), which the caller reports as the upstream's failure.
 */
export function clientLocation(location: string, upstreamOrigin: string): string | undefined {
  let url: URL;
  try {
    if (ABSOLUTE_HTTP_URL.test(location)) {
      url = new URL(location);
      if (url.origin !== new URL(upstreamOrigin).origin) return url.href;
    } else {
      if (HAS_SCHEME.test(location)) return undefined;
      url = new URL(location.replace(/^[/\\]+/, '/'), upstreamOrigin);
    }
  } catch {
    return undefined;
  }
  // Dot segments can bring back a leading `//` (`/.//evil.example`): collapse what the parser left.
  return `/${url.pathname.replace(/^\/+/, '')}${url.search}`;
}

/** `</v2/…?last=x&n=100>; rel="next"` → the URL of the next page, if any. */
export function nextPageUrl(link: HeaderValue): string | undefined {
  const value = Array.isArray(link) ? link.join(', ') : link;
  if (value === undefined) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(value);
  return m?.[1];
}

/** Notification actions that change what a repository's tags reach; pulls change nothing. */
const CHANGING_ACTIONS = new Set(['push', 'delete', 'mount']);

export interface NotificationSummary {
  /** Events in the envelope. */
  events: number;
  /** Repositories whose cached tags and graph must be dropped, sorted. */
  changed: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads distribution's notification envelope `{"events":[…]}`: each event has
 * an `action` and a `target.repository`. A malformed envelope is bad input;
 * an event with an unknown action is counted and otherwise ignored, so a newer
 * upstream cannot break the endpoint.
 */
export function summarizeNotification(body: unknown): NotificationSummary {
  if (!isRecord(body) || !Array.isArray(body.events)) throw invalid('a notification is a JSON object with an "events" array', 'events');
  const changed = new Set<string>();
  body.events.forEach((event: unknown, i) => {
    if (!isRecord(event) || typeof event.action !== 'string' || !isRecord(event.target)) {
      throw invalid(`events[${i}] needs an "action" and a "target" object`, 'events');
    }
    const repository = event.target.repository;
    if (typeof repository !== 'string' || !isValidRepositoryName(repository)) {
      throw invalid(`events[${i}].target.repository must be a repository name`, 'events');
    }
    if (CHANGING_ACTIONS.has(event.action)) changed.add(repository);
  });
  return { events: body.events.length, changed: [...changed].sort() };
}

export interface ResponseHead {
  statusCode: number;
  /** Lower-case names; a repeated header joined with ", ". */
  headers: Record<string, string>;
  /** Bytes of body that follow the head. */
  contentLength: number;
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;
// A CR not followed by LF (a CR at the very end may still get its LF), an LF without its CR, or a control character other than HTAB.
// eslint-disable-next-line no-control-regex
const HEAD_FAULT = /\r(?=[^\n])|(?<!\r)\n|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * What makes an HTTP/1.1 response head unreadable, or undefined: a bare CR or
 * LF, or another control character. Node's client refuses such an answer; a
 * reader that split lines on CRLF alone would let one through into a header
 * value (or wait forever for a CRLF CRLF that never comes). `text` may be the
 * start of a head still arriving.
 */
export function responseHeadFault(text: string): string | undefined {
  const m = HEAD_FAULT.exec(text);
  if (!m) return undefined;
  if (m[0] === '\r') return 'a bare CR';
  if (m[0] === '\n') return 'a bare LF';
  return `the control character U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * An HTTP/1.1 response head (the text before the blank line) that the blob
 * relay can stream on its own: a final status and a body delimited by
 * Content-Length. Anything else — an interim 1xx, a transfer coding, no or
 * conflicting lengths, a malformed line — is undefined, and the caller asks
 * again through Node's full HTTP client.
 */
export function parseResponseHead(text: string): ResponseHead | undefined {
  const [statusLine, ...lines] = text.split('\r\n');
  const status = STATUS_LINE.exec(statusLine ?? '');
  if (!status) return undefined;
  const statusCode = Number(status[1]);
  if (statusCode < 200) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).toLowerCase();
    if (!HEADER_NAME.test(name)) return undefined;
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  if (headers['transfer-encoding'] !== undefined) return undefined;
  const length = headers['content-length'];
  if (length === undefined) return statusCode === 204 || statusCode === 304 ? { statusCode, headers, contentLength: 0 } : undefined;
  if (!/^\d{1,15}$/.test(length)) return undefined;
  return { statusCode, headers, contentLength: Number(length) };
}
