import type { LastUsed, Store } from '../store/store.js';

/**
 * Collects "token X was used at T from IP" in memory and writes them in one
 * batch per interval, so that authenticating never waits on a database write.
 * Only the latest observation per token is kept; a failed flush keeps its
 * entries for the next one.
 */
export class LastUsedRecorder {
  private pending = new Map<string, LastUsed>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  note(tokenId: string, at: Date, ip: string): void {
    const prev = this.pending.get(tokenId);
    if (!prev || prev.at <= at) this.pending.set(tokenId, { tokenId, at, ip });
  }

  get size(): number {
    return this.pending.size;
  }

  start(intervalMs: number): void {
    this.timer ??= setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    // One flush at a time: a slow database must not pile up overlapping writes.
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.store
      .recordLastUsed(batch)
      .catch((err: unknown) => {
        for (const u of batch) this.note(u.tokenId, u.at, u.ip);
        this.onError(err);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }
}
