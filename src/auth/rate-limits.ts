import { lockoutSubject } from '../core/client-address.js';
import type { Token } from '../core/model.js';
import { rateVerdict, reachesLockout, secondsUntilReset, type LockoutPolicy, type RateVerdict } from '../core/rate-window.js';
import type { RateCounterStore } from './rate-counter-store.js';

/** Token limits are requests per hour. */
export const TOKEN_WINDOW_MS = 3_600_000;

export interface RateLimitsDeps {
  counters: RateCounterStore;
  /** Requests per hour of a token without a limit of its own (tokens.default_rate_limit). */
  defaultLimit: number;
  lockout: LockoutPolicy;
  /** Dashboard logins per e-mail address ([dashboard] max_failed_logins); absent: none. */
  accountLockout?: AccountLockoutPolicy;
}

/** So many failed logins naming one account within the window refuse it until the window ends. */
export interface AccountLockoutPolicy {
  /** 0 turns it off. */
  maxFailures: number;
  windowMs: number;
}

/**
 * The two throttles every authenticating surface applies: a request budget
 * per token, counted only once the token is proven (so nobody can spend
 * another's budget by naming it), and a lockout of an address after too many
 * failed logins, checked before any credential is looked at. Dashboard logins
 * add a third, per account, against guessing from many addresses.
 */
export class RateLimits {
  constructor(private readonly deps: RateLimitsDeps) {}

  /** Counts one request of an authenticated token. */
  async countRequest(token: Pick<Token, 'id' | 'rateLimit'>, now: Date): Promise<RateVerdict> {
    const window = await this.deps.counters.hit(`token:${token.id}`, TOKEN_WINDOW_MS, now);
    return rateVerdict(token.rateLimit ?? this.deps.defaultLimit, window, now);
  }

  /** Seconds the address stays locked out, or undefined when it is not. */
  async lockedOut(ip: string, now: Date): Promise<number | undefined> {
    if (this.deps.lockout.maxFailures === 0) return undefined;
    const lock = await this.deps.counters.peek(`lockout:${lockoutSubject(ip)}`, now);
    return lock ? Math.max(1, secondsUntilReset(lock, now)) : undefined;
  }

  /**
   * Seconds logins naming `account` stay refused, or undefined. Keyed by what
   * was typed (a normalized e-mail), existing or not, so the answer is the same
   * for an account that does not exist.
   */
  async accountLockedOut(account: string, now: Date): Promise<number | undefined> {
    const policy = this.deps.accountLockout;
    if (!policy || policy.maxFailures === 0) return undefined;
    const failures = await this.deps.counters.peek(`login:${account}`, now);
    return failures && failures.count >= policy.maxFailures ? Math.max(1, secondsUntilReset(failures, now)) : undefined;
  }

  async failedAccountLogin(account: string, now: Date): Promise<void> {
    const policy = this.deps.accountLockout;
    if (!policy || policy.maxFailures === 0) return;
    await this.deps.counters.hit(`login:${account}`, policy.windowMs, now);
  }

  /** Counts a failed login from the address, and locks it out when that was one too many. */
  async failedLogin(ip: string, now: Date): Promise<void> {
    const { lockout, counters } = this.deps;
    if (lockout.maxFailures === 0) return;
    const subject = lockoutSubject(ip);
    const failures = await counters.hit(`login-failures:${subject}`, lockout.failureWindowMs, now);
    if (reachesLockout(lockout, failures)) await counters.hit(`lockout:${subject}`, lockout.lockoutMs, now);
  }
}
