/**
 * Token-server mode end to end: Debian's docker-registry with token auth
 * pointed at a running Portcullis, driven by the real skopeo and docker CLI.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createCustomer } from '../../src/service/customers.js';
import { keyCertificateBundle, rotateKey } from '../../src/service/keys.js';
import { changeLicenseStatus, createLicense } from '../../src/service/licenses.js';
import { changeTokenStatus, createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createVendor } from '../../src/service/vendors.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { startDistribution, type Distribution } from '../helpers/distribution.js';
import { buildImageLayout, MEDIA_TYPES, type BuiltImage } from '../helpers/oci-layout.js';
import { runCommand } from '../helpers/run.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { copyToRegistry, inspect, skopeo } from '../helpers/skopeo.js';
import { describeE2E } from '../helpers/system-tools.js';


/** `docker login --password-stdin`: the CLI alone, no engine needed. */
function dockerLogin(host: string, user: string, secret: string, configDir: string) {
  return runCommand('docker', ['login', host, '-u', user, '--password-stdin'], { input: `${secret}\n`, env: { ...process.env, DOCKER_CONFIG: configDir }, timeoutMs: 30_000 });
}
const creds = (t: CreatedToken) => `${t.token.id}:${t.secret}`;

interface TokenAnswer {
  token: string;
  access_token: string;
  expires_in: number;
  refresh_token?: string;
}

describeE2E('token-server mode: docker-registry trusts Portcullis /token', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let portcullis: string;
  let registry: Distribution;
  let work: string;
  let acme: Caller;
  let single: BuiltImage;
  let multi: BuiltImage;
  const t: Record<string, CreatedToken> = {};
  const lic: Record<string, string> = {};

  beforeAll(async () => {
    inst = await startInstance('real-time');
    app = await buildApp(inst.runtime);
    portcullis = await app.listen({ host: '127.0.0.1', port: 0 });
    const rt = inst.runtime;

    const vendor = await createVendor(rt, inst.caller, { name: 'acme' });
    acme = ownerCaller(vendor, { name: 'e2e', source: 'test' });
    const globex = await createCustomer(rt, acme, { name: 'globex' });
    const initech = await createCustomer(rt, acme, { name: 'initech' });
    lic.app = (await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app' })).id;
    t.vendor = await createToken(rt, acme, { type: 'vendor', name: 'ci' });
    t.pullOnly = await createToken(rt, acme, { type: 'vendor', name: 'reader', scopes: 'pull' });
    t.customer = await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id });
    t.toDisable = await createToken(rt, acme, { type: 'customer', name: 'laptop', customer: globex.id });
    t.toRevoke = await createToken(rt, acme, { type: 'customer', name: 'old', customer: globex.id });
    t.initech = await createToken(rt, acme, { type: 'customer', name: 'initech', customer: initech.id });
    t.docker = await createToken(rt, acme, { type: 'customer', name: 'docker', customer: globex.id });
    // A license that ends a few seconds into the run.
    lic.ending = (await createLicense(rt, acme, { customer: initech.id, repositories: 'acme/app', validUntil: new Date(Date.now() + 6_000).toISOString() })).id;

    work = mkdtempSync(join(tmpdir(), 'portcullis-e2e-'));
    const bundle = join(work, 'bundle.pem');
    writeFileSync(bundle, (await keyCertificateBundle(rt, inst.caller)).bundle);
    rt.keys.refresh(true);
    registry = await startDistribution({ auth: { realm: `${portcullis}/token`, service: 'portcullis', issuer: 'portcullis', rootCertBundle: bundle } });

    const layout = join(work, 'layout');
    single = await buildImageLayout(layout, { ref: '1.0', content: 'single' });
    multi = await buildImageLayout(layout, {
      ref: '2.0',
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
  });

  afterAll(async () => {
    await registry?.stop();
    await app?.close();
    await inst?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const layoutDir = () => join(work, 'layout');
  const image = (ref: string) => `${registry.host}/${ref}`;
  const pull = (token: CreatedToken, ref: string, extra: string[] = []) =>
    skopeo(['copy', '--insecure-policy', '--src-tls-verify=false', '--src-creds', creds(token), ...extra, `docker://${image(ref)}`, `oci:${join(work, 'pulled')}:x`]);
  const expectDenied = (r: { code: number | null; stderr: string }) => {
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/denied|unauthorized|authentication required/i);
  };
  const tokenFor = async (token: CreatedToken | undefined, scopes: string[]) => {
    const qs = new URLSearchParams([['service', 'portcullis'], ...scopes.map((s) => ['scope', s] as [string, string])]);
    const res = await fetch(`${portcullis}/token?${qs}`, token ? { headers: { authorization: `Basic ${Buffer.from(creds(token)).toString('base64')}` } } : {});
    return { status: res.status, body: (await res.json()) as TokenAnswer };
  };
  const accessOf = (jwt: string) => (decodeJwt(jwt) as { access: { name: string; actions: string[] }[] }).access;

  it('a vendor token pushes a single-platform image and a multi-platform index', async () => {
    const one = await copyToRegistry(layoutDir(), '1.0', image('acme/app:1.0'), creds(t.vendor!));
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    const two = await copyToRegistry(layoutDir(), '2.0', image('acme/app:2.0'), creds(t.vendor!), { all: true });
    expect(two.code).toBe(0);
    expect((await copyToRegistry(layoutDir(), '1.0', image('acme/db:1.0'), creds(t.vendor!))).code).toBe(0);

    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds(t.vendor!), `docker://${image('acme/app:2.0')}`]);
    expect(raw.code).toBe(0);
    const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: { digest: string }[] };
    expect(index.mediaType).toBe(MEDIA_TYPES.index);
    expect(index.manifests.map((m) => m.digest)).toEqual(multi.manifests.map((m) => m.digest));
  });

  it('a customer licensed for acme/app pulls it by tag and by digest', async () => {
    const byTag = await pull(t.customer!, 'acme/app:1.0');
    expect(byTag.stderr).toBe('');
    expect(byTag.code).toBe(0);
    const got = await inspect<{ Digest: string }>(image('acme/app:1.0'), creds(t.customer!));
    expect(got.ok && got.json.Digest).toBe(single.digest);

    const byDigest = await pull(t.customer!, `acme/app@${multi.digest}`, ['--all']);
    expect(byDigest.code).toBe(0);
    const arm = await pull(t.customer!, 'acme/app:2.0', ['--override-arch', 'arm64']);
    expect(arm.code).toBe(0);
  });

  it('the same customer is denied acme/db: the token it gets holds no action there', async () => {
    expectDenied(await pull(t.customer!, 'acme/db:1.0'));
    const { status, body } = await tokenFor(t.customer, ['repository:acme/db:pull']);
    expect(status).toBe(200);
    expect(accessOf(body.token)).toEqual([{ type: 'repository', name: 'acme/db', actions: [] }]);
  });

  it('a vendor token without push cannot push, but can pull', async () => {
    const r = await copyToRegistry(layoutDir(), '1.0', image('acme/app:9.9'), creds(t.pullOnly!));
    expectDenied(r);
    expect((await inspect(image('acme/app:9.9'), creds(t.vendor!))).ok).toBe(false);
    expect((await pull(t.pullOnly!, 'acme/app:1.0')).code).toBe(0);
  });

  it('a cross-repository mount gets its subset', async () => {
    // skopeo asks the target with pull,push and the source with pull in one /token request.
    const { body } = await tokenFor(t.vendor, ['repository:acme/mirror:pull,push', 'repository:acme/app:pull']);
    expect(accessOf(body.token)).toEqual([
      { type: 'repository', name: 'acme/mirror', actions: ['pull', 'push'] },
      { type: 'repository', name: 'acme/app', actions: ['pull'] },
    ]);
    const outside = await tokenFor(t.vendor, ['repository:acme/mirror:pull,push', 'repository:globex/private:pull']);
    expect(accessOf(outside.body.token)).toEqual([
      { type: 'repository', name: 'acme/mirror', actions: ['pull', 'push'] },
      { type: 'repository', name: 'globex/private', actions: [] },
    ]);
    const copy = await skopeo([
      'copy', '--insecure-policy', '--src-tls-verify=false', '--dest-tls-verify=false',
      '--src-creds', creds(t.vendor!), '--dest-creds', creds(t.vendor!),
      `docker://${image('acme/app:1.0')}`, `docker://${image('acme/mirror:1.0')}`,
    ]);
    expect(copy.code).toBe(0);
    const mirrored = await inspect<{ Digest: string }>(image('acme/mirror:1.0'), creds(t.vendor!));
    expect(mirrored.ok && mirrored.json.Digest).toBe(single.digest);
  });

  it('a suspended license is refused on the next /token call, and works again when resumed', async () => {
    await changeLicenseStatus(inst.runtime, acme, lic.app!, 'suspend');
    expectDenied(await pull(t.customer!, 'acme/app:1.0'));
    expect(accessOf((await tokenFor(t.customer, ['repository:acme/app:pull'])).body.token)[0]!.actions).toEqual([]);
    await changeLicenseStatus(inst.runtime, acme, lic.app!, 'resume');
    expect((await pull(t.customer!, 'acme/app:1.0')).code).toBe(0);
  });

  it('disabled and revoked tokens are refused on the next /token call', async () => {
    expect((await pull(t.toDisable!, 'acme/app:1.0')).code).toBe(0);
    expect((await pull(t.toRevoke!, 'acme/app:1.0')).code).toBe(0);
    await changeTokenStatus(inst.runtime, acme, t.toDisable!.token.id, 'disable');
    await changeTokenStatus(inst.runtime, acme, t.toRevoke!.token.id, 'revoke');
    for (const token of [t.toDisable!, t.toRevoke!]) {
      expectDenied(await pull(token, 'acme/app:1.0'));
      expect((await tokenFor(token, ['repository:acme/app:pull'])).status).toBe(401);
    }
  });

  it('a license whose window has ended is refused on the next /token call, and its JWT ends with it', async () => {
    const before = await tokenFor(t.initech, ['repository:acme/app:pull']);
    expect(accessOf(before.body.token)[0]!.actions).toEqual(['pull']);
    expect(before.body.expires_in).toBeLessThanOrEqual(6);
    expect((await pull(t.initech!, 'acme/app:1.0')).code).toBe(0);

    const license = await inst.runtime.store.getLicense(acme.vendorId, lic.ending!);
    const wait = license!.validUntil!.getTime() - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait + 50));
    expectDenied(await pull(t.initech!, 'acme/app:1.0'));
    expect(accessOf((await tokenFor(t.initech, ['repository:acme/app:pull'])).body.token)[0]!.actions).toEqual([]);
  });

  it('docker login stores an identity token, and a POST refresh gets a new JWT the registry accepts', async () => {
    const dockerConfig = join(work, 'docker');
    const login = await dockerLogin(registry.host, t.docker!.token.id, t.docker!.secret, dockerConfig);
    expect(login.stderr + login.stdout).toContain('Login Succeeded');
    expect(login.code).toBe(0);
    // The secret was sent on stdin; nothing else must have kept it.
    const stored = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')) as { auths: Record<string, { identitytoken?: string; auth?: string }> };
    const entry = stored.auths[registry.host]!;
    expect(entry.identitytoken).toMatch(/^rt1\./);
    expect(JSON.stringify(stored)).not.toContain(t.docker!.secret);

    const res = await fetch(`${portcullis}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: entry.identitytoken!, client_id: 'docker', service: 'portcullis', scope: 'repository:acme/app:pull' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TokenAnswer;
    expect(decodeJwt(body.access_token).sub).toBe(t.docker!.token.id);
    const manifest = await fetch(`${registry.url}/v2/acme/app/manifests/1.0`, { headers: { authorization: `Bearer ${body.access_token}`, accept: MEDIA_TYPES.manifest } });
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('docker-content-digest')).toBe(single.digest);

    await changeTokenStatus(inst.runtime, acme, t.docker!.token.id, 'revoke');
    const dead = await fetch(`${portcullis}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: entry.identitytoken!, client_id: 'docker', service: 'portcullis' }),
    });
    expect(dead.status).toBe(401);
  }, 60_000);

  it('after a key rotation the registry accepts the new key through the CA, its bundle unchanged', async () => {
    const old = inst.runtime.keys.current();
    const { key, certified } = await rotateKey(inst.runtime, inst.caller, 'RS256');
    expect(certified).toBe(true);
    inst.runtime.keys.refresh(true);
    const { body } = await tokenFor(t.customer, ['repository:acme/app:pull']);
    const header = decodeProtectedHeader(body.token);
    expect(header).toMatchObject({ alg: 'RS256', kid: key.kid });
    expect(header.kid).not.toBe(old.kid);
    expect(header.x5c).toHaveLength(2);
    expect((await pull(t.customer!, 'acme/app:1.0')).code).toBe(0);
  });
});
