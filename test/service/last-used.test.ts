/**
 * Last-used times survive a crash of `serve`: the journal holds what the
 * store has not got yet, and a replay only ever moves a time forward.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LastUsedRecorder } from '../../src/auth/last-used.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import type { Store } from '../../src/store/store.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

let inst: TestInstance;
let a: CreatedToken;
let b: CreatedToken;
let journal: string;
const lines = () => (existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').filter((l) => l !== '') : []);
const lastUsed = async (t: CreatedToken) => {
  const row = await inst.runtime.store.findTokenForAuth(t.token.id);
  return { at: row?.lastUsedAt?.toISOString() ?? null, ip: row?.lastUsedIp ?? null };
};
const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, s));

beforeEach(async () => {
  inst = await startInstance();
  a = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: 'a' });
  b = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: 'b' });
  journal = join(inst.dataDir, 'crash-test.journal');
});
afterEach(async () => {
  await inst.cleanup();
});

describe('LastUsedRecorder with a journal', () => {
  it('replays what a crashed process never wrote, the latest time per token', async () => {
    const crashed = new LastUsedRecorder(inst.runtime.store, undefined, journal);
    crashed.note(a.token.id, at(1), '10.0.0.1');
    crashed.note(a.token.id, at(5), '10.0.0.2');
    crashed.note(b.token.id, at(3), '10.0.0.3');
    // No flush: the process dies here.
    expect(await lastUsed(a)).toEqual({ at: null, ip: null });

    const next = new LastUsedRecorder(inst.runtime.store, undefined, journal);
    expect(await next.recover()).toBe(2);
    expect(await lastUsed(a)).toEqual({ at: at(5).toISOString(), ip: '10.0.0.2' });
    expect(await lastUsed(b)).toEqual({ at: at(3).toISOString(), ip: '10.0.0.3' });
    expect(existsSync(journal)).toBe(false);
    expect(await next.recover()).toBe(0);
  });

  it('never moves a time back when an old journal is replayed after newer writes', async () => {
    const lost: Pick<Store, 'recordLastUsed'> = {
      async recordLastUsed(batch) {
        await inst.runtime.store.recordLastUsed(batch);
        throw new Error('connection reset after commit');
      },
    };
    const crashed = new LastUsedRecorder(lost, () => undefined, journal);
    crashed.note(a.token.id, at(2), '10.0.0.1');
    await crashed.flush();
    // Meanwhile a newer use reached the store through a healthy process.
    await inst.runtime.store.recordLastUsed([{ tokenId: a.token.id, at: at(9), ip: '10.0.0.9' }]);

    const next = new LastUsedRecorder(inst.runtime.store, undefined, journal);
    expect(await next.recover()).toBe(1);
    expect(await lastUsed(a)).toEqual({ at: at(9).toISOString(), ip: '10.0.0.9' });
  });

  it('journals a busy token about once a second, not once a request, and empties the journal on a flush', async () => {
    const rec = new LastUsedRecorder(inst.runtime.store, undefined, journal);
    for (let ms = 0; ms < 2500; ms += 10) rec.note(a.token.id, new Date(at(0).getTime() + ms), '10.0.0.1');
    expect(lines()).toHaveLength(3);
    rec.note(a.token.id, new Date(at(2).getTime() + 600), '10.0.0.7');
    expect(lines()).toHaveLength(4);
    await rec.flush();
    expect(await lastUsed(a)).toEqual({ at: new Date(at(2).getTime() + 600).toISOString(), ip: '10.0.0.7' });
    expect(existsSync(journal) || existsSync(`${journal}.flushing`)).toBe(false);
  });
});
