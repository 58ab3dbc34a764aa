import { describe, expect, it } from 'vitest';
import { rateCounterStoreContract } from '../../test/auth/rate-counter-contract.js';
import { MemoryRateCounterStore } from './rate-counter-store.js';

rateCounterStoreContract('memory', async () => new MemoryRateCounterStore());

const t0 = new Date('2026-11-24T12:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('MemoryRateCounterStore memory', () => {
  it('drops ended windows at the next sweep', async () => {
    const store = new MemoryRateCounterStore({ sweepEveryMs: 60_000 });
    for (let i = 0; i < 100; i++) await store.hit(`k${i}`, 10_000, at(0));
    expect(store.size).toBe(100);
    await store.hit('late', 10_000, at(60_000));
    expect(store.size).toBe(1);
  });

  it('never holds more than maxKeys, dropping the windows opened longest ago', async () => {
    const store = new MemoryRateCounterStore({ maxKeys: 10 });
    for (let i = 0; i < 1000; i++) {
      await store.hit(`k${i}`, 3_600_000, at(i));
      expect(store.size).toBeLessThanOrEqual(10);
    }
    expect(await store.peek('k999', at(1000))).toEqual({ count: 1, resetAt: at(999 + 3_600_000) });
    expect(await store.peek('k0', at(1000))).toBeUndefined();
  });

  it('a window that restarts counts as the newest, so a busy key is not the one dropped', async () => {
    const store = new MemoryRateCounterStore({ maxKeys: 3 });
    await store.hit('busy', 1_000, at(0));
    await store.hit('b', 3_600_000, at(1));
    await store.hit('busy', 1_000, at(2_000)); // its first window ended: re-inserted as the newest
    await store.hit('c', 3_600_000, at(2_001));
    await store.hit('d', 3_600_000, at(2_002));
    expect(await store.peek('busy', at(2_003))).toBeDefined();
    expect(await store.peek('b', at(2_003))).toBeUndefined();
  });
});
