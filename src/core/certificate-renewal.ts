/**
 * When the signing key's leaf certificate is renewed. Registries check the
 * x5c leaf's dates, so a short leaf bounds how long a rotated-out key stays
 * trusted; renewing it well before its end keeps an instance from an outage.
 */

export interface Leaf {
  notBefore: Date;
  notAfter: Date;
  /** Issued by the current instance CA for this very key. */
  matches: boolean;
}

export type RenewalReason =
  /** The key has no certificate from the instance CA (new key, new CA). */
  | 'missing'
  /** Its certificate is from another CA, or for another key. */
  | 'foreign'
  | 'expired'
  | 'not_yet_valid'
  /** Less than a third of its lifetime left. */
  | 'ending'
  /** It lasts longer than the configured lifetime (a leaf from before it was shortened). */
  | 'too_long';

export type RenewalDecision = { due: false } | { due: true; reason: RenewalReason };

/** A leaf may outlast the configured lifetime by this much (its notBefore is back-dated a minute for clock skew). */
const SLACK_MS = 5 * 60_000;

/**
 * leaf undefined: the key has no certificate at all. Renewal is
 * due when under a third of the lifetime remains, so a failing renewal is
 * retried (and reported) for that third before anything stops working.
 */
export function leafRenewal(leaf: Leaf | undefined, now: Date, lifetimeMs: number): RenewalDecision {
  if (leaf === undefined) return { due: true, reason: 'missing' };
  if (!leaf.matches) return { due: true, reason: 'foreign' };
  const t = now.getTime();
  if (t >= leaf.notAfter.getTime()) return { due: true, reason: 'expired' };
  if (t < leaf.notBefore.getTime()) return { due: true, reason: 'not_yet_valid' };
  const remaining = leaf.notAfter.getTime() - t;
  if (remaining < lifetimeMs / 3) return { due: true, reason: 'ending' };
  if (remaining > lifetimeMs + SLACK_MS) return { due: true, reason: 'too_long' };
  return { due: false };
}

/** How often `serve` looks: a 24th of the lifetime, between a minute and an hour, so the renewal window holds many tries. */
export function renewalCheckIntervalMs(lifetimeMs: number): number {
  return Math.min(3_600_000, Math.max(60_000, Math.floor(lifetimeMs / 24)));
}
