import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UsageEvent } from '../core/model.js';
import type { KyselyStore } from '../store/kysely-store.js';
import { openSqliteStore } from '../store/sqlite/open.js';
import type { Store } from '../store/store.js';
import { UsageRecorder } from './usage-recorder.js';

const VENDOR = 'ven_usagetest00000000';
const random = (n: number) => new Uint8Array(randomBytes(n));

let tmp: string;
let store: KyselyStore;
let journal: string;

beforeEach(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'portcullis-usage-'));
  journal = join(tmp, 'usage.journal');
  store = openSqliteStore(join(tmp, 'db.sqlite'));
  await store.migrate();
  await store.insertVendor({ id: VENDOR, name: 'acme', namespaces: ['acme/**'], isOperator: false, createdAt: new Date('2026-01-01T00:00:00Z') });
});

afterEach(async () => {
  await store.close();
  rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
function pull(tag: string | null = 'v1'): Omit<UsageEvent, 'id'> {
  return {
    at: new Date(Date.UTC(2026, 5, 1, 12, 0, n++)),
    vendorId: VENDOR,
    tokenId: 'ctok_aaaaaaaaaaaaaaaa',
    customerId: 'cus_bbbbbbbbbbbbbbbb',
    action: 'pull',
    repository: 'acme/app',
    tag,
    digest: `sha256:${'a'.repeat(64)}`,
    ip: '192.0.2.7',
    userAgent: 'containerd/2.0, "quoted"',
  };
}

const stored = async () => (await store.listUsage(VENDOR)).map((e) => e.id).sort();
const journalLines = (file = journal) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : []);

/** A store whose insertUsage waits until release() is called. */
function gatedStore() {
  let release!: () => void;
  const gate = new Promise<void>((res) => (release = res));
  const calls: UsageEvent[][] = [];
  const gated: Pick<Store, 'insertUsage'> = {
    async insertUsage(batch) {
      calls.push([...batch]);
      await gate;
      await store.insertUsage(batch);
    },
  };
  return { gated, release, calls };
}

describe('UsageRecorder', () => {
  it('journals each event at once (0600), writes nothing to the store until a flush, then empties the journal', async () => {
    const recorder = new UsageRecorder({ store, journalPath: journal, random });
    const ids = [recorder.record(pull()), recorder.record(pull(null)), recorder.record(pull('v2'))].map((e) => e.id);
    expect(ids.every((id) => /^evt_/.test(id))).toBe(true);
    expect(recorder.size).toBe(3);
    expect(journalLines().map((l) => (JSON.parse(l) as UsageEvent).id)).toEqual(ids);
    expect(statSync(journal).mode & 0o777).toBe(0o600);
    expect(await stored()).toEqual([]);

    await recorder.flush();
    expect(await stored()).toEqual([...ids].sort());
    const back = (await store.listUsage(VENDOR)).find((e) => e.id === ids[1])!;
    expect(back).toEqual({ ...pull(null), id: ids[1], at: back.at });
    expect(recorder.size).toBe(0);
    expect(existsSync(journal)).toBe(false);
    expect(existsSync(`${journal}.flushing`)).toBe(false);
  });

  it('keeps events recorded while a slow flush runs, in memory and in the journal, for the next flush', async () => {
    const { gated, release, calls } = gatedStore();
    const recorder = new UsageRecorder({ store: gated, journalPath: journal, random });
    const first = [recorder.record(pull()), recorder.record(pull())].map((e) => e.id);
    const flushing = recorder.flush();
    // A second flush while one runs joins it instead of sending an overlapping batch.
    const joined = recorder.flush();
    const during = [recorder.record(pull()), recorder.record(pull())].map((e) => e.id);
    expect(journalLines()).toHaveLength(2);
    expect(journalLines(`${journal}.flushing`)).toHaveLength(2);
    release();
    await Promise.all([flushing, joined]);
    expect(calls.map((b) => b.map((e) => e.id))).toEqual([first]);
    expect(await stored()).toEqual([...first].sort());
    expect(journalLines().map((l) => (JSON.parse(l) as UsageEvent).id)).toEqual(during);

    await recorder.stop();
    expect(await stored()).toEqual([...first, ...during].sort());
    expect(journalLines()).toEqual([]);
  });

  it('keeps a batch whose insert failed, journal included, and writes it with the next flush', async () => {
    const onError = vi.fn();
    let failures = 1;
    const flaky: Pick<Store, 'insertUsage'> = {
      async insertUsage(batch) {
        if (failures-- > 0) throw new Error('database is locked');
        await store.insertUsage(batch);
      },
    };
    const recorder = new UsageRecorder({ store: flaky, journalPath: journal, random, onError });
    const ids = [recorder.record(pull()), recorder.record(pull())].map((e) => e.id);
    await recorder.flush();
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'database is locked' }));
    expect(recorder.size).toBe(2);
    expect(await stored()).toEqual([]);
    ids.push(recorder.record(pull()).id);

    // Were the process to die now, both files together still hold all three.
    expect(journalLines(`${journal}.flushing`).length + journalLines().length).toBe(3);
    await recorder.flush();
    expect(await stored()).toEqual([...ids].sort());
    expect(existsSync(journal) || existsSync(`${journal}.flushing`)).toBe(false);
    expect(onError).toHaveBeenCalledTimes(1);
  });

  describe('recover after a crash', () => {
    it('replays a journal that was never flushed, once', async () => {
      const crashed = new UsageRecorder({ store, journalPath: journal, random });
      const ids = [crashed.record(pull()), crashed.record(pull(null)), crashed.record(pull())].map((e) => e.id);

      const next = new UsageRecorder({ store, journalPath: journal, random });
      expect(await next.recover()).toBe(3);
      expect(await stored()).toEqual([...ids].sort());
      expect(existsSync(journal)).toBe(false);
      expect(await next.recover()).toBe(0);
      expect(await stored()).toHaveLength(3);
    });

    it('counts nothing twice when the crash came after the insert committed but before the journal was removed', async () => {
      // The insert commits, then the connection drops: the recorder cannot know it landed.
      const lost: Pick<Store, 'insertUsage'> = {
        async insertUsage(batch) {
          await store.insertUsage(batch);
          throw new Error('connection reset after commit');
        },
      };
      const crashed = new UsageRecorder({ store: lost, journalPath: journal, random });
      const ids = [crashed.record(pull()), crashed.record(pull())].map((e) => e.id);
      await crashed.flush();
      ids.push(crashed.record(pull('v2')).id);
      await crashed.flush(); // folds the live journal into .flushing, commits again, "fails" again
      ids.push(crashed.record(pull('v3')).id);
      expect(existsSync(`${journal}.flushing`)).toBe(true);
      expect(existsSync(journal)).toBe(true);
      expect(await stored()).toHaveLength(3);

      const next = new UsageRecorder({ store, journalPath: journal, random });
      expect(await next.recover()).toBe(4);
      expect(await stored()).toEqual([...ids].sort());
      expect(existsSync(journal) || existsSync(`${journal}.flushing`)).toBe(false);
    });

    it('replays every event after flushes that failed without committing', async () => {
      const down: Pick<Store, 'insertUsage'> = {
        insertUsage: () => Promise.reject(new Error('no database')),
      };
      const crashed = new UsageRecorder({ store: down, journalPath: journal, random });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(crashed.record(pull()).id, crashed.record(pull(null)).id);
        await crashed.flush();
      }
      ids.push(crashed.record(pull()).id);
      expect(crashed.size).toBe(7);

      const next = new UsageRecorder({ store, journalPath: journal, random });
      expect(await next.recover()).toBe(7);
      expect(await stored()).toEqual([...ids].sort());
    });

    it('replays a .flushing file left by a crash mid-flush together with the live journal', async () => {
      const { gated, calls } = gatedStore(); // never released: the process "dies" mid-insert
      const crashed = new UsageRecorder({ store: gated, journalPath: journal, random });
      const ids = [crashed.record(pull()), crashed.record(pull())].map((e) => e.id);
      void crashed.flush();
      ids.push(crashed.record(pull()).id);
      expect(calls).toHaveLength(1);

      const next = new UsageRecorder({ store, journalPath: journal, random });
      expect(await next.recover()).toBe(3);
      expect(await stored()).toEqual([...ids].sort());
    });

    it('skips a torn last line and reports it', async () => {
      const crashed = new UsageRecorder({ store, journalPath: journal, random });
      const ids = [crashed.record(pull()), crashed.record(pull())].map((e) => e.id);
      const whole = JSON.stringify({ ...pull(), id: 'evt_torn' });
      appendFileSync(journal, whole.slice(0, whole.length / 2));

      const onError = vi.fn();
      const next = new UsageRecorder({ store, journalPath: journal, random, onError });
      expect(await next.recover()).toBe(2);
      expect(await stored()).toEqual([...ids].sort());
      expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringMatching(/skipped 1 unreadable line/) }));
      expect(existsSync(journal)).toBe(false);
    });
  });
});
