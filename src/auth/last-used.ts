import { Journal } from '../store/journal.js';
import type { LastUsed, Store } from '../store/store.js';
import { WriteBehind } from '../store/write-behind.js';

/** How fine last-used times are journalled: a crash may leave a token's time this much behind. */
const JOURNAL_RESOLUTION_MS = 1000;

/**
 * Collects "token X was used at T from IP" in memory and writes them in one
 * batch per interval, so that authenticating never waits on a database write.
 * Only the latest observation per token is kept; a failed flush keeps its
 * entries for the next one.
 *
 * With a journal, observations also survive a crash: a token's use is
 * journalled when it is new to the batch, or a second or more after the
 * journalled one, so a busy token costs one small append a second, not one
 * per request. recordLastUsed only ever moves a time forward, so replaying
 * the journal after a crash is harmless.
 */
export class LastUsedRecorder extends WriteBehind {
  private pending = new Map<string, LastUsed>();
  /** The time last journalled per token, in this batch. */
  private journalled = new Map<string, number>();
  private readonly journal: Journal<LastUsed> | undefined;

  constructor(
    private readonly store: Pick<Store, 'recordLastUsed'>,
    private readonly onError: (err: unknown) => void = () => {},
    journalPath?: string,
  ) {
    super();
    this.journal = journalPath === undefined ? undefined : new Journal(journalPath, parseLastUsed, onError);
  }

  note(tokenId: string, at: Date, ip: string): void {
    const prev = this.pending.get(tokenId);
    if (prev && prev.at > at) return;
    const entry = { tokenId, at, ip };
    this.pending.set(tokenId, entry);
    const last = this.journalled.get(tokenId);
    if (this.journal && (last === undefined || at.getTime() - last >= JOURNAL_RESOLUTION_MS || prev?.ip !== ip)) {
      this.journal.append(entry);
      this.journalled.set(tokenId, at.getTime());
    }
  }

  get size(): number {
    return this.pending.size;
  }

  protected async writeBatch(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.journalled = new Map();
    try {
      this.journal?.rotate();
      await this.store.recordLastUsed(batch);
    } catch (err) {
      for (const u of batch) if (!this.pending.has(u.tokenId) || this.pending.get(u.tokenId)!.at < u.at) this.pending.set(u.tokenId, u);
      this.onError(err);
      return;
    }
    this.journal?.committed();
  }

  /**
   * Start-up, before the first note(): writes what a previous process
   * journalled and did not get to write, then removes the journal files.
   * Returns how many tokens it updated. Rejects when the store does; the
   * files then stay.
   */
  async recover(): Promise<number> {
    if (!this.journal) return 0;
    await this.flushing;
    const latest = new Map<string, LastUsed>();
    for (const u of this.journal.read()) {
      const prev = latest.get(u.tokenId);
      if (!prev || prev.at <= u.at) latest.set(u.tokenId, u);
    }
    await this.store.recordLastUsed([...latest.values()]);
    this.journal.clear();
    return latest.size;
  }
}

function parseLastUsed(r: Record<string, unknown>): LastUsed | undefined {
  if (typeof r.tokenId !== 'string' || typeof r.at !== 'string' || typeof r.ip !== 'string') return undefined;
  const at = new Date(r.at);
  return Number.isNaN(at.getTime()) ? undefined : { tokenId: r.tokenId, at, ip: r.ip };
}
