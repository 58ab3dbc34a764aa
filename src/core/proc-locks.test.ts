import { describe, expect, it } from 'vitest';
import { deviceNumbers, posixLockHolder } from './proc-locks.js';

// What Linux printed while one serve held a lock (dev 0xfe00, inode 2147187) and another process locked other files.
const PROC_LOCKS = [
  '1: POSIX  ADVISORY  WRITE 12254 fe:00:2147187 1073741824 1073742335',
  '2: POSIX  ADVISORY  READ 12234 fe:00:2148746 128 128',
  '3: FLOCK  ADVISORY  WRITE 3800 fe:00:2147188 0 EOF',
  '4: -> POSIX  ADVISORY  WRITE 999 fe:00:2147187 1073741824 1073742335',
  '',
].join('\n');

describe('posixLockHolder', () => {
  it('names the process holding a POSIX lock on the file, by device and inode', () => {
    expect(posixLockHolder(PROC_LOCKS, { dev: 0xfe00, ino: 2147187 }, 1)).toBe(12254);
    expect(posixLockHolder(PROC_LOCKS, { dev: 0xfe00n, ino: 2147187n }, 1)).toBe(12254);
  });

  it('leaves out the asking process, waiters, flock locks and other files', () => {
    expect(posixLockHolder(PROC_LOCKS, { dev: 0xfe00, ino: 2147187 }, 12254)).toBeUndefined();
    expect(posixLockHolder(PROC_LOCKS, { dev: 0xfe00, ino: 2147188 }, 1)).toBeUndefined();
    expect(posixLockHolder(PROC_LOCKS, { dev: 0xfe00, ino: 42 }, 1)).toBeUndefined();
    expect(posixLockHolder('', { dev: 0xfe00, ino: 2147187 }, 1)).toBeUndefined();
  });

  it('accepts the inode alone when the device is printed otherwise (overlay filesystems), if one process holds it', () => {
    expect(posixLockHolder(PROC_LOCKS, { dev: 0x35, ino: 2147187 }, 1)).toBe(12254);
    const two = `${PROC_LOCKS}5: POSIX  ADVISORY  WRITE 777 08:01:2147187 0 EOF\n`;
    expect(posixLockHolder(two, { dev: 0x35, ino: 2147187 }, 1)).toBeUndefined();
    expect(posixLockHolder(two, { dev: 0xfe00, ino: 2147187 }, 1)).toBe(12254);
  });
});

describe('deviceNumbers', () => {
  it('splits dev_t as glibc does', () => {
    expect(deviceNumbers(0xfe00)).toEqual({ major: 0xfe, minor: 0 });
    expect(deviceNumbers(0x801)).toEqual({ major: 8, minor: 1 });
    // Large minor numbers live above bit 20.
    expect(deviceNumbers(0x10_0345)).toEqual({ major: 3, minor: 0x145 });
  });
});
