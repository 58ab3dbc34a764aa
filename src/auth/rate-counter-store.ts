import { countHit, isOpen, type RateWindow } from '../core/rate-window.js';

/**
 * Where request and failed-login counts live. Async so that a shared store
 * (Redis, for several instances) can implement it; every call names `now`, so
 * the store never reads a clock of its own.
 */
export interface RateCounterStore {
  /** Counts one hit on `key` and answers its window; a window that has ended starts again at 1. */
  hit(key: string, windowMs: number, now: Date): Promise<RateWindow>;
  /** The key's open window, without counting; undefined when it has none. */
  peek(key: string, now: Date): Promise<RateWindow | undefined>;
}

export interface MemoryRateCounterOptions {
  /** Most keys held at once; past it the oldest windows go first. */
  maxKeys?: number;
  /** How often (by the `now` of the calls) ended windows are swept out. */
  sweepEveryMs?: number;
}

/**
 * One process's counters in a Map. Memory stays bounded: ended windows are
 * swept out regularly, and beyond maxKeys the windows opened longest ago are
 * dropped (a Map iterates in insertion order, and a window that restarts is
 * inserted again).
 */
export class MemoryRateCounterStore implements RateCounterStore {
  private readonly windows = new Map<string, RateWindow>();
  private readonly maxKeys: number;
  private readonly sweepEveryMs: number;
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryRateCounterOptions = {}) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.sweepEveryMs = options.sweepEveryMs ?? 60_000;
  }

  get size(): number {
    return this.windows.size;
  }

  async hit(key: string, windowMs: number, now: Date): Promise<RateWindow> {
    if (now.getTime() - this.lastSweep >= this.sweepEveryMs) this.sweep(now);
    const current = this.windows.get(key);
    const next = countHit(current, windowMs, now);
    if (next.count === 1) {
      this.windows.delete(key);
      this.makeRoom(now);
    }
    this.windows.set(key, next);
    return { ...next };
  }

  async peek(key: string, now: Date): Promise<RateWindow | undefined> {
    const window = this.windows.get(key);
    return window && isOpen(window, now) ? { ...window } : undefined;
  }

  private sweep(now: Date): void {
    this.lastSweep = now.getTime();
    for (const [key, window] of this.windows) if (!isOpen(window, now)) this.windows.delete(key);
  }

  private makeRoom(now: Date): void {
    if (this.windows.size < this.maxKeys) return;
    this.sweep(now);
    // Freeing a tenth at once keeps a store full of open windows from sweeping on every new key.
    const target = Math.floor(this.maxKeys * 0.9);
    for (const key of this.windows.keys()) {
      if (this.windows.size <= target) break;
      this.windows.delete(key);
    }
  }
}
