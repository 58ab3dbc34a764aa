/**
 * The sops backend. Debian has no sops package and npm has no package that
 * ships its binary, so these tests put a stand-in `sops` on PATH: a script
 * that accepts exactly the command lines Portcullis runs (`sops -d FILE`,
 * `sops -d --extract '["KEY"]' FILE`) and answers like sops (the decrypted
 * text on stdout; on failure, a message on stderr and a non-zero exit).
 * What it cannot prove is real decryption; that is sops' own business.
 */
import { createPublicKey } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { createToken } from '../../src/service/tokens.js';
import { resolveExternalSecrets } from '../../src/secrets/external-secrets.js';
import { newPemKey, newPepper, openWithSecrets, tempDir } from '../helpers/secrets.js';
import { ownerCaller } from '../../src/service/context.js';

/** The stand-in. A "sops file" here is JSON: { sops_fake: { plain } } or { sops_fake: { values } }, or a failure to act out. */
const FAKE_SOPS = `#!${process.execPath}
const { readFileSync } = require('node:fs');
const args = process.argv.slice(2);
const fail = (code, message) => { process.stderr.write(message + '\\n'); process.exit(code); };
let key;
if (args.length === 2 && args[0] === '-d') key = undefined;
else if (args.length === 4 && args[0] === '-d' && args[1] === '--extract' && /^\\["[^"]+"\\]$/.test(args[2])) key = JSON.parse(args[2])[0];
else fail(64, 'fake sops: unexpected arguments ' + JSON.stringify(args));
const file = args[args.length - 1];
if (!file.startsWith('/')) fail(64, 'fake sops: expected an absolute path, got ' + file);
let doc;
try { doc = JSON.parse(readFileSync(file, 'utf8')).sops_fake; } catch (e) { fail(2, 'Error: cannot operate on non-existent file'); }
if (doc === undefined) fail(1, 'sops metadata not found');
if (doc.hang) setInterval(() => {}, 1000);
else if (doc.fail) { if (doc.stdout) process.stdout.write(doc.stdout); fail(128, doc.fail); }
else if (key === undefined) process.stdout.write(doc.plain);
else if (!(key in doc.values)) fail(1, 'Error walking tree: component ["' + key + '"] not found');
else process.stdout.write(doc.values[key]);
`;

let root: string;
let bin: string;
let env: NodeJS.ProcessEnv;
/** Under root, so afterAll removes it. */
const dataDir = () => mkdtempSync(join(root, 'data-'));
const sopsFile = (name: string, doc: unknown) => {
  const path = join(root, name);
  writeFileSync(path, JSON.stringify({ sops_fake: doc }), { mode: 0o600 });
  return path;
};

beforeAll(() => {
  root = tempDir('portcullis-sops-');
  bin = join(root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'sops'), FAKE_SOPS);
  chmodSync(join(bin, 'sops'), 0o755);
  env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the start to fail'); }, (e: Error & { field?: string }) => e);

describe('sops backend (stand-in sops on PATH)', () => {
  it('a pepper file decrypted whole and a signing key and SMTP password extracted from one structured file: tokens work, the JWT verifies', async () => {
    const pepper = newPepper();
    const pem = newPemKey();
    const pepperFile = sopsFile('pepper.enc', { plain: `${pepper}\n` });
    const secrets = sopsFile('secrets.json', { values: { signing_key: pem, smtp_password: 'smtp-secret' } });
    const { runtime } = await openWithSecrets(dataDir(), { pepper: `sops:${pepperFile}`, signing_key: `sops:${secrets}#signing_key`, smtp_password: `sops:${secrets}#smtp_password` }, { initialize: true, env });
    const app = await buildApp(runtime);
    try {
      expect(Buffer.from(runtime.pepper)).toEqual(Buffer.from(pepper, 'base64'));
      expect(runtime.smtpPassword).toBe('smtp-secret');
      const ci = await createToken(runtime, ownerCaller(runtime.operator, { name: 't', source: 't' }), { type: 'vendor', name: 'ci' });
      const res = await app.inject({ method: 'GET', url: '/token?service=portcullis&scope=repository:acme/app:pull', headers: { authorization: `Basic ${Buffer.from(`${ci.token.id}:${ci.secret}`).toString('base64')}` } });
      expect(res.statusCode, res.body).toBe(200);
      await jwtVerify((res.json() as { token: string }).token, createPublicKey(pem), { issuer: 'portcullis', audience: 'portcullis' });
    } finally {
      await app.close();
      await runtime.close();
    }
  });

  it("a failed decryption shows sops' stderr (a few lines, on one line) and never what it printed on stdout", async () => {
    const leaked = 'PARTIAL-SECRET-ON-STDOUT';
    const file = sopsFile('broken.enc', { fail: 'Failed to get the data key required to decrypt the SOPS file.\n\nGroup 0: FAILED\n  age1xyz: FAILED\n    - | no identity matched any of the recipients', stdout: leaked });
    const err = await failure(openWithSecrets(dataDir(), { pepper: `sops:${file}` }, { initialize: true, env }));
    expect(err.message).toBe(`secrets.pepper (sops:${file}): sops exited with 128: Group 0: FAILED | age1xyz: FAILED | - | no identity matched any of the recipients`);
    expect(err.field).toBe('secrets.pepper');
    expect(err.message).not.toContain(leaked);
  });

  it.each([
    ['a key the file does not have', (f: string) => `sops:${f}#missing`, (f: string) => `secrets.smtp_password (sops:${f}#missing): sops exited with 1: Error walking tree: component ["missing"] not found`],
    ['a file that is not sops-encrypted', () => `sops:${join(root, 'plain.json')}`, () => `secrets.smtp_password (sops:${join(root, 'plain.json')}): sops exited with 1: sops metadata not found`],
    ['an empty value', (f: string) => `sops:${f}#empty`, (f: string) => `secrets.smtp_password (sops:${f}#empty): sops printed nothing`],
  ])('%s stops the start with a message naming key and reference', async (_name, ref, message) => {
    const file = sopsFile('values.json', { values: { smtp_password: 'x', empty: '' } });
    writeFileSync(join(root, 'plain.json'), '{"smtp_password":"x"}');
    const err = await failure(openWithSecrets(dataDir(), { smtp_password: ref(file) }, { initialize: true, env }));
    expect(err.message).toBe(message(file));
  });

  it('sops missing from PATH is said so', async () => {
    const config = loadConfig({ env: { PORTCULLIS_SECRETS_SMTP_PASSWORD: 'sops:/etc/portcullis/secrets.yaml#smtp' }, cwd: root, flags: { data_dir: root } });
    const err = await failure(resolveExternalSecrets(config, { env: { PATH: join(root, 'empty-path') }, warn: () => {}, now: new Date() }));
    expect(err.message).toBe('secrets.smtp_password (sops:/etc/portcullis/secrets.yaml#smtp): sops is not installed (not found on PATH)');
  });

  it('a sops that does not answer (waiting for a prompt, a KMS that hangs) is stopped at the timeout', async () => {
    const file = sopsFile('hangs.enc', { hang: true });
    const config = loadConfig({ env: { PORTCULLIS_SECRETS_PEPPER: `sops:${file}` }, cwd: root, flags: { data_dir: root } });
    const started = Date.now();
    const err = await failure(resolveExternalSecrets(config, { env, timeoutMs: 500, warn: () => {}, now: new Date() }));
    expect(err.message).toBe(`secrets.pepper (sops:${file}): sops did not finish within 0.5 s (is it waiting for a passphrase? it must decrypt without a prompt)`);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
