import { describe, expect, it } from 'vitest';
import { lockoutSubject } from './client-address.js';

describe('lockoutSubject', () => {
  it.each([
    ['IPv4 is itself', '203.0.113.7', '203.0.113.7'],
    ['IPv4-mapped IPv6 is the IPv4 address', '::ffff:203.0.113.7', '203.0.113.7'],
    ['IPv6 counts by its /64', '2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['another address of the same /64 is the same subject', '2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['the next /64 is another subject', '2001:db8:1:3::9', '2001:db8:1:3::/64'],
    ['IPv6 loopback', '::1', '::/64'],
    ['something that is not an address is kept as it is', 'unix-socket', 'unix-socket'],
    ['an empty address stays empty', '', ''],
  ])('%s', (_name, ip, expected) => {
    expect(lockoutSubject(ip)).toBe(expected);
  });
});
