import type { LastUsed, Store } from '../store/store.js';
import { WriteBehind } from '../store/write-behind.js';

/**
 * Collects "token X was used at T from IP" in memory and writes them in one
 * batch per interval, so that authenticating never waits on a database write.
 * Only the latest observation per token is kept; a failed flush keeps its
 * entries for the next one.
 */
export class LastUsedRecorder extends WriteBehind {
  private pending = new Map<string, LastUsed>();

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    super();
  }

  note(tokenId: string, at: Date, ip: string): void {
    const prev = this.pending.get(tokenId);
    if (!prev || prev.at <= at) this.pending.set(tokenId, { tokenId, at, ip });
  }

  get size(): number {
    return this.pending.size;
  }

  protected async writeBatch(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.store.recordLastUsed(batch);
    } catch (err) {
      for (const u of batch) this.note(u.tokenId, u.at, u.ip);
      this.onError(err);
    }
  }
}
