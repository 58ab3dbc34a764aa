import { describe, expect, it } from 'vitest';
import { PortcullisError } from './errors.js';
import { trustedProxies, validateTrustedProxy } from './trusted-proxies.js';

describe('trustedProxies', () => {
  const trusted = trustedProxies(['10.0.0.0/8', '192.0.2.7', '::1', 'fd00::/8', '::ffff:172.16.0.0/108']);

  it.each([
    ['an address inside an IPv4 range', '10.20.30.40', true],
    ['the range edge', '10.255.255.255', true],
    ['just outside the range', '11.0.0.0', false],
    ['a single IPv4 address', '192.0.2.7', true],
    ['its neighbour', '192.0.2.8', false],
    ['an IPv4-mapped socket address inside an IPv4 range', '::ffff:10.1.2.3', true],
    ['IPv6 loopback', '::1', true],
    ['IPv6 loopback written out', '0:0:0:0:0:0:0:1', true],
    ['an IPv6 range', 'fd12:3456::1', true],
    ['outside the IPv6 range', 'fe80::1', false],
    ['an IPv6 address with a zone', 'fd00::1%eth0', true],
    ['a mapped range is an IPv4 range', '172.16.5.5', true],
    ['IPv4 loopback is not IPv6 loopback', '127.0.0.1', false],
    ['not an address', 'unknown', false],
    ['an empty string', '', false],
    ['a short IPv4 form', '10', false],
  ])('%s: %s', (_name, address, expected) => {
    expect(trusted(address)).toBe(expected);
  });

  it('trusts nothing when the list is empty', () => {
    const none = trustedProxies([]);
    expect(none('127.0.0.1')).toBe(false);
    expect(none('::1')).toBe(false);
  });

  it('trusts every address of 0.0.0.0/0 and ::/0, and IPv4 only from the first', () => {
    expect(trustedProxies(['0.0.0.0/0'])('203.0.113.9')).toBe(true);
    expect(trustedProxies(['0.0.0.0/0'])('2001:db8::1')).toBe(false);
    expect(trustedProxies(['::/0'])('2001:db8::1')).toBe(true);
  });
});

describe('validateTrustedProxy', () => {
  it.each(['10.0.0.0/8', '127.0.0.1', '::1', '2001:db8::/32', ' 10.1.2.3 ', '0.0.0.0/0', '10.1.2.3/32'])('accepts %s', (entry) => {
    expect(() => validateTrustedProxy(entry)).not.toThrow();
  });

  it.each([
    ['localhost', /"localhost" is not an IP address or CIDR range/],
    ['10.0.0', /not an IP address/],
    ['10', /not an IP address/],
    ['0x0a.0.0.1', /not an IP address/],
    ['10.0.0.0/33', /prefix length after \/ must be a number from 0 to 32/],
    ['fd00::/129', /from 0 to 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/8x', /prefix length/],
    ['10.0.0.0/-1', /prefix length/],
    ['', /not an IP address/],
    ['10.0.0.0/8, 192.0.2.1', /prefix length/],
  ])('refuses %j', (entry, message) => {
    let err: unknown;
    try {
      validateTrustedProxy(entry);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PortcullisError);
    expect((err as PortcullisError).message).toMatch(message);
    expect((err as PortcullisError).field).toBe('server.trusted_proxies');
  });
});
