import { describe, expect, it } from 'vitest';
import { clientAddress, forwardedHops, forwardedHopsOf, xForwardedForHops } from './forwarded.js';
import { trustedProxies } from './trusted-proxies.js';

describe('xForwardedForHops', () => {
  it.each([
    ['one address', '203.0.113.9', ['203.0.113.9']],
    ['nearest first', '203.0.113.9, 10.0.0.2,10.0.0.3', ['10.0.0.3', '10.0.0.2', '203.0.113.9']],
    ['IPv4 with a port', '203.0.113.9:4711', ['203.0.113.9']],
    ['IPv6, bare and bracketed with a port', '2001:DB8::1, [2001:db8::2]:4711', ['2001:db8::2', '2001:db8::1']],
    ['IPv4-mapped IPv6 as IPv4', '::ffff:203.0.113.9', ['203.0.113.9']],
    ['unknown and garbage name no hop', 'garbage, unknown, 10.0.0.2', ['10.0.0.2', null, null]],
    ['an IPv4 address in brackets is not an address', '[203.0.113.9]', [null]],
    ['an empty element', '203.0.113.9,,10.0.0.2', ['10.0.0.2', null, '203.0.113.9']],
    ['a short IPv4 form is not an address', '10', [null]],
  ])('%s', (_name, header, hops) => {
    expect(xForwardedForHops(header)).toEqual(hops);
  });
});

describe('forwardedHops (RFC 7239)', () => {
  it.each([
    ['one element', 'for=192.0.2.60;proto=http;by=203.0.113.43', ['192.0.2.60']],
    ['names are case-insensitive', 'For=192.0.2.60', ['192.0.2.60']],
    ['quoted IPv6 with a port', 'for="[2001:db8:cafe::17]:4711"', ['2001:db8:cafe::17']],
    ['quoted IPv4 with a port', 'for="192.0.2.43:47011"', ['192.0.2.43']],
    ['several elements, nearest first', 'for=192.0.2.43, for="[2001:db8:cafe::17]", for=10.0.0.5', ['10.0.0.5', '2001:db8:cafe::17', '192.0.2.43']],
    ['spaces around the separators', 'for=192.0.2.43 ; proto=https ,  for=10.0.0.5', ['10.0.0.5', '192.0.2.43']],
    ['unknown', 'for=unknown, for=10.0.0.5', ['10.0.0.5', null]],
    ['an obfuscated node', 'for=_hidden, for="_SEVKISEK:4711"', [null, null]],
    ['an element without for=', 'proto=https;by=10.0.0.9', [null]],
    ['for= twice in one element', 'for=192.0.2.1;for=192.0.2.2', [null]],
    ['a quoted comma stays inside its element', 'for=10.0.0.5;host="a,b", for=10.0.0.6', ['10.0.0.6', '10.0.0.5']],
    ['an escaped quote inside a quoted string', 'host="a\\"b,c";for=10.0.0.5', ['10.0.0.5']],
    ['an unclosed quote on the left ends the list there', 'for="192.0.2.1, for=10.0.0.5, for="[2001:db8::9]"', ['2001:db8::9', '10.0.0.5', null]],
    ['an unclosed quote cannot reach into a later element', 'for="x, for=203.0.113.9', ['203.0.113.9', null]],
    ['a value that is not an address', 'for=example.com', [null]],
    ['a broken pair', 'for', [null]],
    ['empty list elements are skipped', 'for=10.0.0.5, , for=10.0.0.6', ['10.0.0.6', '10.0.0.5']],
    ['an unquoted IPv6 with brackets and a port is still read', 'for=[2001:db8::1]:80', ['2001:db8::1']],
  ])('%s', (_name, header, hops) => {
    expect(forwardedHops(header)).toEqual(hops);
  });

  it('reads a long hostile header in linear time', () => {
    const hostile = `${'"\\'.repeat(5000)}${'a=",'.repeat(2000)}, for=203.0.113.9`;
    const started = performance.now();
    expect(forwardedHops(hostile)[0]).toBe('203.0.113.9');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('forwardedHopsOf', () => {
  it('reads only the configured header, joining repeated ones', () => {
    expect(forwardedHopsOf('x-forwarded-for', undefined)).toEqual([]);
    expect(forwardedHopsOf('x-forwarded-for', ['203.0.113.9', '10.0.0.2'])).toEqual(['10.0.0.2', '203.0.113.9']);
    expect(forwardedHopsOf('forwarded', ['for=203.0.113.9', 'for=10.0.0.2'])).toEqual(['10.0.0.2', '203.0.113.9']);
  });
});

describe('clientAddress', () => {
  const trusted = trustedProxies(['10.0.0.0/8', '::1']);
  const xff = (header: string) => xForwardedForHops(header);

  it.each([
    ['an untrusted peer is the client, whatever it sends', '203.0.113.50', xff('198.51.100.1'), '203.0.113.50'],
    ['a trusted peer without a header is the client', '10.0.0.1', [], '10.0.0.1'],
    ['one trusted proxy', '10.0.0.1', xff('198.51.100.1'), '198.51.100.1'],
    ['what a client put left of its real address is ignored', '10.0.0.1', xff('127.0.0.1, 10.9.9.9, 198.51.100.1'), '198.51.100.1'],
    ['several trusted hops are skipped', '10.0.0.1', xff('198.51.100.1, 10.0.0.3, 10.0.0.2'), '198.51.100.1'],
    ['every hop trusted: the farthest is the client', '10.0.0.1', xff('10.0.0.4, 10.0.0.3'), '10.0.0.4'],
    ['a hop naming no address: the proxy that wrote it', '10.0.0.1', xff('198.51.100.1, unknown, 10.0.0.2'), '10.0.0.2'],
    ['a malformed nearest hop: the peer', '10.0.0.1', xff('not-an-address'), '10.0.0.1'],
    ['an IPv6 peer and client', '::1', forwardedHops('for="[2001:db8::7]:4711"'), '2001:db8::7'],
    ['an IPv4-mapped trusted peer', '::ffff:10.0.0.1', xff('198.51.100.1'), '198.51.100.1'],
    ['the peer is kept as the socket wrote it', '::ffff:203.0.113.50', xff('198.51.100.1'), '::ffff:203.0.113.50'],
    ['a broken Forwarded left of the proxy’s element', '10.0.0.1', forwardedHops('for="x, for=198.51.100.1'), '198.51.100.1'],
    ['a broken Forwarded from the trusted proxy itself: the peer', '10.0.0.1', forwardedHops('for="198.51.100.1'), '10.0.0.1'],
  ])('%s', (_name, peer, hops, expected) => {
    expect(clientAddress(peer, hops, trusted)).toBe(expected);
  });
});
