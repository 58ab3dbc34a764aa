import ipaddr from 'ipaddr.js';

/**
 * The unit a brute-force lockout applies to. An IPv6 host usually holds a
 * whole /64 and can pick a new address for every attempt, so IPv6 addresses
 * count by their /64; an IPv4-mapped IPv6 address (a dual-stack socket) counts
 * as its IPv4 address.
 */
export function lockoutSubject(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/64`).toString()}/64`;
}
