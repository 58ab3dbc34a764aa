import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { newEventId, type Random } from '../core/ids.js';
import type { UsageEvent } from '../core/model.js';
import type { Store } from '../store/store.js';
import { WriteBehind } from '../store/write-behind.js';

export interface UsageRecorderOptions {
  store: Pick<Store, 'insertUsage'>;
  /** The live journal, in the data dir; `<journalPath>.flushing` holds the batch being written. */
  journalPath: string;
  random: Random;
  onError?: (err: unknown) => void;
}

/**
 * Records one usage event per manifest pull/push without making the request
 * wait on the database: each event is appended to a journal file at once and
 * written to the store in batches.
 *
 * Crash safety rests on two files and on insertUsage ignoring ids it already
 * has. A flush first moves the live journal aside to `.flushing` (in the same
 * tick as it takes the in-memory batch, so the file holds exactly that batch),
 * inserts the batch, then deletes `.flushing`. Whatever moment the process dies
 * at, every recorded event is in one of the two files or already committed, and
 * recover() replays both files: events that were committed before the crash
 * are skipped by id instead of counted twice.
 */
export class UsageRecorder extends WriteBehind {
  private pending: UsageEvent[] = [];
  /** A failed append may have left half a line: the next one starts on a fresh line. */
  private freshLine = false;
  private readonly store: Pick<Store, 'insertUsage'>;
  private readonly journalPath: string;
  private readonly flushingPath: string;
  private readonly random: Random;
  private readonly onError: (err: unknown) => void;

  constructor(options: UsageRecorderOptions) {
    super();
    this.store = options.store;
    this.journalPath = options.journalPath;
    this.flushingPath = `${options.journalPath}.flushing`;
    this.random = options.random;
    this.onError = options.onError ?? (() => {});
  }

  /** Events recorded and not yet written to the store. */
  get size(): number {
    return this.pending.length;
  }

  record(input: Omit<UsageEvent, 'id'>): UsageEvent {
    // One event the store refuses would hold back every batch after it: the address and agent are never missing.
    const event: UsageEvent = { id: newEventId(input.at, this.random), ...input, ip: input.ip ?? '', userAgent: input.userAgent ?? '' };
    try {
      appendFileSync(this.journalPath, `${this.freshLine ? '\n' : ''}${JSON.stringify(event)}\n`, { mode: 0o600 });
      this.freshLine = false;
    } catch (err) {
      // A full disk must not fail the pull: the event still reaches the
      // store from memory, it only loses its protection against a crash.
      this.freshLine = true;
      this.onError(err);
    }
    this.pending.push(event);
    return event;
  }


  /** Never rejects: a failure is reported to onError and the events wait for the next flush. */
  protected async writeBatch(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      this.rotate();
    } catch (err) {
      this.pending = batch.concat(this.pending);
      this.onError(err);
      return;
    }
    try {
      await this.store.insertUsage(batch);
    } catch (err) {
      // `.flushing` stays: the next rotate folds the live journal into it.
      this.pending = batch.concat(this.pending);
      this.onError(err);
      return;
    }
    try {
      rmSync(this.flushingPath, { force: true });
    } catch (err) {
      this.onError(err);
    }
  }


  /**
   * Start-up, before the first record(): writes the events a previous process
   * journaled and did not get to remove, and removes the journal files.
   * Returns how many distinct events were replayed (some may have been in the
   * store already). Rejects when the store does; the files then stay.
   */
  async recover(): Promise<number> {
    await this.flushing;
    const files = [this.flushingPath, this.journalPath].filter((f) => existsSync(f));
    const events = new Map<string, UsageEvent>();
    let unreadable = 0;
    for (const file of files) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const event = parseJournalLine(line);
        if (event) events.set(event.id, event);
        else unreadable++;
      }
    }
    // A crash in the middle of an append leaves a torn last line; that event never finished recording.
    if (unreadable > 0) this.onError(new Error(`usage journal: skipped ${unreadable} unreadable line(s) in ${files.join(', ')}`));
    await this.store.insertUsage([...events.values()]);
    for (const file of files) rmSync(file, { force: true });
    return events.size;
  }

  /** Moves the live journal to `.flushing`, so that the file matches the batch being written. */
  private rotate(): void {
    if (!existsSync(this.flushingPath)) {
      try {
        renameSync(this.journalPath, this.flushingPath);
      } catch (err) {
        // No live journal: every append of this batch failed; the batch is in memory only.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      return;
    }
    // A failed flush left its batch in `.flushing` and put it back in front of
    // the pending events: append the live journal so the file holds them all.
    // A crash between the append and the unlink leaves events in both files,
    // which a replay inserts once.
    let live: string;
    try {
      live = readFileSync(this.journalPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    // The leading newline keeps a torn last line, should there be one, from swallowing the first event.
    appendFileSync(this.flushingPath, `\n${live}`, { mode: 0o600 });
    unlinkSync(this.journalPath);
  }
}

const str = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** One journal line back into an event; undefined for anything torn or foreign. */
export function parseJournalLine(line: string): UsageEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (!str(r.id) || !str(r.at) || !str(r.vendorId) || !str(r.tokenId) || !strOrNull(r.customerId)) return undefined;
  if ((r.action !== 'pull' && r.action !== 'push') || !str(r.repository) || !strOrNull(r.tag)) return undefined;
  if (!str(r.digest) || !str(r.ip) || !str(r.userAgent)) return undefined;
  const at = new Date(r.at);
  if (Number.isNaN(at.getTime())) return undefined;
  return {
    id: r.id,
    at,
    vendorId: r.vendorId,
    tokenId: r.tokenId,
    customerId: r.customerId,
    action: r.action,
    repository: r.repository,
    tag: r.tag,
    digest: r.digest,
    ip: r.ip,
    userAgent: r.userAgent,
  };
}
