import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { presentExplanation } from '../../src/present.js';
import { expectCliError, initDataDir, lines, removeDataDir, runCliAsync, runCliJsonAsync, runCliWithAsync, runOkAsync } from '../helpers/cli.js';

type ExplainJson = ReturnType<typeof presentExplanation>;

interface KeyJson {
  name: string;
  kid: string;
  alg: string;
  state: string;
  certified: boolean;
}

let dataDir: string;
const json = <T>(...args: string[]) => runCliJsonAsync<T>(dataDir, ...args);
const run = (...args: string[]) => runCliAsync(dataDir, ...args);
const ok = (...args: string[]) => runOkAsync(dataDir, ...args);

beforeAll(() => {
  ({ dataDir } = initDataDir());
});
afterAll(() => removeDataDir(dataDir));

describe('keys', () => {
  it('list, cert, rotate: the bundle certifies every published key, a rotated key is certified at once', async () => {
    const [first] = await json<KeyJson[]>('keys', 'list', '--json');
    expect(first).toMatchObject({ alg: 'ES256', state: 'current', certified: false });

    const out = join(dataDir, 'bundle.pem');
    // With --out it prints the registry's auth block; the realm comes from config only.
    const snippet = await runCliWithAsync(dataDir, { env: { PORTCULLIS_SERVER_PUBLIC_URL: 'https://auth.example.com/', PORTCULLIS_AUTH_SERVICES: 'registry.example.com,other' } }, 'keys', 'cert', '--out', out);
    expect(snippet.status).toBe(0);
    expect(snippet.stdout).toContain(['auth:', '  token:', '    realm: "https://auth.example.com/token"', '    service: "registry.example.com"', '    issuer: "portcullis"', `    rootcertbundle: ${JSON.stringify(out)}`].join('\n'));
    const bundle = readFileSync(out, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((p) => new X509Certificate(p));
    expect(bundle).toHaveLength(2);
    const [ca, leaf] = bundle as [X509Certificate, X509Certificate];
    expect(ca.ca).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subject).toContain(first!.kid);
    expect(statSync(join(dataDir, 'keys', 'ca', 'ca-key.pem')).mode & 0o777).toBe(0o600);

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
    expectCliError(await run('--vendor', 'acme', 'keys', 'list'), 1, /only the operator vendor manages signing keys/);
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
