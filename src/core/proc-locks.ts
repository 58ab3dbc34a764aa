/**
 * Linux lists every file lock in /proc/locks, one per line:
 *
 *   1: POSIX  ADVISORY  WRITE 12254 fe:00:2147187 1073741824 1073742335
 *
 * (pid, then the file as hex major:minor of its device and decimal inode).
 * Reading it names the process that holds a lock, without a PID file of our own.
 */

/** The device numbers Linux prints for a stat() `dev` (glibc's major/minor split of dev_t). */
export function deviceNumbers(dev: number | bigint): { major: number; minor: number } {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/**
 * The pid holding a POSIX lock on the file (dev, ino), other than `self`;
 * undefined when none is listed. The device may be printed differently on
 * overlay filesystems, so an inode held by a single process is accepted too.
 */
export function posixLockHolder(procLocks: string, file: { dev: number | bigint; ino: number | bigint }, self: number): number | undefined {
  const { major, minor } = deviceNumbers(file.dev);
  const ino = String(file.ino);
  const exact = new Set<number>();
  const sameInode = new Set<number>();
  for (const line of procLocks.split('\n')) {
    // "N: POSIX ADVISORY WRITE pid maj:min:ino start end"; a blocked waiter's line starts with "N: ->".
    const m = /^\d+:\s+POSIX\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (!m || m[4] !== ino) continue;
    const pid = Number(m[1]);
    if (pid === self || pid === 0) continue;
    sameInode.add(pid);
    if (parseInt(m[2]!, 16) === major && parseInt(m[3]!, 16) === minor) exact.add(pid);
  }
  if (exact.size === 1) return [...exact][0];
  return exact.size === 0 && sameInode.size === 1 ? [...sameInode][0] : undefined;
}
