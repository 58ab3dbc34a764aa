import type { Redis } from 'ioredis';
import type { RateCounterStore } from '../auth/rate-counter-store.js';
import { MemoryRateCounterStore } from '../auth/rate-counter-store.js';
import type { RateWindow } from '../core/rate-window.js';

/**
 * One hit, atomically: a window that has ended (by the caller's clock, which
 * every instance shares through NTP) starts again at 1. The key outlives its
 * window by a minute so that a caller whose clock runs a little behind Redis's
 * still finds it.
 */
const HIT = `
local now = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local reset = tonumber(redis.call('HGET', KEYS[1], 'r'))
if reset == nil or now >= reset then
  reset = now + windowMs
  redis.call('HSET', KEYS[1], 'c', 1, 'r', string.format('%d', reset))
  redis.call('PEXPIRE', KEYS[1], windowMs + 60000)
  return {1, string.format('%d', reset)}
end
return {redis.call('HINCRBY', KEYS[1], 'c', 1), string.format('%d', reset)}
`;

interface RateCommands {
  portcullisRateHit(key: string, now: string, windowMs: string): Promise<[number, string]>;
}

/** Counters every instance shares: a token's hourly budget and a login lockout hold across the fleet. */
export class RedisRateCounterStore implements RateCounterStore {
  private readonly client: Redis & RateCommands;

  constructor(
    client: Redis,
    private readonly prefix: string,
  ) {
    // defineCommand sends the script once and EVALSHA afterwards.
    client.defineCommand('portcullisRateHit', { numberOfKeys: 1, lua: HIT });
    this.client = client as Redis & RateCommands;
  }

  async hit(key: string, windowMs: number, now: Date): Promise<RateWindow> {
    const [count, reset] = await this.client.portcullisRateHit(this.key(key), String(now.getTime()), String(windowMs));
    return { count: Number(count), resetAt: new Date(Number(reset)) };
  }

  async peek(key: string, now: Date): Promise<RateWindow | undefined> {
    const [count, reset] = await this.client.hmget(this.key(key), 'c', 'r');
    if (count === null || reset === null || now.getTime() >= Number(reset)) return undefined;
    return { count: Number(count), resetAt: new Date(Number(reset)) };
  }

  private key(key: string): string {
    return `${this.prefix}rate:${key}`;
  }
}

/**
 * The shared counters, or this process's own while they cannot be reached: a
 * Redis outage loosens limits to one instance's share for its duration rather
 * than refusing every request. `onFailure` hears of the first failure of each
 * outage only, so the log is not flooded.
 */
export class FallbackRateCounterStore implements RateCounterStore {
  private failing = false;

  constructor(
    private readonly shared: RateCounterStore,
    private readonly onFailure: (err: unknown) => void,
    private readonly local: RateCounterStore = new MemoryRateCounterStore(),
  ) {}

  hit(key: string, windowMs: number, now: Date): Promise<RateWindow> {
    return this.either((s) => s.hit(key, windowMs, now));
  }

  peek(key: string, now: Date): Promise<RateWindow | undefined> {
    return this.either((s) => s.peek(key, now));
  }

  private async either<T>(call: (store: RateCounterStore) => Promise<T>): Promise<T> {
    try {
      const value = await call(this.shared);
      this.failing = false;
      return value;
    } catch (err) {
      if (!this.failing) this.onFailure(err);
      this.failing = true;
      return call(this.local);
    }
  }
}
