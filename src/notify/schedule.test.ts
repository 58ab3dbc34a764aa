import { describe, expect, it } from 'vitest';
import { every } from './schedule.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('every', () => {
  it('runs at once, then again after each interval, never two runs at a time', async () => {
    let runs = 0;
    let active = 0;
    let overlapped = false;
    const repeating = every(
      20,
      async () => {
        runs++;
        active++;
        overlapped ||= active > 1;
        await sleep(30);
        active--;
      },
      () => undefined,
    );
    expect(runs).toBe(1);
    await sleep(200);
    await repeating.stop();
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(overlapped).toBe(false);
  });

  it('keeps going after a failed run and reports the error', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const repeating = every(
      10,
      async () => {
        runs++;
        throw new Error(`run ${runs}`);
      },
      (err) => errors.push(err),
    );
    await sleep(80);
    await repeating.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect((errors[0] as Error).message).toBe('run 1');
  });

  it('stop waits for the run in progress and then runs nothing more', async () => {
    let finished = false;
    let runs = 0;
    const repeating = every(
      5,
      async () => {
        runs++;
        await sleep(50);
        finished = true;
      },
      () => undefined,
    );
    await repeating.stop();
    expect(finished).toBe(true);
    await sleep(30);
    expect(runs).toBe(1);
  });
});
