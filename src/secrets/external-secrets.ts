import { externalSigningKey, type SigningKey } from '../auth/signing-keys.js';
import type { Config } from '../config/schema.js';
import { invalid, PortcullisError } from '../core/errors.js';
import { decodePepper } from '../core/pepper-format.js';
import { formatSecretRef, parseSecretRef, type SecretRef } from '../core/secret-ref.js';
import type { BackendContext } from './backend-context.js';
import { readSecret } from './read-secret.js';

/** The `[secrets]` values that are set, read and checked; an unset key is undefined and its data-dir file applies. */
export interface ExternalSecrets {
  pepper?: Uint8Array;
  signingKey?: SigningKey;
  smtpPassword?: string;
}

export interface ResolveOptions {
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default process.cwd(). */
  cwd?: string;
  /** Default DEFAULT_BACKEND_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Told, per key, about findings that do not stop start-up; never the secret. */
  warn(message: string): void;
  /** When the secrets are read: stands in for the external key's creation time. */
  now: Date;
}

/** pass and sops decrypt through gpg-agent or a KMS: seconds on a slow day, never a minute. */
export const DEFAULT_BACKEND_TIMEOUT_MS = 15_000;

type SecretKey = keyof Config['secrets'];

/**
 * Reads every key set in `[secrets]` (side by side; pass or sops can be slow)
 * and checks each is the kind of value it must be. A failure names the key
 * and the reference, never the value, as an invalid_input error for that key.
 */
export async function resolveExternalSecrets(config: Readonly<Config>, options: ResolveOptions): Promise<ExternalSecrets> {
  const { secrets } = config;
  const read = (key: SecretKey) => readConfigured(key, secrets[key], options);
  const [pepper, signingKey, smtpPassword] = await Promise.all([
    read('pepper').then((r) => r && decoded('pepper', r, decodePepper)),
    read('signing_key').then((r) => r && decoded('signing_key', r, (text) => externalSigningKey(text, config.data_dir, options.now))),
    read('smtp_password').then((r) => r && decoded('smtp_password', r, firstLine)),
  ]);
  return { pepper, signingKey, smtpPassword };
}

interface Read {
  ref: SecretRef;
  text: string;
}

async function readConfigured(key: SecretKey, value: string | undefined, options: ResolveOptions): Promise<Read | undefined> {
  if (value === undefined) return undefined;
  const ref = withKey(key, value, () => parseSecretRef(value));
  const ctx: BackendContext = {
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    timeoutMs: options.timeoutMs ?? DEFAULT_BACKEND_TIMEOUT_MS,
    warn: (message) => options.warn(`secrets.${key} (${formatSecretRef(ref)}): ${message}`),
  };
  try {
    return { ref, text: await readSecret(ref, ctx) };
  } catch (err) {
    throw keyError(key, formatSecretRef(ref), err);
  }
}

function decoded<T>(key: SecretKey, read: Read, decode: (text: string) => T): T {
  return withKey(key, formatSecretRef(read.ref), () => decode(read.text));
}

function withKey<T>(key: SecretKey, ref: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw keyError(key, ref, err);
  }
}

/** Only our own messages are shown: they are written never to hold the secret. Anything else is a bug, reported by kind only. */
function keyError(key: SecretKey, ref: string, err: unknown): PortcullisError {
  const what = err instanceof PortcullisError ? err.message : `unexpected ${(err as Error)?.name ?? 'error'}${(err as NodeJS.ErrnoException)?.code ? ` ${(err as NodeJS.ErrnoException).code}` : ''}`;
  return invalid(`secrets.${key} (${ref}): ${what}`, `secrets.${key}`);
}

/** pass keeps the password on the first line and notes (login:, url:) below it; a plain file or variable is just the line. */
function firstLine(text: string): string {
  const line = text.replace(/^\n+/, '').split(/\r?\n/)[0]!;
  if (line.trim() === '') throw invalid('is empty');
  return line;
}
