import { chmodSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalid, PortcullisError } from '../core/errors.js';
import { decodePepper } from '../core/pepper-format.js';

/** Files in the data dir that hold instance secrets; always mode 0600. */
export const PEPPER_FILE = 'pepper';
export const KEYS_DIR = 'keys';

export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

/**
 * Written whole or not at all, never readable by others, even for an instant.
 * Returns false when the file already exists: two processes starting on one
 * empty data dir must end up with the same pepper, so the first one wins.
 */
export function writeSecretFile(file: string, content: string | Uint8Array): boolean {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

export function loadPepper(dataDir: string): Uint8Array | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, PEPPER_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return decodePepper(text);
  } catch (err) {
    if (err instanceof PortcullisError) throw invalid(`the pepper in ${join(dataDir, PEPPER_FILE)} ${err.message}`, 'data_dir');
    throw err;
  }
}

export function loadOrCreatePepper(dataDir: string, random: (n: number) => Uint8Array): Uint8Array {
  const existing = loadPepper(dataDir);
  if (existing) return existing;
  writeSecretFile(join(dataDir, PEPPER_FILE), `${Buffer.from(random(32)).toString('base64url')}\n`);
  return loadPepper(dataDir)!;
}

/** Group- or world-readable secret files are a finding worth a warning at start. */
export function looseSecretFiles(dataDir: string): string[] {
  // Certificates (.crt) are public by design; private keys are the .pem files.
  const files = [join(dataDir, PEPPER_FILE), ...listKeyFiles(dataDir).filter((f) => f.endsWith('.pem'))];
  return files.filter((f) => {
    try {
      return (statSync(f).mode & 0o077) !== 0;
    } catch {
      return false;
    }
  });
}

/** Every entry under keys/, including the certificate authority's folder. */
function listKeyFiles(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, KEYS_DIR), { recursive: true, encoding: 'utf8' }).map((n) => join(dataDir, KEYS_DIR, n));
  } catch {
    return [];
  }
}
