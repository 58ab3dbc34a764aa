import { createPublicKey } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { libtrustKeyId } from '../../src/auth/signing-keys.js';
import { buildApp } from '../../src/http/app.js';
import { createToken } from '../../src/service/tokens.js';
import { expectCliError, runCliWithAsync } from '../helpers/cli.js';
import { runCommand } from '../helpers/run.js';
import { createPassStore, newPemKey, newPepper, openWithSecrets, secretsConfigFile, tempDir, type PassStore } from '../helpers/secrets.js';
import { describeE2E } from '../helpers/system-tools.js';
import { ownerCaller } from '../../src/service/context.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const SECRETS = { pepper: 'pass:portcullis/pepper', signing_key: 'pass:portcullis/signing-key' };

async function tokenFor(app: FastifyInstance, user: string, secret: string) {
  return app.inject({ method: 'GET', url: '/token?service=portcullis&scope=repository:acme/app:pull', headers: { authorization: basic(user, secret) } });
}

describeE2E('secrets from a real pass store', () => {
  let store: PassStore;
  let dataDir: string;
  const pepper = newPepper();
  const pem = newPemKey('ES256');
  const publicKey = createPublicKey(pem);

  beforeAll(async () => {
    store = await createPassStore();
    await store.insert('portcullis/pepper', `${pepper}\n`);
    await store.insert('portcullis/signing-key', pem);
    dataDir = tempDir('portcullis-pass-');
  });

  afterAll(async () => {
    await store?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const open = (initialize: boolean) => openWithSecrets(dataDir, SECRETS, { initialize, env: store.env });

  it('a first start takes the pepper and the signing key from pass and writes neither to the data dir; tokens work, the JWT verifies with the key from pass', async () => {
    const { runtime, created, warnings } = await open(true);
    let app: FastifyInstance | undefined;
    try {
      expect(warnings).toEqual([]);
      expect(Buffer.from(runtime.pepper)).toEqual(Buffer.from(pepper, 'base64'));
      expect(existsSync(join(dataDir, 'pepper'))).toBe(false);
      expect(existsSync(join(dataDir, 'keys')) ? readdirSync(join(dataDir, 'keys')) : []).toEqual([]);

      app = await buildApp(runtime);
      const ci = await createToken(runtime, ownerCaller(runtime.operator, { name: 'test', source: 'test' }), { type: 'vendor', name: 'ci' });
      const res = await tokenFor(app, ci.token.id, ci.secret);
      expect(res.statusCode, res.body).toBe(200);
      const jwt = (res.json() as { token: string }).token;

      // Verified with the public half of the PEM put into pass, not with anything the server says.
      const { payload } = await jwtVerify(jwt, publicKey, { issuer: 'portcullis', audience: 'portcullis' });
      expect(payload.sub).toBe(ci.token.id);
      const header = decodeProtectedHeader(jwt);
      expect(header).toMatchObject({ alg: 'ES256', kid: libtrustKeyId(publicKey) });

      const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: { kid: string; alg: string }[] };
      expect(jwks.keys.map((k) => [k.kid, k.alg])).toEqual([[libtrustKeyId(publicKey), 'ES256']]);
      await jwtVerify(jwt, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), { issuer: 'portcullis', audience: 'portcullis' });

      expect(created).toBeDefined();
    } finally {
      await app?.close();
      await runtime.close();
    }
  });

  it('reopened (as a CLI command does), the same pepper from pass still checks a token made earlier; another pepper in pass locks it out', async () => {
    // Only the pepper links a token's secret to its stored hash.
    const first = await open(false);
    const ci = await createToken(first.runtime, ownerCaller(first.runtime.operator, { name: 'test', source: 'test' }), { type: 'vendor', name: 'reopen' });
    await first.runtime.close();

    const again = await open(false);
    let app = await buildApp(again.runtime);
    expect((await tokenFor(app, ci.token.id, ci.secret)).statusCode).toBe(200);
    await app.close();
    await again.runtime.close();

    await store.insert('portcullis/pepper', `${newPepper()}\n`);
    try {
      const other = await open(false);
      app = await buildApp(other.runtime);
      expect((await tokenFor(app, ci.token.id, ci.secret)).statusCode).toBe(401);
      await app.close();
      await other.runtime.close();
    } finally {
      await store.insert('portcullis/pepper', `${pepper}\n`);
    }
  });

  it('a missing entry or a value that is no key stops the start, naming the key and the backend, never the value', async () => {
    await expect(openWithSecrets(dataDir, { ...SECRETS, pepper: 'pass:portcullis/missing' }, { initialize: false, env: store.env })).rejects.toThrow(
      /^secrets\.pepper \(pass:portcullis\/missing\): pass exited with 1: Error: portcullis\/missing is not in the password store\.$/,
    );
    const notAKey = 'this-is-not-a-pem-key-but-a-password';
    await store.insert('portcullis/not-a-key', notAKey);
    const err = await openWithSecrets(dataDir, { ...SECRETS, signing_key: 'pass:portcullis/not-a-key' }, { initialize: false, env: store.env }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^secrets\.signing_key \(pass:portcullis\/not-a-key\): is not a PEM private key/);
    expect((err as Error).message).not.toContain(notAKey);
    expect((err as { field?: string }).field).toBe('secrets.signing_key');
  });

  it('a GNUPGHOME without the key: pass fails and says why (gpg cannot decrypt), exit 2 from the CLI', async () => {
    const emptyHome = tempDir('pc-gpg-empty-');
    try {
      const r = await runCliWithAsync(dataDir, { env: { ...envOf(store), GNUPGHOME: emptyHome, PORTCULLIS_CONFIG: secretsConfigFile(dataDir, SECRETS) } }, 'token', 'list');
      expectCliError(r, 2, /^portcullis: secrets\.(pepper|signing_key) \(pass:portcullis\/(pepper|signing-key)\): pass exited with 2: .*decryption failed/);
    } finally {
      await runCommand('gpgconf', ['--kill', 'all'], { env: { ...store.env, GNUPGHOME: emptyHome } });
      rmSync(emptyHome, { recursive: true, force: true });
    }
  });

  it('CLI: keys list shows the key from pass; keys rotate refuses (exit 2), rotation happens in the backend', async () => {
    const env = { ...envOf(store), PORTCULLIS_CONFIG: secretsConfigFile(dataDir, SECRETS) };
    const list = await runCliWithAsync(dataDir, { env }, 'keys', 'list', '--json');
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ kid: libtrustKeyId(publicKey), alg: 'ES256', state: 'current' })]);

    const rotate = await runCliWithAsync(dataDir, { env }, 'keys', 'rotate');
    expectCliError(rotate, 2, /^portcullis: the signing key comes from secrets\.signing_key \(pass:portcullis\/signing-key\): rotate it there and restart Portcullis/);
    expect(existsSync(join(dataDir, 'keys')) ? readdirSync(join(dataDir, 'keys')).filter((f) => f.endsWith('.pem')) : []).toEqual([]);
  });
});

/** The store's GNUPGHOME and PASSWORD_STORE_DIR, for the CLI (which adds the rest of the environment itself). */
function envOf(store: PassStore): Record<string, string> {
  return { GNUPGHOME: store.env.GNUPGHOME!, PASSWORD_STORE_DIR: store.env.PASSWORD_STORE_DIR! };
}
