/**
 * Whether a browser request that a cookie authenticates came from the
 * dashboard's own origin. A cross-site page can make a browser send the
 * cookie with a form post, but the browser then says where the request came
 * from: `Sec-Fetch-Site` (cross-site, same-site) and `Origin`. Requests
 * without either come from a program, not a page, and cannot ride on a
 * victim's cookie.
 */
export function crossSiteRefusal(headers: { origin?: string; secFetchSite?: string }, publicOrigin: string): string | undefined {
  const site = headers.secFetchSite?.toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `refused a ${site} request: this accepts requests from its own pages only`;
  }
  if (headers.origin !== undefined && headers.origin !== publicOrigin) {
    return `refused a request from origin ${JSON.stringify(headers.origin.slice(0, 200))}: only ${publicOrigin} may send it (server.public_url)`;
  }
  return undefined;
}

/** A request body is JSON, or there is none: what every cookie-authenticated write must send. */
export function isJsonOrNoBody(contentType: string | undefined, hasBody: boolean): boolean {
  if (!hasBody && (contentType === undefined || contentType === '')) return true;
  return /^application\/json\s*(?:;|$)/i.test(contentType ?? '');
}
