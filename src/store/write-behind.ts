/**
 * A buffer that reaches the store in batches on a timer, so no request waits
 * on a database write. One batch at a time: a slow database must not pile up
 * overlapping writes; a flush asked for meanwhile joins the running one.
 */
export abstract class WriteBehind {
  private timer: NodeJS.Timeout | undefined;
  protected flushing: Promise<void> | undefined;

  /** Entries waiting for the next batch. */
  abstract get size(): number;

  /** Writes the pending entries; never rejects (a failure keeps them for the next batch). */
  protected abstract writeBatch(): Promise<void>;

  start(intervalMs: number): void {
    this.timer ??= setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.size === 0) return Promise.resolve();
    this.flushing = this.writeBatch().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }
}
