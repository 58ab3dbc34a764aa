import { generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files in the data dir that hold instance secrets; always mode 0600. */
export const PEPPER_FILE = 'pepper';
export const KEYS_DIR = 'keys';

export interface SigningKey {
  /** File name without extension, sortable by creation time. */
  name: string;
  alg: 'ES256';
  privateKey: KeyObject;
}

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
  try {
    const text = readFileSync(join(dataDir, PEPPER_FILE), 'utf8').trim();
    const pepper = Buffer.from(text, 'base64url');
    if (pepper.length < 32) throw new Error(`pepper in ${join(dataDir, PEPPER_FILE)} is too short`);
    return new Uint8Array(pepper);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function loadOrCreatePepper(dataDir: string, random: (n: number) => Uint8Array): Uint8Array {
  const existing = loadPepper(dataDir);
  if (existing) return existing;
  writeSecretFile(join(dataDir, PEPPER_FILE), `${Buffer.from(random(32)).toString('base64url')}\n`);
  return loadPepper(dataDir)!;
}

export function listSigningKeys(dataDir: string): SigningKey[] {
  const dir = join(dataDir, KEYS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.pem')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.map((file) => ({
    name: file.slice(0, -'.pem'.length),
    alg: 'ES256' as const,
    privateKey: createPrivateKey(readFileSync(join(dir, file), 'utf8')),
  }));
}

/** A new ES256 (P-256) key; the newest key in the directory is the one that signs. */
export function createSigningKey(dataDir: string, now: Date): SigningKey {
  const dir = join(dataDir, KEYS_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = `es256-${now.toISOString().replace(/[-:.]/g, '').replace('T', '-')}`;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeSecretFile(join(dir, `${name}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { name, alg: 'ES256', privateKey };
}

/** Group- or world-readable secret files are a finding worth a warning at start. */
export function looseSecretFiles(dataDir: string): string[] {
  const files = [join(dataDir, PEPPER_FILE), ...listKeyFiles(dataDir)];
  return files.filter((f) => {
    try {
      return (statSync(f).mode & 0o077) !== 0;
    } catch {
      return false;
    }
  });
}

function listKeyFiles(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, KEYS_DIR)).map((n) => join(dataDir, KEYS_DIR, n));
  } catch {
    return [];
  }
}
