/**
 * Helpers for the `[secrets]` tests: a real `pass` store under a throw-away
 * GNUPGHOME, keys and peppers to put in it, and instances opened with a
 * `[secrets]` section.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime, type OpenOptions, type Runtime } from '../../src/runtime.js';
import type { CreatedToken } from '../../src/service/tokens.js';
import { cleanEnv } from './cli.js';
import { runCommand } from './run.js';

export const newPepper = (): string => randomBytes(32).toString('base64');

export function newPemKey(kind: 'ES256' | 'RS256' = 'ES256'): string {
  const { privateKey } = kind === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `content` to a fresh file of this mode and returns its path. */
export function secretFile(dir: string, name: string, content: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

/** A portcullis.toml with a `[secrets]` section, in `dir`. */
export function secretsConfigFile(dir: string, secrets: Record<string, string>): string {
  const path = join(dir, 'portcullis.toml');
  const lines = ['[secrets]', ...Object.entries(secrets).map(([k, v]) => `${k} = ${JSON.stringify(v)}`), ''];
  writeFileSync(path, lines.join('\n'));
  return path;
}

export interface Opened {
  runtime: Runtime;
  created?: CreatedToken;
  warnings: string[];
}

/** openRuntime on `dataDir` with these `[secrets]`; the backends see `env`. */
export async function openWithSecrets(
  dataDir: string,
  secrets: Record<string, string>,
  options: { initialize: boolean; env: NodeJS.ProcessEnv; now?: () => Date } & Pick<OpenOptions, 'onBackgroundError'>,
): Promise<Opened> {
  const config = loadConfig({ configPath: secretsConfigFile(dataDir, secrets), cwd: dataDir, env: {}, flags: { data_dir: dataDir } });
  const warnings: string[] = [];
  const { runtime, created } = await openRuntime(config, { ...options, onWarning: (m) => warnings.push(m) });
  return { runtime, created, warnings };
}

/**
 * A password store of its own: a passphrase-less gpg key in a temp GNUPGHOME
 * and a store in a temp PASSWORD_STORE_DIR. `cleanup` stops the gpg-agent
 * that decrypting started, so none is left running.
 */
export interface PassStore {
  /** The environment pass (and Portcullis' pass backend) must run with. */
  env: NodeJS.ProcessEnv;
  insert(entry: string, content: string): Promise<void>;
  cleanup(): Promise<void>;
}

const GPG_UID = 'Portcullis Test <portcullis-test@example.invalid>';

export async function createPassStore(): Promise<PassStore> {
  // Short paths: gpg-agent's socket lives in GNUPGHOME and a Unix socket path is limited to ~100 bytes.
  const gnupgHome = mkdtempSync('/tmp/pc-gpg-');
  chmodSync(gnupgHome, 0o700);
  const storeDir = mkdtempSync('/tmp/pc-pass-');
  const env = cleanEnv({ GNUPGHOME: gnupgHome, PASSWORD_STORE_DIR: storeDir });
  delete env.PASSWORD_STORE_GPG_OPTS;
  delete env.PASSWORD_STORE_KEY;
  const run = async (cmd: string, args: string[], input?: string) => {
    const r = await runCommand(cmd, args, { env, input, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  };
  const store: PassStore = {
    env,
    insert: (entry, content) => run('pass', ['insert', '--multiline', '--force', entry], content),
    async cleanup() {
      await runCommand('gpgconf', ['--kill', 'all'], { env, timeoutMs: 20_000 });
      rmSync(gnupgHome, { recursive: true, force: true });
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  try {
    await run('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', GPG_UID, 'default', 'default', 'never']);
    await run('pass', ['init', GPG_UID]);
  } catch (err) {
    await store.cleanup();
    throw err;
  }
  return store;
}
