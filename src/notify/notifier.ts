import type { ExpiryWarning } from '../core/expiry-warnings.js';

/** A due warning with the names a human reader needs. */
export interface ExpiryNotice {
  warning: ExpiryWarning;
  vendor: { id: string; name: string };
  customer: { id: string; name: string } | null;
}

/**
 * A way of telling someone that a token or license is about to end. The
 * webhook is the first; e-mail joins it once SMTP exists. notify() resolves
 * only when the receiver took the notice, and throws (with a message safe to
 * log: no URL, no secret) when it did not, so the warning is tried again.
 */
export interface Notifier {
  readonly channel: string;
  notify(notice: ExpiryNotice, at: Date): Promise<void>;
}

/** A failed delivery; its message names the cause and nothing secret. */
export class NotifyError extends Error {
  override readonly name = 'NotifyError';
}

/** The JSON every channel describes a notice with (the webhook body as is). */
export function expiryPayload(notice: ExpiryNotice, at: Date) {
  const w = notice.warning;
  return {
    id: deliveryId(notice),
    event: w.event,
    at: at.toISOString(),
    vendor: notice.vendor,
    customer: notice.customer,
    object: { type: w.objectType, id: w.objectId, name: w.name },
    ends_at: w.endsAt.toISOString(),
    days_left: w.daysLeft,
  };
}

/** Stable per object and end, so a receiver can drop the rare repeat (a crash between sending and recording). */
export function deliveryId(notice: ExpiryNotice): string {
  return `${notice.warning.objectId}@${notice.warning.endsAt.toISOString()}`;
}
