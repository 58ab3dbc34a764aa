import { describe, expect, it } from 'vitest';
import { issueRefreshToken, verifyRefreshToken } from './refresh-token.js';
import { random } from './secret-hash.js';

const pepper = new Uint8Array(32).fill(7);
const NOW = new Date('2026-11-24T12:00:00Z');

describe('refresh tokens', () => {
  it('round-trips the token id and the time of issue', () => {
    const rt = issueRefreshToken(pepper, 'vtok_abc', NOW, random);
    expect(rt).toMatch(/^rt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyRefreshToken(pepper, rt, NOW, null)).toEqual({ tokenId: 'vtok_abc', issuedAt: NOW });
  });

  it('two issues differ', () => {
    expect(issueRefreshToken(pepper, 'vtok_abc', NOW, random)).not.toBe(issueRefreshToken(pepper, 'vtok_abc', NOW, random));
  });

  it('another pepper, an altered payload or MAC is refused', () => {
    const rt = issueRefreshToken(pepper, 'vtok_abc', NOW, random);
    const [p, payload, mac] = rt.split('.') as [string, string, string];
    expect(verifyRefreshToken(new Uint8Array(32).fill(8), rt, NOW, null)).toBeUndefined();
    const forged = Buffer.from(JSON.stringify({ t: 'vtok_other', i: 1 })).toString('base64url');
    expect(verifyRefreshToken(pepper, `${p}.${forged}.${mac}`, NOW, null)).toBeUndefined();
    expect(verifyRefreshToken(pepper, `${p}.${payload}.${mac.slice(0, -2)}AA`, NOW, null)).toBeUndefined();
    expect(verifyRefreshToken(pepper, `rt2.${payload}.${mac}`, NOW, null)).toBeUndefined();
  });

  it.each(['', 'rt1', 'rt1..', 'rt1.a.b.c', 'x'.repeat(600), 'rt1.!!!.???'])('garbage %j is refused without throwing', (text) => {
    expect(verifyRefreshToken(pepper, text, NOW, null)).toBeUndefined();
  });

  it('a ttl ends it', () => {
    const rt = issueRefreshToken(pepper, 'vtok_abc', NOW, random);
    expect(verifyRefreshToken(pepper, rt, new Date(NOW.getTime() + 59_999), 60)).toBeDefined();
    expect(verifyRefreshToken(pepper, rt, new Date(NOW.getTime() + 60_000), 60)).toBeUndefined();
  });
});
