import { canonicalAddress, parseAddress, type TrustedProxies } from './trusted-proxies.js';

/**
 * The client address behind trusted proxies, from `X-Forwarded-For` or
 * `Forwarded` (RFC 7239). Each proxy appends the address it received the
 * request from, so the right end of the chain was written by the nearest
 * proxy and the left end by whoever sent the request first: possibly an
 * attacker. The chain is therefore read from the right, and nothing left of
 * the first hop that is not a trusted proxy is ever looked at.
 */

/** A hop as the header names it: a canonical address, or null when it gives none (`unknown`, an obfuscated name, no `for=`, a malformed entry). */
export type Hop = string | null;

export type ForwardingHeader = 'x-forwarded-for' | 'forwarded';

/** `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]` or `[::1]:80` as an address; anything else null. */
function nodeAddress(text: string): Hop {
  let host = text;
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) host = bracketed[1]!;
  else if (/^[\d.]+:\d{1,5}$/.test(text)) host = text.slice(0, text.indexOf(':'));
  const address = parseAddress(host);
  // A bracket holds IPv6 only.
  if (!address || (bracketed && address.kind() !== 'ipv6')) return null;
  return canonicalAddress(address);
}

/** X-Forwarded-For's hops, nearest first. */
export function xForwardedForHops(header: string): Hop[] {
  return header
    .split(',')
    .reverse()
    .map((part) => nodeAddress(part.trim()));
}

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * A quoted-string's end, scanning to the left from its closing quote at
 * `close`: the index of the opening quote, or -1 when there is none. A quote
 * after an odd run of backslashes is escaped (quoted-pair), as a reader
 * going left to right would also see it.
 */
function openingQuote(header: string, close: number): number {
  for (let i = close - 1; i >= 0; i--) {
    if (header[i] !== '"') continue;
    let slashes = 0;
    while (i - 1 - slashes >= 0 && header[i - 1 - slashes] === '\\') slashes++;
    if (slashes % 2 === 0) return i;
  }
  return -1;
}

/**
 * The `for=` value of one forwarded-element (`for=…;proto=…;by=…`), or null
 * when it has none or the element does not parse. An unquoted value with a
 * port or an IPv6 address breaks RFC 7239's token rule but is read anyway:
 * proxies write it, and the value still has to be an address.
 */
function forwardedFor(element: string): Hop {
  let found: string | undefined;
  let rest = element.trim();
  while (rest !== '') {
    const m = /^([^=;\s]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^;"\s]+)[ \t]*(?:;[ \t]*|$)/.exec(rest);
    if (!m || !TOKEN_RE.test(m[1]!)) return null;
    const value = m[2]!;
    if (m[1]!.toLowerCase() === 'for') {
      if (found !== undefined) return null;
      found = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
    }
    rest = rest.slice(m[0].length);
  }
  return found === undefined ? null : nodeAddress(found);
}

/**
 * Forwarded's hops, nearest first. The header is split into elements from
 * the right, quote-aware, so a client's broken prefix (an unclosed quote)
 * cannot swallow what the proxies appended after it: where the split
 * fails, the list ends with a null.
 */
export function forwardedHops(header: string): Hop[] {
  const hops: Hop[] = [];
  let end = header.length;
  let i = end - 1;
  while (i >= -1) {
    if (i >= 0 && header[i] === '"') {
      i = openingQuote(header, i);
      if (i < 0) {
        hops.push(null);
        return hops;
      }
      i--;
      continue;
    }
    if (i < 0 || header[i] === ',') {
      const element = header.slice(i + 1, end);
      // Empty list elements are allowed by the list syntax (`a, , b`) and name no hop.
      if (element.trim() !== '') hops.push(forwardedFor(element));
      end = i;
    }
    i--;
  }
  return hops;
}

/** The hops of the configured header, nearest first; none when the request has no such header. */
export function forwardedHopsOf(kind: ForwardingHeader, value: string | readonly string[] | undefined): Hop[] {
  if (value === undefined) return [];
  const header = typeof value === 'string' ? value : value.join(', ');
  return kind === 'forwarded' ? forwardedHops(header) : xForwardedForHops(header);
}

/**
 * The client: the socket peer unless it is a trusted proxy; then, walking the
 * hops from the nearest, the first one that is not trusted. A hop that names
 * no address ends the walk at the last address known, the proxy that wrote
 * it; if every hop is trusted, the farthest is the client.
 */
export function clientAddress(peer: string, hops: readonly Hop[], isTrusted: TrustedProxies): string {
  if (!isTrusted(peer)) return peer;
  let nearest = peer;
  for (const hop of hops) {
    if (hop === null) return nearest;
    if (!isTrusted(hop)) return hop;
    nearest = hop;
  }
  return nearest;
}
