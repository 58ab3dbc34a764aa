import ipaddr from 'ipaddr.js';

/**
 * Loopback addresses, for local-only mode (auth.enabled = false): only callers
 * on this machine may use the registry then. A socket address and a configured
 * listen host are judged by the same rule.
 */

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x (::ffff:127.0.0.1): what a socket on this machine reports. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (typeof address !== 'string' || !ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'loopback';
}

/**
 * A listen address that only this machine can reach: a loopback address, or
 * `localhost` (which resolves to one). `0.0.0.0`, `::` and real addresses are not.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || isLoopbackAddress(h);
}
