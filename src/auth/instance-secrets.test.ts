import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KEYS_DIR, loosePermissions, PEPPER_FILE, writeSecretFile } from './instance-secrets.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('loosePermissions', () => {
  const paths = (d: string, db?: string) => loosePermissions(d, db).map((p) => p.path).sort();

  it('names the pepper and private keys others can read, never the public certificates', () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-secrets-'));
    mkdirSync(join(dir, KEYS_DIR, 'ca'), { recursive: true, mode: 0o700 });
    chmodSync(join(dir, KEYS_DIR), 0o700);
    writeSecretFile(join(dir, PEPPER_FILE), 'x');
    writeSecretFile(join(dir, KEYS_DIR, 'es256-20261124-000000000Z.pem'), 'key');
    writeSecretFile(join(dir, KEYS_DIR, 'ca', 'ca-key.pem'), 'ca key');
    writeFileSync(join(dir, KEYS_DIR, 'es256-20261124-000000000Z.crt'), 'cert', { mode: 0o644 });
    writeFileSync(join(dir, KEYS_DIR, 'ca', 'ca.crt'), 'cert', { mode: 0o644 });
    expect(loosePermissions(dir)).toEqual([]);

    chmodSync(join(dir, PEPPER_FILE), 0o640);
    chmodSync(join(dir, KEYS_DIR, 'ca', 'ca-key.pem'), 0o644);
    expect(paths(dir)).toEqual([join(dir, KEYS_DIR, 'ca', 'ca-key.pem'), join(dir, PEPPER_FILE)].sort());
    expect(loosePermissions(dir).find((p) => p.path === join(dir!, PEPPER_FILE))).toEqual({
      path: join(dir, PEPPER_FILE),
      mode: '0640',
      message: 'secret file is readable by group or others; chmod 600 it',
    });
  });

  it('names the data dir, keys/ and the database with its -wal and -shm, once each', () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-secrets-'));
    const db = join(dir, 'portcullis.db');
    mkdirSync(join(dir, KEYS_DIR), { mode: 0o700 });
    for (const f of [db, `${db}-wal`, `${db}-shm`]) writeFileSync(f, '', { mode: 0o600 });
    expect(loosePermissions(dir, db)).toEqual([]);

    chmodSync(dir, 0o755);
    chmodSync(join(dir, KEYS_DIR), 0o750);
    chmodSync(db, 0o644);
    chmodSync(`${db}-wal`, 0o604);
    chmodSync(`${db}-shm`, 0o620);
    const found = loosePermissions(dir, db);
    expect(found.map((p) => [p.path, p.mode])).toEqual([
      [dir, '0755'],
      [join(dir, KEYS_DIR), '0750'],
      [db, '0644'],
      [`${db}-wal`, '0604'],
      [`${db}-shm`, '0620'],
    ]);
    expect(found[0]!.message).toBe('data dir is open to group or others; chmod 700 it');
    expect(found[1]!.message).toBe('keys directory is open to group or others; chmod 700 it');
    expect(found[2]!.message).toBe('database file is readable or writable by group or others; chmod 600 it');
    // Without a SQLite database (PostgreSQL), its files are not looked at.
    expect(paths(dir)).toEqual([dir, join(dir, KEYS_DIR)]);
    chmodSync(dir, 0o700);
  });
});
