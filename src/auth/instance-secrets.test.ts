import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KEYS_DIR, looseSecretFiles, PEPPER_FILE, writeSecretFile } from './instance-secrets.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('looseSecretFiles', () => {
  it('names the pepper and private keys others can read, never the public certificates', () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-secrets-'));
    mkdirSync(join(dir, KEYS_DIR, 'ca'), { recursive: true });
    writeSecretFile(join(dir, PEPPER_FILE), 'x');
    writeSecretFile(join(dir, KEYS_DIR, 'es256-20261124-000000000Z.pem'), 'key');
    writeSecretFile(join(dir, KEYS_DIR, 'ca', 'ca-key.pem'), 'ca key');
    writeFileSync(join(dir, KEYS_DIR, 'es256-20261124-000000000Z.crt'), 'cert', { mode: 0o644 });
    writeFileSync(join(dir, KEYS_DIR, 'ca', 'ca.crt'), 'cert', { mode: 0o644 });
    expect(looseSecretFiles(dir)).toEqual([]);

    chmodSync(join(dir, PEPPER_FILE), 0o640);
    chmodSync(join(dir, KEYS_DIR, 'ca', 'ca-key.pem'), 0o644);
    expect(looseSecretFiles(dir).sort()).toEqual([join(dir, KEYS_DIR, 'ca', 'ca-key.pem'), join(dir, PEPPER_FILE)].sort());
  });
});
