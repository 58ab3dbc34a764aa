/**
 * A throw-away certificate authority and server certificates for TLS tests,
 * made in-process with @peculiar/x509 (Node's crypto cannot sign
 * certificates). Keys are EC P-256; a CA signs in about 25 ms.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

type CryptoKeyPair = webcrypto.CryptoKeyPair;

export interface TestCa {
  /** PEM of the CA certificate: what clients are told to trust (ca.crt). */
  certPem: string;
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface ServerCert {
  /** The leaf, then the CA: a full chain as a server sends it. */
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
  /** Hex, lower case (Node's X509Certificate.serialNumber says it in upper case). */
  serial: string;
}

let serials = 0;
/** Unique within a run, so a test can tell one certificate from another; the leading 1 keeps it positive (Go refuses negative serials). */
function nextSerial(): string {
  serials += 1;
  return `1${(Date.now() % 0xfffffff).toString(16).padStart(7, '0')}${serials.toString(16).padStart(4, '0')}`;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function pemOfKey(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

export async function createTestCa(name = 'Portcullis test CA'): Promise<TestCa> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, certPem: `${cert.toString('pem')}\n` };
}

/** A server certificate for 127.0.0.1 and localhost (or `names`), signed by `ca`. */
export async function issueServerCert(ca: TestCa, options: { cn?: string; dns?: string[]; ips?: string[]; notAfter?: Date } = {}): Promise<ServerCert> {
  const keys = await generateKeys();
  const serial = nextSerial();
  const dns = options.dns ?? ['localhost'];
  const ips = options.ips ?? ['127.0.0.1'];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${options.cn ?? 'localhost'}`,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 86_400_000),
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...dns.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  const keyPem = pemOfKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { certPem: `${cert.toString('pem')}\n${ca.certPem}`, keyPem, serial };
}
