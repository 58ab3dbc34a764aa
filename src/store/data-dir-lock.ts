import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ensureDataDir } from '../auth/instance-secrets.js';
import { invalid } from '../core/errors.js';
import { posixLockHolder } from '../core/proc-locks.js';

/**
 * One `serve` per data dir. Two would share the journals of usage events and
 * last-used times (a crash of one could drop the other's unwritten events)
 * and each would take the other's upload leftovers for a crash's.
 *
 * The lock is an exclusive SQLite transaction held open on `serve.lock` for
 * the life of the process: SQLite locks with POSIX record locks, which the
 * kernel drops when the process ends, however it ends. A kill -9 leaves no
 * stale lock to clean up and no PID file to second-guess. The file itself
 * stays empty (journal in memory); it only carries the lock.
 */
export const SERVE_LOCK_FILE = 'serve.lock';

export interface DataDirLock {
  readonly file: string;
  /** For an orderly stop; a process that simply ends releases it too. */
  release(): void;
}

// Held here as well as by the caller: a collected connection would close and drop the lock.
const held = new Set<Database.Database>();

/** Takes the data dir for this process, or refuses (exit 2) while another `serve` has it. */
export function lockDataDir(dataDir: string): DataDirLock {
  ensureDataDir(dataDir);
  const file = join(dataDir, SERVE_LOCK_FILE);
  closeSync(openSync(file, 'a', 0o600));
  let db: Database.Database | undefined;
  try {
    // timeout 0: a held lock is an answer, not something to wait for.
    db = new Database(file, { timeout: 0 });
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db?.close();
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      const pid = lockHolder(file);
      throw invalid(`another portcullis serve${pid === undefined ? '' : ` (pid ${pid})`} holds the data dir ${dataDir}; stop it first`, 'data_dir');
    }
    if (code === 'SQLITE_NOTADB') throw invalid(`${file} is not Portcullis' lock file: move it out of the data dir`, 'data_dir');
    throw err;
  }
  const lock = db;
  held.add(lock);
  return {
    file,
    release() {
      if (!held.delete(lock)) return;
      lock.close();
    },
  };
}

/** Linux names the holder in /proc/locks; elsewhere the message goes without a pid. */
function lockHolder(file: string): number | undefined {
  try {
    return posixLockHolder(readFileSync('/proc/locks', 'utf8'), statSync(file, { bigint: true }), process.pid);
  } catch {
    return undefined;
  }
}
