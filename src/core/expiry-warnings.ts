import { addDuration, type Duration } from './duration.js';
import type { License, Token } from './model.js';

export type ExpiringObjectType = 'token' | 'license';
export type ExpiryEvent = 'token.expiring' | 'license.expiring';

/** One warning that is due: something active that ends within warn_before and was not warned about for this end. */
export interface ExpiryWarning {
  event: ExpiryEvent;
  objectType: ExpiringObjectType;
  objectId: string;
  vendorId: string;
  /** null for vendor tokens. */
  customerId: string | null;
  /** The token's name or the license's (optional) name. */
  name: string | null;
  endsAt: Date;
  /** Days until endsAt, rounded up: 1 means within a day (a token made with `3d` reads 3 days, not 2.99). */
  daysLeft: number;
}

/**
 * A warning on record. While sentAt is null the row is a claim: some round is
 * sending it right now (or died doing so, which claimedAt lets others see).
 */
export interface ExpiryWarningRecord {
  objectType: ExpiringObjectType;
  objectId: string;
  vendorId: string;
  endsAt: Date;
  claimedAt: Date;
  sentAt: Date | null;
}

const DAY_MS = 86_400_000;

/**
 * The identity of a warning: the object and the end it warns about. Moving the
 * end makes a new identity, so a prolonged-then-ending-again license is warned
 * about again; repeating a round for the same end is not.
 */
export function expiryWarningKey(objectId: string, endsAt: Date): string {
  return `${objectId}@${endsAt.toISOString()}`;
}

export interface DueWarningsInput {
  tokens: readonly Token[];
  licenses: readonly License[];
  now: Date;
  warnBefore: Duration;
  /** Warnings already sent, by object and end. */
  sent: Iterable<{ objectId: string; endsAt: Date }>;
}

/** The warnings to send now, soonest end first. */
export function dueExpiryWarnings(input: DueWarningsInput): ExpiryWarning[] {
  const { now } = input;
  const horizon = addDuration(now, input.warnBefore).getTime();
  const sent = new Set<string>();
  for (const s of input.sent) sent.add(expiryWarningKey(s.objectId, s.endsAt));

  const due = (endsAt: Date | null, objectId: string): endsAt is Date =>
    endsAt !== null && endsAt.getTime() > now.getTime() && endsAt.getTime() <= horizon && !sent.has(expiryWarningKey(objectId, endsAt));
  const daysLeft = (endsAt: Date) => Math.ceil((endsAt.getTime() - now.getTime()) / DAY_MS);

  const out: ExpiryWarning[] = [];
  for (const t of input.tokens) {
    if (t.status !== 'active' || !due(t.expiresAt, t.id)) continue;
    out.push({
      event: 'token.expiring',
      objectType: 'token',
      objectId: t.id,
      vendorId: t.vendorId,
      customerId: t.customerId,
      name: t.name,
      endsAt: t.expiresAt,
      daysLeft: daysLeft(t.expiresAt),
    });
  }
  for (const l of input.licenses) {
    if (l.status !== 'active' || !due(l.validUntil, l.id)) continue;
    out.push({
      event: 'license.expiring',
      objectType: 'license',
      objectId: l.id,
      vendorId: l.vendorId,
      customerId: l.customerId,
      name: l.name,
      endsAt: l.validUntil,
      daysLeft: daysLeft(l.validUntil),
    });
  }
  return out.sort((a, b) => a.endsAt.getTime() - b.endsAt.getTime() || a.objectId.localeCompare(b.objectId));
}
