import type * as X509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFile } from './instance-secrets.js';
import { keysDir, type SigningKey } from './signing-keys.js';

/**
 * An instance certificate authority for the signing keys. A registry that
 * trusts the CA (its `rootcertbundle`) accepts tokens from any key the CA
 * certified, through the JWT's x5c chain, so `keys rotate` needs no change to
 * the registry's config. The bundle also carries each published key's own
 * certificate, which is what a kid-only lookup matches.
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

const CA_DIR = 'ca';
const CA_KEY = 'ca-key.pem';
const CA_CERT = 'ca.crt';
const CA_YEARS = 20;
const LEAF_YEARS = 10;

const ECDSA_P256 = { import: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } };
const SIGNING: Record<SigningKey['alg'] | 'CA', { import: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams; sign: webcrypto.EcdsaParams | webcrypto.Algorithm }> = {
  ES256: ECDSA_P256,
  CA: ECDSA_P256,
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } },
};

interface CertificateAuthority {
  cert: X509.X509Certificate;
  privateKey: CryptoKey;
}

function caPaths(dataDir: string): { dir: string; key: string; cert: string } {
  const dir = join(keysDir(dataDir), CA_DIR);
  return { dir, key: join(dir, CA_KEY), cert: join(dir, CA_CERT) };
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

export function hasCertificateAuthority(dataDir: string): boolean {
  return existsSync(caPaths(dataDir).cert);
}

async function loadOrCreateCa(dataDir: string, issuer: string, now: Date): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const paths = caPaths(dataDir);
  if (!existsSync(paths.key)) {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeSecretFile(paths.key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
  const keyObject = createPrivateKey(readFileSync(paths.key, 'utf8'));
  const privateKey = await importPrivate(keyObject, 'CA');
  if (existsSync(paths.cert)) return { cert: new x509.X509Certificate(readFileSync(paths.cert, 'utf8')), privateKey };

  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    createPublicKey(keyObject).export({ type: 'spki', format: 'der' }),
    SIGNING.CA.import,
    true,
    ['verify'],
  );
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${escapeDn(issuer)} token signing CA`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: addYears(now, CA_YEARS),
    signingAlgorithm: SIGNING.CA.sign,
    keys: { privateKey, publicKey: publicKey as CryptoKey },
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey as CryptoKey),
    ],
  });
  writeFileSync(paths.cert, cert.toString('pem') + '\n', { mode: 0o644 });
  return { cert, privateKey };
}

function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

async function issueLeaf(ca: CertificateAuthority, key: SigningKey, now: Date): Promise<X509.X509Certificate> {
  const x509 = await loadX509();
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    key.publicKey.export({ type: 'spki', format: 'der' }),
    SIGNING[key.alg].import,
    true,
    ['verify'],
  );
  return x509.X509CertificateGenerator.create({
    subject: `CN=${key.kid}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: addYears(now, LEAF_YEARS),
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

/**
 * Gives every key without a certificate one from the instance CA (created on
 * first use), written as `keys/<name>.crt`: leaf, then CA. Returns the names
 * of the keys that got one.
 */
export async function certifyKeys(dataDir: string, keys: readonly SigningKey[], issuer: string, now: Date): Promise<string[]> {
  const ca = await loadOrCreateCa(dataDir, issuer, now);
  const certified: string[] = [];
  for (const key of keys) {
    if (key.certificateChain.length > 0) continue;
    const leaf = await issueLeaf(ca, key, now);
    writeFileSync(join(keysDir(dataDir), `${key.name}.crt`), `${leaf.toString('pem')}\n${ca.cert.toString('pem')}\n`, { mode: 0o644 });
    certified.push(key.name);
  }
  return certified;
}

/**
 * The PEM bundle for distribution's `auth.token.rootcertbundle`: the CA, then
 * the certificate of each given key.
 */
export function certificateBundle(dataDir: string, keys: readonly SigningKey[]): string {
  const pems: string[] = [];
  const seen = new Set<string>();
  const add = (der: Buffer) => {
    const pem = new X509Certificate(der).toString().trim();
    if (!seen.has(pem)) pems.push(pem);
    seen.add(pem);
  };
  const caFile = caPaths(dataDir).cert;
  if (existsSync(caFile)) add(Buffer.from(new X509Certificate(readFileSync(caFile)).raw));
  for (const key of keys) {
    const leaf = key.certificateChain[0];
    if (leaf) add(leaf);
  }
  return `${pems.join('\n')}\n`;
}
