import { afterAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { MemoryRateCounterStore } from '../../src/auth/rate-counter-store.js';
import { RateLimits } from '../../src/auth/rate-limits.js';
import { connectRedis } from '../../src/cache/redis-connection.js';
import { FallbackRateCounterStore, RedisRateCounterStore } from '../../src/cache/redis-rate-counter-store.js';
import { rateCounterStoreContract } from '../auth/rate-counter-contract.js';
import { adminRedis, describeRedis, freshPrefix, TEST_REDIS_URL } from '../helpers/redis.js';

const clients: Redis[] = [];
async function client(): Promise<Redis> {
  const c = await connectRedis(TEST_REDIS_URL, 'portcullis-test');
  clients.push(c);
  return c;
}
afterAll(async () => {
  for (const c of clients) c.disconnect();
});

describeRedis('RedisRateCounterStore', () => {
  rateCounterStoreContract('redis', async () => new RedisRateCounterStore(await client(), freshPrefix()));

  it('is one count for every instance: a limit of 10 holds across two clients', async () => {
    const prefix = freshPrefix();
    const limitsOf = async () => new RateLimits({ counters: new RedisRateCounterStore(await client(), prefix), defaultLimit: 1000, lockout: { maxFailures: 0, failureWindowMs: 1, lockoutMs: 1 } });
    const [a, b] = [await limitsOf(), await limitsOf()];
    const token = { id: 'tok1', rateLimit: 10 };
    const now = new Date();
    const verdicts = [];
    for (let i = 0; i < 12; i++) verdicts.push(await (i % 2 === 0 ? a : b).countRequest(token, now));
    expect(verdicts.map((v) => v.allowed)).toEqual([...Array(10).fill(true), false, false]);
    expect(verdicts[9]!.remaining).toBe(0);
  });

  it('a lockout made through one instance holds on the other', async () => {
    const prefix = freshPrefix();
    const lockout = { maxFailures: 3, failureWindowMs: 60_000, lockoutMs: 120_000 };
    const a = new RateLimits({ counters: new RedisRateCounterStore(await client(), prefix), defaultLimit: 10, lockout });
    const b = new RateLimits({ counters: new RedisRateCounterStore(await client(), prefix), defaultLimit: 10, lockout });
    const now = new Date();
    for (let i = 0; i < 3; i++) await (i === 1 ? b : a).failedLogin('192.0.2.7', now);
    expect(await b.lockedOut('192.0.2.7', now)).toBe(120);
    expect(await a.lockedOut('192.0.2.8', now)).toBeUndefined();
  });

  it('keys carry the prefix and expire after their window', async () => {
    const prefix = freshPrefix();
    const store = new RedisRateCounterStore(await client(), prefix);
    await store.hit('token:x', 5_000, new Date());
    const admin = adminRedis();
    try {
      expect(await admin.exists(`${prefix}rate:token:x`)).toBe(1);
      const ttl = await admin.pttl(`${prefix}rate:token:x`);
      expect(ttl).toBeGreaterThan(5_000);
      expect(ttl).toBeLessThanOrEqual(65_000);
    } finally {
      admin.disconnect();
    }
  });

  it('falls back to this process\'s counts while Redis fails, telling once per outage', async () => {
    const shared = await client();
    const store = new RedisRateCounterStore(shared, freshPrefix());
    const failures: unknown[] = [];
    const local = new MemoryRateCounterStore();
    const fallback = new FallbackRateCounterStore(store, (err) => failures.push(err), local);
    const now = new Date();
    expect((await fallback.hit('k', 60_000, now)).count).toBe(1);
    expect((await fallback.hit('k', 60_000, now)).count).toBe(2);
    shared.disconnect();
    // Commands fail at once rather than queue: no request waits for a reconnect.
    const started = performance.now();
    expect((await fallback.hit('k', 60_000, now)).count).toBe(1);
    expect((await fallback.hit('k', 60_000, now)).count).toBe(2);
    expect(await fallback.peek('k', now)).toEqual({ count: 2, resetAt: new Date(now.getTime() + 60_000) });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(failures).toHaveLength(1);
    expect((await local.peek('k', now))?.count).toBe(2);
  });
});

describeRedis('connectRedis', () => {
  it('refuses an unreachable Redis with a message that names where, without the password', async () => {
    const err = await connectRedis('redis://user:hunter2-secret@127.0.0.1:1/0', 'x').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0 \(cache\.redis\)/);
    expect((err as Error).message).not.toContain('hunter2');
  });
});
