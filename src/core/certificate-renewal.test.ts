import { describe, expect, it } from 'vitest';
import { leafRenewal, renewalCheckIntervalMs } from './certificate-renewal.js';

const H = 3_600_000;
const WEEK = 7 * 24 * H;
const t0 = new Date('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
/** A leaf issued at t0 as ensureCertificate makes it: a minute back-dated, one lifetime long. */
const leaf = { notBefore: at(-60_000), notAfter: at(WEEK), matches: true };

describe('leafRenewal', () => {
  it('keeps a leaf until less than a third of its lifetime is left', () => {
    expect(leafRenewal(leaf, t0, WEEK)).toEqual({ due: false });
    expect(leafRenewal(leaf, at(WEEK - WEEK / 3), WEEK)).toEqual({ due: false });
    expect(leafRenewal(leaf, at(WEEK - WEEK / 3 + 1), WEEK)).toEqual({ due: true, reason: 'ending' });
    expect(leafRenewal(leaf, at(WEEK - 1), WEEK)).toEqual({ due: true, reason: 'ending' });
  });

  it('renews an expired, a not yet valid, a missing and a foreign leaf', () => {
    expect(leafRenewal(leaf, at(WEEK), WEEK)).toEqual({ due: true, reason: 'expired' });
    expect(leafRenewal(leaf, at(-61_000), WEEK)).toEqual({ due: true, reason: 'not_yet_valid' });
    expect(leafRenewal(undefined, t0, WEEK)).toEqual({ due: true, reason: 'missing' });
    expect(leafRenewal({ ...leaf, matches: false }, t0, WEEK)).toEqual({ due: true, reason: 'foreign' });
  });

  it('replaces a leaf that lasts longer than the lifetime now configured (the old 10-year leaves)', () => {
    const tenYears = { notBefore: at(-60_000), notAfter: at(3653 * 24 * H), matches: true };
    expect(leafRenewal(tenYears, t0, WEEK)).toEqual({ due: true, reason: 'too_long' });
    // A week shortened to a day: the week-long leaf is replaced at once.
    expect(leafRenewal(leaf, t0, 24 * H)).toEqual({ due: true, reason: 'too_long' });
    // The back-dated minute and a little clock skew are no reason.
    expect(leafRenewal({ ...leaf, notAfter: at(WEEK + 4 * 60_000) }, t0, WEEK)).toEqual({ due: false });
  });
});

describe('renewalCheckIntervalMs', () => {
  it('checks many times inside the renewal window: a 24th of the lifetime, from a minute to an hour', () => {
    expect(renewalCheckIntervalMs(WEEK)).toBe(H);
    expect(renewalCheckIntervalMs(12 * H)).toBe(30 * 60_000);
    expect(renewalCheckIntervalMs(H)).toBe(150_000);
    expect(renewalCheckIntervalMs(10 * 60_000)).toBe(60_000);
  });
});
