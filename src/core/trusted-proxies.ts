import ipaddr from 'ipaddr.js';
import { invalid } from './errors.js';
import { quote } from './text.js';

/**
 * `[server] trusted_proxies`: the peers whose forwarding headers are believed.
 * Entries are single addresses or CIDR ranges, IPv4 or IPv6.
 */

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Whether `address` is one of the trusted peers. */
export type TrustedProxies = (address: string) => boolean;

/** An IPv4 or IPv6 address written out in full: not `10`, `0x0a.1` or `10.1`, which ipaddr.js would also read as IPv4. */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return undefined;
}

/**
 * The address as every consumer should see it: an IPv4-mapped IPv6 address
 * (what a dual-stack socket reports) as its IPv4 address, IPv6 in its short form.
 */
export function canonicalAddress(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) return (address as ipaddr.IPv6).toIPv4Address().toString();
  return address.toString();
}

/** One entry: an address (a range of one) or `address/prefix`; throws naming the entry. */
function parseEntry(entry: string, field: string): Range {
  const text = entry.trim();
  const slash = text.indexOf('/');
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) {
    throw invalid(`${quote(entry)} is not an IP address or CIDR range: expected an address such as 10.0.0.7 or ::1, or a range such as 10.0.0.0/8 or fd00::/8`, field);
  }
  const max = address.kind() === 'ipv4' ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const prefix = text.slice(slash + 1);
    bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
    if (!(bits >= 0 && bits <= max)) throw invalid(`${quote(entry)}: the prefix length after / must be a number from 0 to ${max}`, field);
  }
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8: sockets' mapped addresses are compared as IPv4 (canonicalAddress).
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

/** Checks one configured entry; throws invalid_input with the reason. */
export function validateTrustedProxy(entry: string, field = 'server.trusted_proxies'): void {
  parseEntry(entry, field);
}

/** The matcher for a configured list; nothing is trusted when it is empty. */
export function trustedProxies(entries: readonly string[], field = 'server.trusted_proxies'): TrustedProxies {
  const ranges = entries.map((e) => parseEntry(e, field));
  if (ranges.length === 0) return () => false;
  return (text) => {
    const parsed = parseAddress(text.replace(/%[^%]*$/, ''));
    if (!parsed) return false;
    const address = ipaddr.process(canonicalAddress(parsed));
    return ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
  };
}
