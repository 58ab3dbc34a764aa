import { newEventId, type Random } from '../core/ids.js';
import type { UsageEvent } from '../core/model.js';
import type { Store } from '../store/store.js';
import { Journal } from '../store/journal.js';
import { WriteBehind } from '../store/write-behind.js';

export interface UsageRecorderOptions {
  store: Pick<Store, 'insertUsage'>;
  /** The live journal, in the data dir; `<journalPath>.flushing` holds the batch being written. */
  journalPath: string;
  random: Random;
  onError?: (err: unknown) => void;
}

/**
 * Records one usage event per manifest pull/push without making the request
 * wait on the database: each event is journalled at once (see Journal) and
 * written to the store in batches. insertUsage ignores ids it already has, so
 * a replay after a crash counts nothing twice.
 */
export class UsageRecorder extends WriteBehind {
  private pending: UsageEvent[] = [];
  private readonly store: Pick<Store, 'insertUsage'>;
  private readonly journal: Journal<UsageEvent>;
  private readonly random: Random;
  private readonly onError: (err: unknown) => void;

  constructor(options: UsageRecorderOptions) {
    super();
    this.store = options.store;
    this.random = options.random;
    this.onError = options.onError ?? (() => {});
    this.journal = new Journal(options.journalPath, parseUsageEvent, this.onError);
  }

  /** Events recorded and not yet written to the store. */
  get size(): number {
    return this.pending.length;
  }

  record(input: Omit<UsageEvent, 'id'>): UsageEvent {
    // One event the store refuses would hold back every batch after it: the address and agent are never missing.
    const event: UsageEvent = { id: newEventId(input.at, this.random), ...input, ip: input.ip ?? '', userAgent: input.userAgent ?? '' };
    this.journal.append(event);
    this.pending.push(event);
    return event;
  }

  /** Never rejects: a failure is reported to onError and the events wait for the next flush. */
  protected async writeBatch(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      this.journal.rotate();
      await this.store.insertUsage(batch);
    } catch (err) {
      // A `.flushing` left behind stays: the next rotate folds the live journal into it.
      this.pending = batch.concat(this.pending);
      this.onError(err);
      return;
    }
    this.journal.committed();
  }

  /**
   * Start-up, before the first record(): writes the events a previous process
   * journalled and did not get to remove, and removes the journal files.
   * Returns how many distinct events were replayed (some may have been in the
   * store already). Rejects when the store does; the files then stay.
   */
  async recover(): Promise<number> {
    await this.flushing;
    const events = new Map(this.journal.read().map((e) => [e.id, e]));
    await this.store.insertUsage([...events.values()]);
    this.journal.clear();
    return events.size;
  }
}

const str = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** One journal line back into an event; undefined for anything torn or foreign. */
export function parseUsageEvent(r: Record<string, unknown>): UsageEvent | undefined {
  if (!str(r.id) || !str(r.at) || !str(r.vendorId) || !str(r.tokenId) || !strOrNull(r.customerId)) return undefined;
  if ((r.action !== 'pull' && r.action !== 'push') || !str(r.repository) || !strOrNull(r.tag)) return undefined;
  if (!str(r.digest) || !str(r.ip) || !str(r.userAgent)) return undefined;
  const at = new Date(r.at);
  if (Number.isNaN(at.getTime())) return undefined;
  return {
    id: r.id,
    at,
    vendorId: r.vendorId,
    tokenId: r.tokenId,
    customerId: r.customerId,
    action: r.action,
    repository: r.repository,
    tag: r.tag,
    digest: r.digest,
    ip: r.ip,
    userAgent: r.userAgent,
  };
}
