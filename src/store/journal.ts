import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';

/**
 * The crash insurance of a write-behind buffer: each entry is appended to a
 * file of JSON lines the moment it is recorded, before any database write.
 *
 * A flush first moves the live file aside to `<path>.flushing` (in the same
 * tick as it takes the in-memory batch, so the file holds exactly that batch),
 * writes the batch, then removes `.flushing`. Whatever moment the process dies
 * at, every recorded entry is in one of the two files or already committed,
 * and read() at the next start returns both files' entries. Replaying must be
 * harmless for entries that were committed before the crash: the writers make
 * their store writes idempotent (usage events by id, last-used times by max).
 */
export class Journal<T> {
  readonly flushingPath: string;
  /** A failed append may have left half a line: the next one starts on a fresh line. */
  private freshLine = false;

  constructor(
    readonly path: string,
    /** One parsed line back into an entry; undefined for anything torn or foreign. */
    private readonly parse: (raw: Record<string, unknown>) => T | undefined,
    private readonly onError: (err: unknown) => void,
  ) {
    this.flushingPath = `${path}.flushing`;
  }

  /**
   * Never throws: a full disk must not fail the request that recorded the
   * entry; the entry still reaches the store from memory, it only loses its
   * protection against a crash.
   */
  append(entry: T): void {
    try {
      appendFileSync(this.path, `${this.freshLine ? '\n' : ''}${JSON.stringify(entry)}\n`, { mode: 0o600 });
      this.freshLine = false;
    } catch (err) {
      this.freshLine = true;
      this.onError(err);
    }
  }

  /** Moves the live journal to `.flushing`, so that the file matches the batch being written. Throws on an I/O error. */
  rotate(): void {
    if (!existsSync(this.flushingPath)) {
      try {
        renameSync(this.path, this.flushingPath);
      } catch (err) {
        // No live journal: every append of this batch failed; the batch is in memory only.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      return;
    }
    // A failed flush left its batch in `.flushing` and put it back in front of
    // the pending entries: append the live journal so the file holds them all.
    // A crash between the append and the unlink leaves entries in both files,
    // which a replay writes once.
    let live: string;
    try {
      live = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    // The leading newline keeps a torn last line, should there be one, from swallowing the first entry.
    appendFileSync(this.flushingPath, `\n${live}`, { mode: 0o600 });
    unlinkSync(this.path);
  }

  /** The batch in `.flushing` is in the store. */
  committed(): void {
    try {
      rmSync(this.flushingPath, { force: true });
    } catch (err) {
      this.onError(err);
    }
  }

  /**
   * Every entry of both files, oldest file first. A crash in the middle of an
   * append leaves a torn last line; that entry never finished recording, and
   * is counted in `unreadable` and reported.
   */
  read(): T[] {
    const files = [this.flushingPath, this.path].filter((f) => existsSync(f));
    const entries: T[] = [];
    let unreadable = 0;
    for (const file of files) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const entry = parseLine(line, this.parse);
        if (entry === undefined) unreadable++;
        else entries.push(entry);
      }
    }
    if (unreadable > 0) this.onError(new Error(`journal: skipped ${unreadable} unreadable line(s) in ${files.join(', ')}`));
    return entries;
  }

  /** After a replay reached the store: both files go. */
  clear(): void {
    for (const file of [this.flushingPath, this.path]) rmSync(file, { force: true });
  }
}

function parseLine<T>(line: string, parse: (raw: Record<string, unknown>) => T | undefined): T | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? parse(raw as Record<string, unknown>) : undefined;
}
