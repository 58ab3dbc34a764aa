/**
 * Request counting in fixed windows. A window opens at a key's first hit and
 * lasts windowMs, rather than starting on clock boundaries, so that tokens do
 * not all get their quota back in the same second.
 */

export interface RateWindow {
  /** Hits counted in this window, the current one included. */
  count: number;
  resetAt: Date;
}

/** The window after one more hit at `now`: the current one counted up, or a fresh one once it has ended. */
export function countHit(current: RateWindow | undefined, windowMs: number, now: Date): RateWindow {
  if (current === undefined || !isOpen(current, now)) return { count: 1, resetAt: new Date(now.getTime() + windowMs) };
  return { count: current.count + 1, resetAt: current.resetAt };
}

export function isOpen(window: RateWindow, now: Date): boolean {
  return now.getTime() < window.resetAt.getTime();
}

/** Whole seconds until the window ends, rounded up: a client that waits this long is never early. */
export function secondsUntilReset(window: RateWindow, now: Date): number {
  return Math.max(0, Math.ceil((window.resetAt.getTime() - now.getTime()) / 1000));
}

/** What the X-RateLimit-* headers say, and whether the request may go on. */
export interface RateVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** The verdict on the request that made `window` what it is. */
export function rateVerdict(limit: number, window: RateWindow, now: Date): RateVerdict {
  return {
    allowed: window.count <= limit,
    limit,
    remaining: Math.max(0, limit - window.count),
    resetSeconds: secondsUntilReset(window, now),
  };
}

/** Brute-force protection: so many failed logins from one address within a window lock it out for a while. */
export interface LockoutPolicy {
  /** 0 turns the lockout off. */
  maxFailures: number;
  failureWindowMs: number;
  lockoutMs: number;
}

/** Whether the failure just counted into `failures` locks its address out. */
export function reachesLockout(policy: LockoutPolicy, failures: RateWindow): boolean {
  return policy.maxFailures > 0 && failures.count >= policy.maxFailures;
}
