import { describe, expect, it } from 'vitest';
import { countHit, rateVerdict, reachesLockout, secondsUntilReset, type LockoutPolicy, type RateWindow } from './rate-window.js';

const t0 = new Date('2026-11-24T12:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const HOUR = 3_600_000;
const win = (count: number, resetMs: number): RateWindow => ({ count, resetAt: at(resetMs) });

describe('countHit', () => {
  it.each<[string, RateWindow | undefined, number, RateWindow]>([
    ['opens a window at the first hit', undefined, 0, win(1, HOUR)],
    ['opens it where the first hit falls, not on a clock boundary', undefined, 1234, win(1, 1234 + HOUR)],
    ['counts up inside the window', win(1, HOUR), 10, win(2, HOUR)],
    ['keeps counting past any limit', win(1000, HOUR), HOUR - 1, win(1001, HOUR)],
    ['starts again at 1 exactly when the window ends', win(1000, HOUR), HOUR, win(1, 2 * HOUR)],
    ['starts again at 1 long after', win(5, HOUR), 10 * HOUR, win(1, 11 * HOUR)],
  ])('%s', (_name, current, nowMs, expected) => {
    expect(countHit(current, HOUR, at(nowMs))).toEqual(expected);
  });
});

describe('rateVerdict', () => {
  it.each<[string, number, RateWindow, number, { allowed: boolean; remaining: number; resetSeconds: number }]>([
    ['first request of 1000', 1000, win(1, HOUR), 0, { allowed: true, remaining: 999, resetSeconds: 3600 }],
    ['the 1000th request is still allowed, with 0 left', 1000, win(1000, HOUR), 0, { allowed: true, remaining: 0, resetSeconds: 3600 }],
    ['the 1001st is refused', 1000, win(1001, HOUR), 0, { allowed: false, remaining: 0, resetSeconds: 3600 }],
    ['remaining never goes below 0', 3, win(50, HOUR), 0, { allowed: false, remaining: 0, resetSeconds: 3600 }],
    ['reset rounds up a part second', 3, win(1, HOUR), 1, { allowed: true, remaining: 2, resetSeconds: 3600 }],
    ['reset in the window’s last millisecond is 1', 3, win(1, HOUR), HOUR - 1, { allowed: true, remaining: 2, resetSeconds: 1 }],
    ['reset half way', 3, win(4, HOUR), HOUR / 2, { allowed: false, remaining: 0, resetSeconds: 1800 }],
  ])('%s', (_name, limit, window, nowMs, expected) => {
    expect(rateVerdict(limit, window, at(nowMs))).toEqual({ limit, ...expected });
  });

  it('secondsUntilReset is 0 once the window has ended', () => {
    expect(secondsUntilReset(win(1, HOUR), at(HOUR + 5000))).toBe(0);
  });
});

describe('reachesLockout', () => {
  const policy: LockoutPolicy = { maxFailures: 3, failureWindowMs: 900_000, lockoutMs: 900_000 };
  it.each<[string, LockoutPolicy, number, boolean]>([
    ['below the maximum', policy, 2, false],
    ['at the maximum', policy, 3, true],
    ['above it (failures in flight together)', policy, 4, true],
    ['never when turned off', { ...policy, maxFailures: 0 }, 1000, false],
    ['a maximum of 1 locks at the first failure', { ...policy, maxFailures: 1 }, 1, true],
  ])('%s', (_name, p, count, expected) => {
    expect(reachesLockout(p, win(count, HOUR))).toBe(expected);
  });
});
