import type * as X509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { leafRenewal, type RenewalDecision, type RenewalReason } from '../core/certificate-renewal.js';
import { durationToSeconds, parseDuration } from '../core/duration.js';
import { writeSecretFile } from './instance-secrets.js';
import { keysDir, type SigningKey } from './signing-keys.js';

/**
 * An instance certificate authority for the signing keys. A registry trusts
 * the CA alone (its `rootcertbundle`) and each token through its x5c chain:
 * the current key's short-lived leaf, then the CA. A registry checks the
 * leaf's dates, so a key that no longer signs stops being trusted when its
 * last leaf ends; `serve` renews the current key's leaf long before that.
 * The bundle never holds a leaf: distribution trusts a bundle certificate's
 * key by `kid` without looking at its dates, which would trust every key
 * ever certified for as long as the bundle is installed.
 */

let library: Promise<typeof X509> | undefined;

/**
 * The certificate library, loaded the first time a certificate is made: it
 * (with its metadata polyfill) is a sizeable part of a server's memory, and a
 * server only needs it when a key is certified.
 */
function loadX509(): Promise<typeof X509> {
  library ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return library;
}

type CryptoKey = webcrypto.CryptoKey;

const CA_KEY = 'ca-key.pem';
const CA_CERT = 'ca.crt';
const CA_YEARS = 20;
/** Leaves start a minute early, for registries whose clock runs a little behind. */
const BACKDATE_MS = 60_000;

const ECDSA_P256 = { import: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
const SIGNING: Record<SigningKey['alg'] | 'CA', { import: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams; sign: webcrypto.EcdsaParams | webcrypto.Algorithm }> = {
  ES256: ECDSA_P256,
  CA: ECDSA_P256,
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } },
};

/** Where the CA and the leaves live, and how long a leaf lasts. */
export interface CertificateSettings {
  /** `keys/` in the data dir: each key's chain is `keys/<name>.crt`. */
  keysDir: string;
  /** auth.ca_dir, default `keys/ca`: `ca-key.pem` and `ca.crt`. */
  caDir: string;
  issuer: string;
  /** auth.certificate_ttl. */
  lifetimeMs: number;
}

export function certificateSettings(config: Readonly<Config>): CertificateSettings {
  const ttl = parseDuration(config.auth.certificate_ttl);
  return {
    keysDir: keysDir(config.data_dir),
    caDir: config.auth.ca_dir ?? join(keysDir(config.data_dir), 'ca'),
    issuer: config.auth.issuer,
    lifetimeMs: (ttl === null ? 7 * 86_400 : durationToSeconds(ttl)) * 1000,
  };
}

interface CertificateAuthority {
  cert: X509.X509Certificate;
  /** The same certificate, for checks with node:crypto. */
  node: X509Certificate;
  privateKey: CryptoKey;
}

function caPaths(s: CertificateSettings): { key: string; cert: string } {
  return { key: join(s.caDir, CA_KEY), cert: join(s.caDir, CA_CERT) };
}

async function importPrivate(key: KeyObject, alg: keyof typeof SIGNING): Promise<CryptoKey> {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, SIGNING[alg].import, false, ['sign']);
}

function addYears(d: Date, years: number): Date {
  const out = new Date(d.getTime());
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

function hasCertificateAuthority(s: CertificateSettings): boolean {
  return existsSync(caPaths(s).cert);
}

/** The CA certificate, when there is one. */
function caCertificate(s: CertificateSettings): X509Certificate | undefined {
  const file = caPaths(s).cert;
  return existsSync(file) ? new X509Certificate(readFileSync(file)) : undefined;
}

async function loadOrCreateCa(s: CertificateSettings, now: Date, create: boolean): Promise<CertificateAuthority | undefined> {
  const paths = caPaths(s);
  if (!create && !existsSync(paths.cert)) return undefined;
  const x509 = await loadX509();
  if (!existsSync(paths.key)) {
    mkdirSync(s.caDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeSecretFile(paths.key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
  const keyObject = createPrivateKey(readFileSync(paths.key, 'utf8'));
  const privateKey = await importPrivate(keyObject, 'CA');
  if (existsSync(paths.cert)) {
    const pem = readFileSync(paths.cert, 'utf8');
    return { cert: new x509.X509Certificate(pem), node: new X509Certificate(pem), privateKey };
  }

  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    createPublicKey(keyObject).export({ type: 'spki', format: 'der' }),
    SIGNING.CA.import,
    true,
    ['verify'],
  );
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${escapeDn(s.issuer)} token signing CA`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: addYears(now, CA_YEARS),
    signingAlgorithm: SIGNING.CA.sign,
    keys: { privateKey, publicKey: publicKey as CryptoKey },
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey as CryptoKey),
    ],
  });
  const pem = cert.toString('pem');
  writeFileSync(paths.cert, `${pem}\n`, { mode: 0o644 });
  return { cert, node: new X509Certificate(pem), privateKey };
}

function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

async function issueLeaf(ca: CertificateAuthority, key: SigningKey, now: Date, lifetimeMs: number): Promise<X509.X509Certificate> {
  const caEnd = new Date(ca.node.validTo);
  if (caEnd.getTime() <= now.getTime()) throw new Error(`the instance CA expired on ${caEnd.toISOString()}: make a new one (keys rotate --new-ca) and give every registry its bundle`);
  const x509 = await loadX509();
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    key.publicKey.export({ type: 'spki', format: 'der' }),
    SIGNING[key.alg].import,
    true,
    ['verify'],
  );
  return x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
    subject: `CN=${key.kid}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    // A leaf never outlives the CA that vouches for it.
    notAfter: new Date(Math.min(now.getTime() + lifetimeMs, caEnd.getTime())),
    signingAlgorithm: SIGNING.CA.sign,
    publicKey: publicKey as CryptoKey,
    signingKey: ca.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey as CryptoKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
}

/** The key's leaf, if it has one, with whether the current CA issued it for this key. */
function currentLeaf(key: SigningKey, ca: X509Certificate | undefined): { cert: X509Certificate; matches: boolean } | undefined {
  const der = key.certificateChain[0];
  if (!der) return undefined;
  const cert = new X509Certificate(der);
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  const matches = ca !== undefined && cert.checkIssued(ca) && cert.verify(ca.publicKey) && spki(cert.publicKey).equals(spki(key.publicKey));
  return { cert, matches };
}

/** Whether the key's leaf needs renewing now, and when it ends. */
function inspectCertificate(s: CertificateSettings, key: SigningKey, now: Date): { decision: RenewalDecision; notAfter?: Date } {
  const leaf = currentLeaf(key, caCertificate(s));
  if (!leaf) return { decision: leafRenewal(undefined, now, s.lifetimeMs) };
  const notAfter = new Date(leaf.cert.validTo);
  return { decision: leafRenewal({ notBefore: new Date(leaf.cert.validFrom), notAfter, matches: leaf.matches }, now, s.lifetimeMs), notAfter };
}

/**
 * A new chain for the key (leaf, then CA), not written anywhere. `createCa`:
 * make the instance CA if there is none; otherwise a missing CA is undefined.
 */
export async function issueCertificateChain(s: CertificateSettings, key: SigningKey, now: Date, createCa = false): Promise<Buffer[] | undefined> {
  const ca = await loadOrCreateCa(s, now, createCa);
  if (!ca) return undefined;
  const leaf = await issueLeaf(ca, key, now, s.lifetimeMs);
  return [Buffer.from(leaf.rawData), Buffer.from(ca.cert.rawData)];
}

function toPem(der: Buffer): string {
  return new X509Certificate(der).toString().trim();
}

/**
 * Replaces `keys/<name>.crt` in one step: a reader (this or another instance)
 * sees the old chain or the new one, never half of one.
 */
function writeChain(s: CertificateSettings, key: SigningKey, chain: Buffer[]): void {
  mkdirSync(s.keysDir, { recursive: true, mode: 0o700 });
  const file = join(s.keysDir, `${key.name}.crt`);
  const tmp = join(s.keysDir, `.${key.name}.crt.${randomBytes(8).toString('hex')}.tmp`);
  writeFileSync(tmp, `${chain.map(toPem).join('\n')}\n`, { mode: 0o644, flag: 'wx' });
  try {
    renameSync(tmp, file);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

export type CertificateOutcome =
  | { state: 'no_ca' }
  | { state: 'kept'; notAfter: Date }
  | { state: 'issued'; reason: RenewalReason; notAfter: Date; previousNotAfter?: Date };

/**
 * Gives the key a leaf from the instance CA when it has none, or one that is
 * ending, expired, too long or from another CA; keeps a good one. Without a
 * CA nothing happens, unless createCa (`keys cert`) makes one first.
 */
export async function ensureCertificate(s: CertificateSettings, key: SigningKey, now: Date, createCa = false): Promise<CertificateOutcome> {
  if (!createCa && !hasCertificateAuthority(s)) return { state: 'no_ca' };
  if (createCa) await loadOrCreateCa(s, now, true);
  const { decision, notAfter } = inspectCertificate(s, key, now);
  if (!decision.due) return { state: 'kept', notAfter: notAfter! };
  const chain = (await issueCertificateChain(s, key, now))!;
  writeChain(s, key, chain);
  return { state: 'issued', reason: decision.reason, notAfter: new Date(new X509Certificate(chain[0]!).validTo), ...(notAfter ? { previousNotAfter: notAfter } : {}) };
}

/**
 * Sets the CA aside (its files renamed `retired-<stamp>-…`, no longer used)
 * and makes a new one, for a suspected compromise. Every leaf of the old CA
 * stops mattering once registries hold only the new CA's bundle.
 */
export async function replaceCertificateAuthority(s: CertificateSettings, now: Date): Promise<{ retired: string[] }> {
  const paths = caPaths(s);
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  const retired: string[] = [];
  for (const [file, name] of [
    [paths.key, CA_KEY],
    [paths.cert, CA_CERT],
  ] as const) {
    if (!existsSync(file)) continue;
    const to = join(s.caDir, `retired-${stamp}-${name}`);
    renameSync(file, to);
    retired.push(to);
  }
  await loadOrCreateCa(s, now, true);
  return { retired };
}

/** The PEM bundle for distribution's `auth.token.rootcertbundle`: the instance CA, nothing else. */
export function certificateBundle(s: CertificateSettings): string {
  const ca = caCertificate(s);
  if (!ca) throw new Error(`no instance CA in ${s.caDir}`);
  return `${ca.toString().trim()}\n`;
}
