import type { Config } from '../config/schema.js';
import { parseDuration } from '../core/duration.js';
import { invalid } from '../core/errors.js';
import { dueExpiryWarnings, type ExpiryWarning } from '../core/expiry-warnings.js';
import type { Customer, Vendor } from '../core/model.js';
import type { Store } from '../store/store.js';
import type { ExpiryNotice, Notifier } from './notifier.js';
import { WebhookNotifier } from './webhook.js';

/**
 * A claim older than this whose warning was never marked sent belongs to a
 * round that died; another round takes it over. Well above the webhook's
 * timeout, so a slow but live sender is never doubled.
 */
export const CLAIM_LEASE_MS = 5 * 60_000;

export interface ExpiryRoundDeps {
  store: Store;
  now: () => Date;
  config: Readonly<Config>;
}

/**
 * sent: delivered and recorded. failed: the notifier refused; the claim was
 * released so the next round tries again. skipped: another round (instance)
 * holds the claim. due: a dry run's answer.
 */
export type ExpiryOutcome = 'sent' | 'failed' | 'skipped' | 'due';

export interface ExpiryRoundEntry {
  notice: ExpiryNotice;
  outcome: ExpiryOutcome;
  error?: string;
}

export interface ExpiryRoundResult {
  dryRun: boolean;
  entries: ExpiryRoundEntry[];
}

/** The webhook when one is configured; undefined means warnings cannot be sent. */
export function notifierFromConfig(config: Readonly<Config>): Notifier | undefined {
  const { webhook_url: url, webhook_secret: secret } = config.notifications;
  return url ? new WebhookNotifier({ url, secret }) : undefined;
}

/**
 * One check over every vendor: find what is due, and for each warning claim
 * it in the store first (the (object, end) key lets one instance win), send
 * it, then record it as sent; a failed send releases the claim.
 */
export async function runExpiryRound(deps: ExpiryRoundDeps, notifier: Notifier | undefined, options: { dryRun?: boolean } = {}): Promise<ExpiryRoundResult> {
  const dryRun = options.dryRun ?? false;
  if (!dryRun && !notifier) {
    throw invalid('no notifier is configured: set notifications.webhook_url (PORTCULLIS_NOTIFICATIONS_WEBHOOK_URL) to send expiry warnings', 'notifications.webhook_url');
  }
  const now = deps.now();
  const due = await findDue(deps.store, now, deps.config);
  const entries: ExpiryRoundEntry[] = [];
  for (const notice of due) {
    if (dryRun || !notifier) {
      entries.push({ notice, outcome: 'due' });
      continue;
    }
    entries.push(await deliver(deps, notifier, notice));
  }
  return { dryRun, entries };
}

async function deliver(deps: ExpiryRoundDeps, notifier: Notifier, notice: ExpiryNotice): Promise<ExpiryRoundEntry> {
  const w = notice.warning;
  const at = deps.now();
  const claimed = await deps.store.claimExpiryWarning(w, at, new Date(at.getTime() - CLAIM_LEASE_MS));
  if (!claimed) return { notice, outcome: 'skipped' };
  try {
    await notifier.notify(notice, at);
  } catch (err) {
    await deps.store.releaseExpiryWarning(w.objectId, w.endsAt);
    return { notice, outcome: 'failed', error: err instanceof Error ? err.message : String(err) };
  }
  await deps.store.markExpiryWarningSent(w.objectId, w.endsAt, deps.now());
  return { notice, outcome: 'sent' };
}

async function findDue(store: Store, now: Date, config: Readonly<Config>): Promise<ExpiryNotice[]> {
  const warnBefore = parseDuration(config.notifications.warn_before, 'notifications.warn_before');
  if (!warnBefore) throw invalid('notifications.warn_before must be longer than 0', 'notifications.warn_before');
  const sent = (await store.listExpiryWarnings(now)).filter((r) => r.sentAt !== null);
  const notices: ExpiryNotice[] = [];
  for (const vendor of await store.listVendors()) {
    const tokens = await store.listTokens(vendor.id, { status: 'active' });
    const licenses = await store.listLicenses(vendor.id, { status: 'active' });
    const warnings = dueExpiryWarnings({ tokens, licenses, now, warnBefore, sent });
    if (warnings.length === 0) continue;
    const customers = new Map((await store.listCustomers(vendor.id)).map((c) => [c.id, c]));
    for (const warning of warnings) notices.push(await noticeOf(store, vendor, customers, warning));
  }
  return notices.sort((a, b) => a.warning.endsAt.getTime() - b.warning.endsAt.getTime() || a.warning.objectId.localeCompare(b.warning.objectId));
}

async function noticeOf(store: Store, vendor: Vendor, customers: Map<string, Customer>, warning: ExpiryWarning): Promise<ExpiryNotice> {
  const id = warning.customerId;
  const customer = id === null ? undefined : (customers.get(id) ?? (await store.getCustomer(vendor.id, id, true)));
  return {
    warning,
    vendor: { id: vendor.id, name: vendor.name },
    customer: id === null ? null : { id, name: customer?.name ?? id },
  };
}
