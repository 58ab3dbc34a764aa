import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { invalid } from '../core/errors.js';
import { KEYS_DIR, writeSecretFile } from './instance-secrets.js';

/**
 * The keys that sign registry tokens. Each is a file `keys/<alg>-<stamp>.pem`
 * (PKCS#8, mode 0600), with an optional certificate chain `keys/<name>.crt`
 * (a short-lived leaf from the instance CA, then the CA; see certificates.ts).
 * The newest key signs; an older key stays published until the last token it
 * may have signed has expired.
 */

export type KeyAlgorithm = 'ES256' | 'RS256';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ES256', 'RS256'];

export interface SigningKey {
  /** File name without extension, sortable by creation time. */
  name: string;
  alg: KeyAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The libtrust key ID distribution 2.x matches against its certificate bundle. */
  kid: string;
  createdAt: Date;
  /** DER certificates, leaf first, when the key has one: sent as the JWT's x5c. */
  certificateChain: Buffer[];
}

const KEY_FILE_RE = /^(es256|rs256)-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(\d{3})Z\.pem$/;

/** Seconds a registry accepts a token past its exp (distribution allows 60). */
export const CLOCK_LEEWAY_SECONDS = 60;

export function keysDir(dataDir: string): string {
  return join(dataDir, KEYS_DIR);
}

function stamp(now: Date): string {
  return now.toISOString().replace(/[-:.]/g, '').replace('T', '-');
}

/**
 * distribution's key ID: SHA-256 of the DER SubjectPublicKeyInfo, first 240
 * bits, base32 without padding, in twelve groups of four joined by ':'.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const digest = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

/** PEM blocks of a certificate file, decoded to DER, in file order. */
export function readCertificateChain(file: string): Buffer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((pem) => Buffer.from(new X509Certificate(pem).raw));
}

function loadKey(dir: string, file: string): SigningKey | undefined {
  const m = KEY_FILE_RE.exec(file);
  if (!m) return undefined;
  const [, alg, y, mo, d, h, mi, s, ms] = m;
  const privateKey = createPrivateKey(readFileSync(join(dir, file), 'utf8'));
  const publicKey = createPublicKey(privateKey);
  const name = file.slice(0, -'.pem'.length);
  return {
    name,
    alg: alg === 'rs256' ? 'RS256' : 'ES256',
    privateKey,
    publicKey,
    kid: libtrustKeyId(publicKey),
    createdAt: new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`),
    certificateChain: readCertificateChain(join(dir, `${name}.crt`)),
  };
}

/** ES256 is P-256 only; RSA below 2048 bits is refused by registries and by us. */
function externalKeyAlgorithm(key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) return 'RS256';
  const what = key.asymmetricKeyType === 'ec' ? `an EC key on ${details.namedCurve}` : key.asymmetricKeyType === 'rsa' ? `a ${details.modulusLength}-bit RSA key` : `an ${key.asymmetricKeyType} key`;
  throw invalid(`is ${what}: expected an EC P-256 key (ES256) or an RSA key of at least 2048 bits (RS256)`);
}

/**
 * The signing key when it lives in a secrets backend (secrets.signing_key):
 * a PEM private key, PKCS#8, SEC1 or PKCS#1. Its name comes from its public
 * key, so its certificate (`keys/<name>.crt`, from `keys cert`) belongs to it
 * alone and a key rotated in the backend starts uncertified. `loadedAt`
 * stands in for the creation time nobody recorded. Messages never quote it.
 */
export function externalSigningKey(pem: string, dataDir: string, loadedAt: Date): SigningKey {
  // Node's error for a missing passphrase differs between OpenSSL versions; the PEM's own markers do not.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m.test(pem)) {
    throw invalid('is an encrypted PEM key: store it unencrypted in the backend, which is what protects it');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw invalid('is not a PEM private key (expected -----BEGIN PRIVATE KEY----- or EC/RSA PRIVATE KEY)');
  }
  const alg = externalKeyAlgorithm(privateKey);
  const publicKey = createPublicKey(privateKey);
  const name = `external-${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16)}`;
  return {
    name,
    alg,
    privateKey,
    publicKey,
    kid: libtrustKeyId(publicKey),
    createdAt: loadedAt,
    certificateChain: readCertificateChain(join(keysDir(dataDir), `${name}.crt`)),
  };
}

/** Oldest first (by the stamp in the name, whatever the algorithm); files that are not signing keys (the CA, certificates) are skipped. */
export function listSigningKeys(dataDir: string): SigningKey[] {
  const dir = keysDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((f) => loadKey(dir, f))
    .filter((k): k is SigningKey => k !== undefined)
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/** A new key; being the newest, it signs from now on. Stamps are unique across algorithms. */
export function createSigningKey(dataDir: string, alg: KeyAlgorithm, now: Date): SigningKey {
  const dir = keysDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let at = now;
  // Two rotations in one millisecond would otherwise collide on the file name.
  while (readdirSyncSafe(dir).some((f) => f.endsWith(`${stamp(at)}.pem`))) at = new Date(at.getTime() + 1);
  const file = `${alg.toLowerCase()}-${stamp(at)}.pem`;
  const { privateKey } =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 3072 });
  writeSecretFile(join(dir, file), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return loadKey(dir, file)!;
}

function readdirSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Keys whose tokens may still be live: the current one, and each older key
 * until its successor has signed for a full token lifetime (plus the
 * registry's leeway), after which nothing it signed can still be accepted.
 */
export function publishedKeys(keys: readonly SigningKey[], now: Date, accessTokenTtlSeconds: number): SigningKey[] {
  const windowMs = (accessTokenTtlSeconds + CLOCK_LEEWAY_SECONDS) * 1000;
  return keys.filter((key, i) => {
    const next = keys[i + 1];
    return next === undefined || now.getTime() < next.createdAt.getTime() + windowMs;
  });
}

/**
 * The keys as the running server sees them. Another process (`portcullis keys
 * rotate`) may add a key at any time; a stat of the directory, at most once a
 * second, notices it without a restart. With an external key (from
 * secrets.signing_key) that key alone signs and is published, whatever the
 * data dir holds; only its certificate is read from there, and `keys cert`
 * or a renewal (in this or another instance) may replace it at any time too.
 */
export class KeyRing {
  private keys: SigningKey[] = [];
  private seenMtimeMs = -1;
  private checkedAt = -Infinity;

  constructor(
    private readonly dataDir: string,
    private readonly accessTokenTtlSeconds: number,
    private readonly externalKey?: SigningKey,
  ) {
    this.reload();
  }

  /** True when the key comes from a secrets backend: it is rotated there, not by `keys rotate`. */
  get external(): boolean {
    return this.externalKey !== undefined;
  }

  private reload(): void {
    const ext = this.externalKey;
    this.keys = ext ? [{ ...ext, certificateChain: readCertificateChain(join(keysDir(this.dataDir), `${ext.name}.crt`)) }] : listSigningKeys(this.dataDir);
    this.seenMtimeMs = this.dirMtime();
  }

  private dirMtime(): number {
    try {
      return statSync(keysDir(this.dataDir)).mtimeMs;
    } catch {
      return -1;
    }
  }

  /** Reads the directory again if it changed since the last look. */
  refresh(force = false): void {
    const t = performance.now();
    if (!force && t - this.checkedAt < 1000) return;
    this.checkedAt = t;
    if (force || this.dirMtime() !== this.seenMtimeMs) this.reload();
  }

  all(): SigningKey[] {
    this.refresh();
    return [...this.keys];
  }

  current(): SigningKey {
    this.refresh();
    const key = this.keys[this.keys.length - 1];
    if (!key) throw new Error(`no signing key in ${keysDir(this.dataDir)}`);
    return key;
  }

  published(now: Date): SigningKey[] {
    this.refresh();
    return publishedKeys(this.keys, now, this.accessTokenTtlSeconds);
  }
}
