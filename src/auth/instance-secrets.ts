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

/** A path of the instance that group or others may use: one warning at start each. */
export interface LoosePath {
  path: string;
  /** As ls shows it, e.g. `0644`. */
  mode: string;
  message: string;
}

/**
 * The data dir, `keys/`, the secret files in them and the SQLite database
 * (with its -wal and -shm) that group or others can read, write or enter:
 * each holds what an instance must keep to itself. `databaseFile` is the
 * SQLite file of store.url, wherever it is; undefined on PostgreSQL.
 */
export function loosePermissions(dataDir: string, databaseFile?: string): LoosePath[] {
  // Certificates (.crt) are public by design; private keys are the .pem files.
  const secrets = [join(dataDir, PEPPER_FILE), ...listKeyFiles(dataDir).filter((f) => f.endsWith('.pem'))];
  const checks: [string, string][] = [
    [dataDir, 'data dir is open to group or others; chmod 700 it'],
    [join(dataDir, KEYS_DIR), 'keys directory is open to group or others; chmod 700 it'],
    ...secrets.map((f): [string, string] => [f, 'secret file is readable by group or others; chmod 600 it']),
    ...(databaseFile === undefined ? [] : ['', '-wal', '-shm'].map((suffix): [string, string] => [`${databaseFile}${suffix}`, 'database file is readable or writable by group or others; chmod 600 it'])),
  ];
  const out: LoosePath[] = [];
  for (const [path, message] of checks) {
    const mode = modeOf(path);
    if (mode !== undefined && (mode & 0o077) !== 0) out.push({ path, mode: mode.toString(8).padStart(4, '0'), message });
  }
  return out;
}

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
}

/** Every entry under keys/, including the certificate authority's folder. */
function listKeyFiles(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, KEYS_DIR), { recursive: true, encoding: 'utf8' }).map((n) => join(dataDir, KEYS_DIR, n));
  } catch {
    return [];
  }
}
