import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PortcullisError } from '../core/errors.js';
import { lockDataDir, SERVE_LOCK_FILE, type DataDirLock } from './data-dir-lock.js';

let dir: string | undefined;
const locks: DataDirLock[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.release();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function refusal(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PortcullisError);
    return err as PortcullisError;
  }
  throw new Error('expected a refusal');
}

describe('lockDataDir', () => {
  it('lets one holder have the data dir at a time, and the next one after it lets go', () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-lock-'));
    const dataDir = join(dir, 'data');
    const first = lockDataDir(dataDir);
    locks.push(first);
    expect(first.file).toBe(join(dataDir, SERVE_LOCK_FILE));
    // Created with the data dir, owner-only, and left empty: it only carries the lock.
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(statSync(first.file).size).toBe(0);

    // SQLite keeps its locks per connection within a process too, so a second taker here is refused like another process.
    const err = refusal(() => lockDataDir(dataDir));
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe('data_dir');
    expect(err.message).toBe(`another portcullis serve holds the data dir ${dataDir}; stop it first`);

    first.release();
    first.release();
    locks.push(lockDataDir(dataDir));
  });

  it('refuses a serve.lock that is not its own instead of overwriting it', () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-lock-'));
    writeFileSync(join(dir, SERVE_LOCK_FILE), 'something else entirely, longer than a header would be. '.repeat(4));
    expect(refusal(() => lockDataDir(dir!)).message).toMatch(/serve\.lock is not Portcullis' lock file: move it out of the data dir/);
  });
});
