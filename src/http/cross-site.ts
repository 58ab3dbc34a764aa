import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { crossSiteRefusal, isJsonOrNoBody } from '../core/cross-site.js';
import { PortcullisError } from '../core/errors.js';
import { hasBody } from './unread-body.js';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The origin the dashboard is served from: server.public_url's, or, with none
 * configured, the one the browser itself named in Host (a cross-site page
 * cannot choose the Host of a request to this server).
 */
function expectedOrigin(request: FastifyRequest, config: Readonly<Config>): { origin: string } | { host: string } {
  if (config.server.public_url) return { origin: new URL(config.server.public_url).origin };
  return { host: String(request.headers.host ?? '') };
}

function sameOrigin(given: string, expected: { origin: string } | { host: string }): boolean {
  if ('origin' in expected) return given === expected.origin;
  try {
    const url = new URL(given);
    return (url.protocol === 'http:' || url.protocol === 'https:') && expected.host !== '' && url.host === expected.host;
  } catch {
    return false;
  }
}

/**
 * Endpoints no web page has any business calling (/token is for registry
 * clients, /metrics for scrapers) refuse whatever a browser sends: a page,
 * even one that rebinds its own name to this server's address (where
 * Origin and Host then agree), would only spend failed guesses of its
 * visitor's address or read what it must not. Programs send neither header;
 * `Sec-Fetch-Site: none` is a person typing the URL.
 */
export function refuseBrowserPages(request: FastifyRequest, what: string): void {
  const site = request.headers['sec-fetch-site'];
  const fromPage = request.headers.origin !== undefined || (typeof site === 'string' && site.toLowerCase() !== 'none');
  if (fromPage) throw new PortcullisError('csrf_failed', `${what} is not for web pages: a request a browser sent from a page (Origin, Sec-Fetch-Site) is refused`);
}

/**
 * What a browser can be made to send across sites is refused before anything
 * else about the request is judged or counted: a request from another site
 * (Sec-Fetch-Site cross-site or same-site, or a foreign Origin) is 403
 * csrf_failed, and with `json` a write whose body is not JSON, the only kind
 * no HTML form can send, is 415. Programs (curl, registry clients, the CLI)
 * send neither header and pass.
 */
export function refuseCrossSite(request: FastifyRequest, config: Readonly<Config>, options: { json: boolean }): void {
  const origin = typeof request.headers.origin === 'string' ? request.headers.origin : undefined;
  const site = request.headers['sec-fetch-site'];
  const expected = expectedOrigin(request, config);
  const why = crossSiteRefusal(
    { origin: origin === undefined || sameOrigin(origin, expected) ? undefined : origin, secFetchSite: typeof site === 'string' ? site : undefined },
    'origin' in expected ? expected.origin : `this server (${expected.host})`,
  );
  if (why) throw new PortcullisError('csrf_failed', why);
  if (!options.json || SAFE_METHODS.has(request.method)) return;
  const type = request.headers['content-type'];
  if (!isJsonOrNoBody(type, hasBody(request))) {
    throw new PortcullisError('unsupported_media', `expected an application/json body, got ${type === undefined || type === '' ? 'no content type' : JSON.stringify(type.slice(0, 100))}`, 'content-type');
  }
}
