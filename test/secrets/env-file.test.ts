import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { libtrustKeyId } from '../../src/auth/signing-keys.js';
import { buildApp } from '../../src/http/app.js';
import { keyCertificateBundle, rotateKey } from '../../src/service/keys.js';
import { createToken } from '../../src/service/tokens.js';
import { expectCliError, initDataDir, runCliWithAsync } from '../helpers/cli.js';
import { newPemKey, newPepper, openWithSecrets, secretFile, secretsConfigFile, tempDir } from '../helpers/secrets.js';
import { ownerCaller } from '../../src/service/context.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const tokenFor = (app: FastifyInstance, user: string, secret: string) =>
  app.inject({ method: 'GET', url: '/token?service=portcullis&scope=repository:acme/app:pull', headers: { authorization: basic(user, secret) } });

const dirs: string[] = [];
const dir = (prefix = 'portcullis-secrets-') => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the start to fail'); }, (e: Error & { field?: string; code?: string }) => e);

describe('env and file backends', () => {
  it('pepper and SMTP password from the environment, an RS256 key from a 0600 file: no warning, tokens work, the JWT verifies with that key', async () => {
    const dataDir = dir();
    const secrets = dir('portcullis-secret-files-');
    const pem = newPemKey('RS256');
    const keyFile = secretFile(secrets, 'signing.pem', pem, 0o600);
    const pepper = newPepper();
    const env = { TEST_PEPPER: pepper, SMTP_PASSWORD: 'mail-pw\nlogin: portcullis@example.com\n' };
    const { runtime, warnings } = await openWithSecrets(dataDir, { pepper: 'env:TEST_PEPPER', signing_key: `file:${keyFile}`, smtp_password: 'env:SMTP_PASSWORD' }, { initialize: true, env });
    const app = await buildApp(runtime);
    try {
      expect(warnings).toEqual([]);
      expect(runtime.smtpPassword).toBe('mail-pw');
      expect(Buffer.from(runtime.pepper)).toEqual(Buffer.from(pepper, 'base64'));
      expect(existsSync(join(dataDir, 'pepper'))).toBe(false);

      const ci = await createToken(runtime, ownerCaller(runtime.operator, { name: 't', source: 't' }), { type: 'vendor', name: 'ci' });
      const res = await tokenFor(app, ci.token.id, ci.secret);
      expect(res.statusCode, res.body).toBe(200);
      const jwt = (res.json() as { token: string }).token;
      const publicKey = createPublicKey(pem);
      await jwtVerify(jwt, publicKey, { issuer: 'portcullis', audience: 'portcullis' });
      expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: 'RS256', kid: libtrustKeyId(publicKey) });
    } finally {
      await app.close();
      await runtime.close();
    }
  });

  it('a key file others can read (0644) works but warns, naming key, path and mode and never the content; 0600 does not', async () => {
    const secrets = dir('portcullis-secret-files-');
    const pem = newPemKey();
    const loose = secretFile(secrets, 'loose.pem', pem, 0o644);
    const pepperFile = secretFile(secrets, 'pepper', `${newPepper()}\n`, 0o600);
    const opened = await openWithSecrets(dir(), { pepper: `file:${pepperFile}`, signing_key: `file:${loose}` }, { initialize: true, env: {} });
    await opened.runtime.close();
    expect(opened.warnings).toEqual([`secrets.signing_key (file:${loose}): ${loose} is readable by group or others (mode 0644); chmod 600 it`]);
    expect(opened.warnings.join('')).not.toContain(pem.split('\n')[1]);
  });

  it.each<[string, Record<string, string>, Record<string, string>, RegExp]>([
    ['an unset variable', { pepper: 'env:NOT_SET' }, {}, /^secrets\.pepper \(env:NOT_SET\): environment variable NOT_SET is not set$/],
    ['an empty variable', { smtp_password: 'env:EMPTY' }, { EMPTY: '' }, /^secrets\.smtp_password \(env:EMPTY\): environment variable EMPTY is empty$/],
    ['a missing file', { signing_key: 'file:/nonexistent/signing.pem' }, {}, /^secrets\.signing_key \(file:\/nonexistent\/signing\.pem\): \/nonexistent\/signing\.pem does not exist$/],
    ['a directory', { signing_key: 'file:/tmp' }, {}, /^secrets\.signing_key \(file:\/tmp\): \/tmp is not a regular file$/],
    ['a short pepper', { pepper: 'env:P' }, { P: Buffer.alloc(16, 9).toString('base64') }, /^secrets\.pepper \(env:P\): decodes to 16 bytes: a pepper needs at least 32/],
    ['a pepper that is no base64', { pepper: 'env:P' }, { P: 'correct horse battery staple' }, /^secrets\.pepper \(env:P\): is more than one word/],
    ['a public key', { signing_key: 'env:K' }, { K: createPublicKey(newPemKey()).export({ type: 'spki', format: 'pem' }) as string }, /^secrets\.signing_key \(env:K\): is not a PEM private key/],
    ['a P-384 key', { signing_key: 'env:K' }, { K: pemOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey) }, /^secrets\.signing_key \(env:K\): is an EC key on secp384r1: expected an EC P-256 key \(ES256\) or an RSA key of at least 2048 bits \(RS256\)$/],
    ['an Ed25519 key', { signing_key: 'env:K' }, { K: pemOf(generateKeyPairSync('ed25519').privateKey) }, /^secrets\.signing_key \(env:K\): is an ed25519 key: expected/],
    ['an encrypted key', { signing_key: 'env:K' }, { K: encryptedPem('pkcs8') }, /^secrets\.signing_key \(env:K\): is an encrypted PEM key: store it unencrypted/],
    ['an encrypted SEC1 key', { signing_key: 'env:K' }, { K: encryptedPem('sec1') }, /^secrets\.signing_key \(env:K\): is an encrypted PEM key/],
  ])('%s stops the start, naming key and reference, never the value', async (_name, secrets, env, message) => {
    const err = await failure(openWithSecrets(dir(), { pepper: 'env:GOOD_PEPPER', ...secrets }, { initialize: true, env: { GOOD_PEPPER: newPepper(), ...env } }));
    expect(err.message).toMatch(message);
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe(`secrets.${Object.keys(secrets)[0]}`);
    for (const value of Object.values(env)) if (value.length > 8) expect(err.message).not.toContain(value.split('\n')[1] ?? value);
  });

  it('moving the data-dir pepper into a backend: the same value carries on; a different one is refused while the file is there', async () => {
    const dataDir = dir();
    const first = await openWithSecrets(dataDir, {}, { initialize: true, env: {} });
    const ci = await createToken(first.runtime, ownerCaller(first.runtime.operator, { name: 't', source: 't' }), { type: 'vendor', name: 'ci' });
    await first.runtime.close();
    const filePepper = readFileSync(join(dataDir, 'pepper'), 'utf8');

    const err = await failure(openWithSecrets(dataDir, { pepper: 'env:P' }, { initialize: false, env: { P: newPepper() } }));
    expect(err.message).toMatch(new RegExp(`^secrets\\.pepper is not the pepper in ${join(dataDir, 'pepper')}: every existing token would stop working`));

    const moved = await openWithSecrets(dataDir, { pepper: 'env:P' }, { initialize: false, env: { P: filePepper } });
    const app = await buildApp(moved.runtime);
    expect((await tokenFor(app, ci.token.id, ci.secret)).statusCode).toBe(200);
    await app.close();
    await moved.runtime.close();

    rmSync(join(dataDir, 'pepper'));
    const without = await openWithSecrets(dataDir, { pepper: 'env:P' }, { initialize: false, env: { P: filePepper } });
    await without.runtime.close();
  });

  it('with the pepper in a backend, a data dir without a database is no instance', async () => {
    const err = await failure(openWithSecrets(dir(), { pepper: 'env:P' }, { initialize: false, env: { P: newPepper() } }));
    expect(err.message).toMatch(/^no Portcullis instance in /);
  });

  it('an external key is the one key: keys rotate refuses, naming the key and reference, and nothing is written', async () => {
    const secrets = dir('portcullis-secret-files-');
    const keyFile = secretFile(secrets, 'signing.pem', newPemKey(), 0o600);
    const dataDir = dir();
    const { runtime } = await openWithSecrets(dataDir, { signing_key: `file:${keyFile}` }, { initialize: true, env: {} });
    try {
      const caller = ownerCaller(runtime.operator, { name: 't', source: 't' });
      const err = await failure(rotateKey(runtime, caller));
      expect(err.message).toBe(`the signing key comes from secrets.signing_key (file:${keyFile}): rotate it there and restart Portcullis; \`keys rotate\` only makes keys in the data dir`);
      expect(err.field).toBe('secrets.signing_key');
      expect(runtime.keys.all().map((k) => k.kid)).toEqual([libtrustKeyId(createPublicKey(readFileSync(keyFile, 'utf8')))]);
      expect(existsSync(join(dataDir, 'keys'))).toBe(false);
    } finally {
      await runtime.close();
    }
  });
});

describe('an external key and certificates', () => {
  it('keys cert certifies the key from the backend (JWKS then carries x5c); a key rotated in the backend is certified at the next start', async () => {
    const dataDir = dir();
    const secrets = dir('portcullis-secret-files-');
    const first = newPemKey();
    const keyFile = secretFile(secrets, 'signing.pem', first, 0o600);
    const open = () => openWithSecrets(dataDir, { signing_key: `file:${keyFile}` }, { initialize: true, env: {} });

    let { runtime } = await open();
    const caller = ownerCaller(runtime.operator, { name: 't', source: 't' });
    const { bundle, certified } = await keyCertificateBundle(runtime, caller);
    // The bundle is the CA alone; the key's leaf travels in each token's x5c.
    const [ca, ...more] = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((p) => new X509Certificate(p));
    expect(more).toEqual([]);
    const leaf = new X509Certificate(runtime.keys.current().certificateChain[0]!);
    const kid = libtrustKeyId(createPublicKey(first));
    expect(certified).toEqual([runtime.keys.current().name]);
    expect(leaf!.subject).toBe(`CN=${kid}`);
    expect(leaf!.verify(ca!.publicKey)).toBe(true);
    const app = await buildApp(runtime);
    const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: { kid: string; x5c?: string[] }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid });
    expect(jwks.keys[0]!.x5c).toHaveLength(2);
    await app.close();
    await runtime.close();

    const second = newPemKey('RS256');
    writeFileSync(keyFile, second);
    ({ runtime } = await open());
    try {
      const [key] = runtime.keys.all();
      expect(key).toMatchObject({ alg: 'RS256', kid: libtrustKeyId(createPublicKey(second)) });
      expect(new X509Certificate(key!.certificateChain[1]!).fingerprint256).toBe(ca!.fingerprint256);
    } finally {
      await runtime.close();
    }
  });
});

describe('CLI', () => {
  it('a bad reference is a config error naming the key (exit 2)', async () => {
    const { dataDir } = initDataDir();
    dirs.push(dataDir);
    const r = await runCliWithAsync(dataDir, { env: { PORTCULLIS_SECRETS_SIGNING_KEY: 'vault:secret/x' } }, 'keys', 'list');
    expectCliError(r, 2, /^portcullis: bad config value for "secrets\.signing_key" \(from PORTCULLIS_SECRETS_SIGNING_KEY\): unknown secrets backend "vault"/);
  });

  it('a PORTCULLIS_* variable is refused as a reference; an unset variable stops init before anything is written (exit 2)', async () => {
    const dataDir = dir();
    const r = await runCliWithAsync(dataDir, { env: { PORTCULLIS_CONFIG: secretsConfigFile(dataDir, { smtp_password: 'env:PORTCULLIS_TEST_UNSET_SMTP' }) } }, 'init');
    expectCliError(r, 2, /^portcullis: bad config value for "secrets\.smtp_password" \(in .*\): "env:PORTCULLIS_TEST_UNSET_SMTP": PORTCULLIS_\* variables are settings/);
    const unset = await runCliWithAsync(dataDir, { env: { PORTCULLIS_CONFIG: secretsConfigFile(dataDir, { smtp_password: 'env:TEST_UNSET_SMTP' }) } }, 'init');
    expectCliError(unset, 2, 'portcullis: secrets.smtp_password (env:TEST_UNSET_SMTP): environment variable TEST_UNSET_SMTP is not set');
    expect(existsSync(join(dataDir, 'pepper'))).toBe(false);
  });

  it('relative file paths are read from the working directory, and a symlink (as Kubernetes mounts secrets) is followed', async () => {
    const dataDir = dir();
    const secrets = dir('portcullis-secret-files-');
    secretFile(secrets, '..data-pepper', newPepper(), 0o600);
    symlinkSync(join(secrets, '..data-pepper'), join(secrets, 'pepper'));
    const init = await runCliWithAsync(dataDir, { cwd: secrets, env: { PORTCULLIS_SECRETS_PEPPER: 'file:pepper' } }, 'init', '--json');
    expect(init.status, init.stderr).toBe(0);
    expect(init.stderr).toBe('');
    expect(existsSync(join(dataDir, 'pepper'))).toBe(false);
    const missing = await runCliWithAsync(dataDir, { cwd: secrets, env: { PORTCULLIS_SECRETS_PEPPER: 'file:missing/pepper' } }, 'token', 'list');
    expectCliError(missing, 2, `portcullis: secrets.pepper (file:missing/pepper): ${join(secrets, 'missing', 'pepper')} does not exist`);
  });

  it('init and keys with secrets from env and file; a loose key file warns on stderr; keys rotate exits 2', async () => {
    const dataDir = dir();
    const secrets = dir('portcullis-secret-files-');
    const pem = newPemKey();
    const keyFile = secretFile(secrets, 'signing.pem', pem, 0o640);
    const env = { PORTCULLIS_CONFIG: secretsConfigFile(dataDir, { pepper: 'env:TEST_PEPPER', signing_key: `file:${keyFile}` }), TEST_PEPPER: newPepper() };
    const init = await runCliWithAsync(dataDir, { env }, 'init', '--json');
    expect(init.status, init.stderr).toBe(0);
    expect(init.stderr).toBe(`portcullis: warning: secrets.signing_key (file:${keyFile}): ${keyFile} is readable by group or others (mode 0640); chmod 600 it\n`);
    expect(JSON.parse(init.stdout)).toMatchObject({ initialized: true });

    const list = await runCliWithAsync(dataDir, { env }, 'keys', 'list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ kid: libtrustKeyId(createPublicKey(pem)), state: 'current', certified: false })]);

    const rotate = await runCliWithAsync(dataDir, { env }, 'keys', 'rotate');
    expect(rotate.status).toBe(2);
    expect(rotate.stderr).toMatch(/portcullis: the signing key comes from secrets\.signing_key \(file:.*\): rotate it there and restart Portcullis/);
    expect(rotate.stdout).toBe('');
  });
});

function pemOf(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function encryptedPem(type: 'pkcs8' | 'sec1'): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type, format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
}
