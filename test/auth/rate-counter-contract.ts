import { describe, expect, it } from 'vitest';
import type { RateCounterStore } from '../../src/auth/rate-counter-store.js';

const t0 = new Date('2026-11-24T12:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

/** What every RateCounterStore must do; a shared (Redis) store runs the same suite. */
export function rateCounterStoreContract(name: string, make: () => Promise<RateCounterStore>): void {
  describe(`RateCounterStore contract: ${name}`, () => {
    it('counts hits on a key within its window and reports when it resets', async () => {
      const store = await make();
      expect(await store.hit('a', 60_000, at(0))).toEqual({ count: 1, resetAt: at(60_000) });
      expect(await store.hit('a', 60_000, at(1_000))).toEqual({ count: 2, resetAt: at(60_000) });
      expect(await store.hit('a', 60_000, at(59_999))).toEqual({ count: 3, resetAt: at(60_000) });
    });

    it('starts a new window at 1 once the old one has ended', async () => {
      const store = await make();
      await store.hit('a', 60_000, at(0));
      await store.hit('a', 60_000, at(1));
      expect(await store.hit('a', 60_000, at(60_000))).toEqual({ count: 1, resetAt: at(120_000) });
    });

    it('keeps keys apart', async () => {
      const store = await make();
      await store.hit('a', 60_000, at(0));
      await store.hit('a', 60_000, at(0));
      expect((await store.hit('b', 60_000, at(0))).count).toBe(1);
    });

    it('peek reads an open window without counting, and nothing once it has ended', async () => {
      const store = await make();
      expect(await store.peek('a', at(0))).toBeUndefined();
      await store.hit('a', 60_000, at(0));
      expect(await store.peek('a', at(30_000))).toEqual({ count: 1, resetAt: at(60_000) });
      expect(await store.peek('a', at(30_000))).toEqual({ count: 1, resetAt: at(60_000) });
      expect(await store.peek('a', at(60_000))).toBeUndefined();
    });

    it('counts concurrent hits without losing any', async () => {
      const store = await make();
      const windows = await Promise.all(Array.from({ length: 50 }, () => store.hit('a', 60_000, at(0))));
      expect(windows.map((w) => w.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });
}
