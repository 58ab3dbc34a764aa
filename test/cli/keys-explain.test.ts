import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { presentExplanation } from '../../src/present.js';
import { certificateSettings, issueCertificateChain } from '../../src/auth/certificates.js';
import { listSigningKeys } from '../../src/auth/signing-keys.js';
import { loadConfig } from '../../src/config/load.js';
import { newPemKey, secretFile } from '../helpers/secrets.js';
import { expectCliError, initDataDir, lines, removeDataDir, runCliAsync, runCliJsonAsync, runCliWithAsync, runOkAsync, startServe } from '../helpers/cli.js';

type ExplainJson = ReturnType<typeof presentExplanation>;

interface KeyJson {
  name: string;
  kid: string;
  alg: string;
  state: string;
  certified: boolean;
  certificate_expires_at: string | null;
}

const pemCerts = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((p) => new X509Certificate(p));
const DAY_MS = 86_400_000;

let dataDir: string;
const json = <T>(...args: string[]) => runCliJsonAsync<T>(dataDir, ...args);
const run = (...args: string[]) => runCliAsync(dataDir, ...args);
const ok = (...args: string[]) => runOkAsync(dataDir, ...args);

beforeAll(() => {
  ({ dataDir } = initDataDir());
});
afterAll(() => removeDataDir(dataDir));

describe('keys', () => {
  it('list, cert, rotate: the bundle is the CA alone, the current key gets a 7-day leaf, a rotated key is certified at once', async () => {
    const [first] = await json<KeyJson[]>('keys', 'list', '--json');
    expect(first).toMatchObject({ alg: 'ES256', state: 'current', certified: false, certificate_expires_at: null });

    const out = join(dataDir, 'bundle.pem');
    // With --out it prints the registry's auth block; the realm comes from config only.
    const snippet = await runCliWithAsync(dataDir, { env: { PORTCULLIS_SERVER_PUBLIC_URL: 'https://auth.example.com/', PORTCULLIS_AUTH_SERVICES: 'registry.example.com,other' } }, 'keys', 'cert', '--out', out);
    expect(snippet.status).toBe(0);
    expect(snippet.stdout).toContain(['auth:', '  token:', '    realm: "https://auth.example.com/token"', '    service: "registry.example.com"', '    issuer: "portcullis"', `    rootcertbundle: ${JSON.stringify(out)}`].join('\n'));
    // Only the CA: a leaf in the bundle would trust its key by kid, whatever its dates.
    const bundle = pemCerts(readFileSync(out, 'utf8'));
    expect(bundle).toHaveLength(1);
    const [ca] = bundle as [X509Certificate];
    expect(ca.ca).toBe(true);
    const [leaf, chainCa] = pemCerts(readFileSync(join(dataDir, 'keys', `${first!.name}.crt`), 'utf8')) as [X509Certificate, X509Certificate];
    expect(chainCa.fingerprint256).toBe(ca.fingerprint256);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subject).toContain(first!.kid);
    expect(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)).toBe(7 * DAY_MS + 60_000);
    expect(statSync(join(dataDir, 'keys', 'ca', 'ca-key.pem')).mode & 0o777).toBe(0o600);
    const [certified] = await json<KeyJson[]>('keys', 'list', '--json');
    expect(certified!.certificate_expires_at).toBe(new Date(leaf.validTo).toISOString());

    const rotated = await json<KeyJson>('keys', 'rotate', '--algorithm', 'rs256', '--json');
    expect(rotated).toMatchObject({ alg: 'RS256', state: 'current', certified: true });
    const listed = await run('keys', 'list');
    expect(lines(listed.stdout).map((l) => l.split(/\s+/)[3])).toEqual(['STATE', 'published', 'current']);

    const audit = await json<{ action: string; object_id: string }[]>('audit', '--json');
    expect(audit.filter((e) => e.action.startsWith('key.')).map((e) => [e.action, e.object_id])).toEqual([
      ['key.certify', 'ca'],
      ['key.rotate', rotated.kid],
    ]);
  });

  it('rotate --new-ca sets the CA aside and certifies only the new key with a new one; cert --new-ca is for external keys', async () => {
    const oldCa = new X509Certificate(readFileSync(join(dataDir, 'keys', 'ca', 'ca.crt')));
    const before = await json<KeyJson[]>('keys', 'list', '--json');
    const rotated = await runCliAsync(dataDir, 'keys', 'rotate', '--new-ca', '--json');
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(/registries still trust only the old CA and now refuse every new token: run `portcullis keys cert --out FILE`/);
    const result = JSON.parse(rotated.stdout) as KeyJson & { new_ca: boolean; retired_ca_files: string[] };
    expect(result).toMatchObject({ state: 'current', certified: true, new_ca: true });
    expect(result.retired_ca_files).toHaveLength(2);
    for (const f of result.retired_ca_files) expect(existsSync(f)).toBe(true);
    const newCa = new X509Certificate(readFileSync(join(dataDir, 'keys', 'ca', 'ca.crt')));
    expect(newCa.fingerprint256).not.toBe(oldCa.fingerprint256);

    const chainOf = (name: string) => pemCerts(readFileSync(join(dataDir, 'keys', `${name}.crt`), 'utf8'));
    expect(chainOf(result.name)[0]!.checkIssued(newCa)).toBe(true);
    // The keys before it keep what the old CA gave them: nothing a registry with the new bundle trusts.
    for (const k of before.filter((k) => k.certified)) expect(chainOf(k.name)[0]!.checkIssued(newCa)).toBe(false);
    const bundle = pemCerts(await ok('keys', 'cert'));
    expect(bundle.map((c) => c.fingerprint256)).toEqual([newCa.fingerprint256]);

    expectCliError(await run('keys', 'cert', '--new-ca'), 2, /keys in the data dir get a new CA with `keys rotate --new-ca`/);
  });

  it('serve checks the leaf at start: a 10-year leaf from an older version is replaced by a 7-day one, with a warning about old bundles', async () => {
    const { dataDir: own } = initDataDir();
    try {
      await runOkAsync(own, 'keys', 'cert');
      // What `keys cert` wrote before leaves were short: the same CA, ten years.
      const settings = certificateSettings(loadConfig({ env: {}, cwd: own, flags: { data_dir: own } }));
      const [key] = listSigningKeys(own);
      const old = (await issueCertificateChain({ ...settings, lifetimeMs: 3653 * DAY_MS }, key!, new Date()))!;
      const crt = join(own, 'keys', `${key!.name}.crt`);
      writeFileSync(crt, old.map((der) => new X509Certificate(der).toString()).join(''));

      const serve = startServe(own, '--port', '0');
      try {
        const line = JSON.parse(await serve.waitForLine(/replaced a signing key certificate/)) as { level: number; reason: string; key: string; expires_at: string };
        expect(line).toMatchObject({ level: 40, reason: 'too_long', key: key!.name });
        const [leaf] = pemCerts(readFileSync(crt, 'utf8'));
        expect(new Date(leaf!.validTo).toISOString()).toBe(line.expires_at);
        expect(Date.parse(leaf!.validTo) - Date.parse(leaf!.validFrom)).toBe(7 * DAY_MS + 60_000);
      } finally {
        await serve.stop();
      }
    } finally {
      removeDataDir(own);
    }
  });

  it('keys cert --new-ca, for a key from secrets.signing_key replaced in its backend: a new CA certifies the new key', async () => {
    const { dataDir: own } = initDataDir();
    try {
      const keyFile = secretFile(own, 'signing.pem', newPemKey());
      const env = { PORTCULLIS_SECRETS_SIGNING_KEY: `file:${keyFile}` };
      expect((await runCliWithAsync(own, { env }, 'keys', 'cert')).status).toBe(0);
      const oldCa = new X509Certificate(readFileSync(join(own, 'keys', 'ca', 'ca.crt')));
      writeFileSync(keyFile, newPemKey());
      const r = await runCliWithAsync(own, { env }, 'keys', 'cert', '--new-ca');
      expect(r.status, r.stderr).toBe(0);
      const [newCa, ...more] = pemCerts(r.stdout);
      expect(more).toEqual([]);
      expect(newCa!.fingerprint256).not.toBe(oldCa.fingerprint256);
      const [current] = JSON.parse((await runCliWithAsync(own, { env }, 'keys', 'list', '--json')).stdout) as KeyJson[];
      expect(pemCerts(readFileSync(join(own, 'keys', `${current!.name}.crt`), 'utf8'))[0]!.checkIssued(newCa!)).toBe(true);
      const audit = JSON.parse((await runCliWithAsync(own, { env }, 'audit', '--json')).stdout) as { action: string; detail: { new_ca?: boolean } }[];
      expect(audit.filter((e) => e.action === 'key.certify').map((e) => e.detail.new_ca)).toEqual(expect.arrayContaining([true, false]));
    } finally {
      removeDataDir(own);
    }
  });

  it('in gateway mode prints the upstream block: its own service and the notifications endpoint, never the secret; gc refuses', async () => {
    const out = join(dataDir, 'upstream-bundle.pem');
    const secret = 'cli-test-notification-secret';
    const env = { PORTCULLIS_SERVER_PUBLIC_URL: 'https://gate.example.com', PORTCULLIS_REGISTRY_UPSTREAM: 'http://10.0.0.5:5000', PORTCULLIS_REGISTRY_NOTIFICATION_SECRET: secret };
    const snippet = await runCliWithAsync(dataDir, { env }, 'keys', 'cert', '--out', out);
    expect(snippet.status).toBe(0);
    expect(snippet.stdout).toContain(['    realm: "https://gate.example.com/token"', '    service: "portcullis-upstream"', '    issuer: "portcullis"'].join('\n'));
    expect(snippet.stdout).toContain('      url: "https://gate.example.com/api/v1/upstream/events"');
    expect(snippet.stdout).toContain('Bearer <registry.notification_secret>');
    expect(snippet.stdout).not.toContain(secret);
    const gc = await runCliWithAsync(dataDir, { env }, 'gc');
    expectCliError(gc, 2, /gateway mode keeps no blobs/);
  });

  it('refuses a bad algorithm and other vendors', async () => {
    expectCliError(await run('keys', 'rotate', '--algorithm', 'HS256'), 2, /unknown algorithm "HS256": expected ES256 or RS256/);
    await ok('vendor', 'create', '--name', 'acme');
    expectCliError(await run('--vendor', 'acme', 'keys', 'list'), 1, /signing keys needs owner-level authority of the operator vendor/);
  });
});

describe('explain', () => {
  let customerToken: string;
  let licenseId: string;

  beforeAll(async () => {
    await ok('--vendor', 'acme', 'customer', 'create', '--name', 'globex');
    licenseId = (await json<{ id: string }>('--vendor', 'acme', 'license', 'create', '--customer', 'globex', '--repos', 'acme/app', '--tags', '1.*', '--json')).id;
    customerToken = (await json<{ username: string }>('--vendor', 'acme', 'token', 'create', '--type', 'customer', '--customer', 'globex', '--name', 'prod', '--json')).username;
  });

  it('says which license allows a pull, and why a tag or a push is denied', async () => {
    const e = await json<ExplainJson>('--vendor', 'acme', 'explain', '--token', customerToken, '--scope', 'repository:acme/app:pull,push', '--tag', '2.0', '--json');
    expect(e.actions).toEqual([
      { action: 'pull', allowed: false, license_id: null, reason: 'tag 2.0 is outside 1.*' },
      { action: 'push', allowed: false, license_id: null, reason: 'customer tokens are pull-only' },
    ]);
    expect(e.licenses).toMatchObject([{ id: licenseId, status: 'active', tags: ['1.*'], checks: [{ action: 'pull', outcome: 'tag' }] }]);

    const human = await run('--vendor', 'acme', 'explain', '--token', customerToken, '--scope', 'repository:acme/app:pull', '--tag', '1.4');
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`pull\\s+allowed\\s+${licenseId}\\s+license ${licenseId} allows pull of acme/app:1.4`));
  });

  it('refuses bad input and another vendor’s token', async () => {
    expectCliError(await run('--vendor', 'acme', 'explain', '--scope', 'repository:acme/app:pull'), 2, /--token is required/);
    expectCliError(await run('--vendor', 'acme', 'explain', '--token', customerToken, '--scope', 'repository:acme/app'), 2, /bad scope "repository:acme\/app"/);
    expectCliError(await run('explain', '--token', customerToken, '--scope', 'repository:acme/app:pull'), 1, new RegExp(`token ${customerToken} not found`));
  });
});
