/**
 * Both registry modes end to end with the real skopeo and podman: the
 * built-in registry, and gateway mode in front of Debian's docker-registry.
 * Push a multi-platform index under three tags, then pull as a customer whose
 * license covers `1.*`. The same scenario, the same expectations.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createCustomer } from '../../src/service/customers.js';
import { createLicense } from '../../src/service/licenses.js';
import { changeTokenStatus, createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createVendor } from '../../src/service/vendors.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { buildImageLayout, MEDIA_TYPES, type BuiltImage } from '../helpers/oci-layout.js';
import { runCliJsonAsync } from '../helpers/cli.js';
import { runCommand } from '../helpers/run.js';
import { startGateway } from '../helpers/gateway.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { copyToRegistry, inspect, skopeo } from '../helpers/skopeo.js';
import { describeE2E } from '../helpers/system-tools.js';

const creds = (t: CreatedToken) => `${t.token.id}:${t.secret}`;
const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
];

interface Target {
  inst: TestInstance;
  app: FastifyInstance;
  host: string;
  /** Whether the mode's storage holds a blob. */
  stored(digest: string): Promise<boolean>;
  stop(): Promise<void>;
}

async function builtin(): Promise<Target> {
  const inst = await startInstance('real-time');
  const app = await buildApp(inst.runtime);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    inst,
    app,
    host: new URL(url).host,
    stored: async (digest) => (await inst.runtime.blobs.stat(digest)) !== undefined || (await inst.runtime.store.getBlobLink('acme/app', digest)) !== undefined,
    async stop() {
      await app.close();
      await inst.cleanup();
    },
  };
}

async function gateway(): Promise<Target> {
  const gw = await startGateway();
  return {
    ...gw,
    stored: async (digest) => existsSync(join(gw.registry.dataDir, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7))),
    stop: () => gw.stop(),
  };
}

for (const [mode, start] of [
  ['built-in registry', builtin],
  ['gateway mode', gateway],
] as const) {
  describeE2E(`${mode}: skopeo and podman push and pull with tag entitlements`, () => {
    let target: Target;
    let inst: TestInstance;
    let app: FastifyInstance;
    let host: string;
    let work: string;
    let acme: Caller;
    const images: Record<string, BuiltImage> = {};
    const t: Record<string, CreatedToken> = {};
    let licenseEnd: Date;

    beforeAll(async () => {
      target = await start();
      ({ inst, app, host } = target);
      const rt = inst.runtime;
      const vendor = await createVendor(rt, inst.caller, { name: 'acme' });
      acme = ownerCaller(vendor, { name: 'e2e', source: 'test' });
      const globex = await createCustomer(rt, acme, { name: 'globex' });
      licenseEnd = new Date(Date.now() + 30 * 86_400_000);
      await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app', tags: '1.*', validUntil: licenseEnd.toISOString() });
      t.vendor = await createToken(rt, acme, { type: 'vendor', name: 'ci' });
      t.customer = await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id });
      t.revokeMe = await createToken(rt, acme, { type: 'customer', name: 'laptop', customer: globex.id });

      work = mkdtempSync(join(tmpdir(), 'portcullis-builtin-'));
      for (const tag of ['1.0', '1.2', '2.0']) {
        images[tag] = await buildImageLayout(join(work, 'layout'), { ref: tag, platforms: PLATFORMS, content: `release ${tag}` });
      }
    });

    afterAll(async () => {
      await target?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const ref = (r: string) => `docker://${host}/${r}`;
    const pull = (token: CreatedToken, r: string, extra: string[] = []) =>
      skopeo(['copy', '--insecure-policy', '--src-tls-verify=false', '--src-creds', creds(token), ...extra, ref(r), `oci:${join(work, 'pulled')}:x`]);
    const v2 = (token: CreatedToken, path: string, accept?: string) =>
      app.inject({ method: 'GET', url: `/v2/${path}`, headers: { authorization: `Basic ${Buffer.from(creds(token)).toString('base64')}`, ...(accept ? { accept } : {}) } });

    it('a vendor token pushes a multi-platform index as 1.0, 1.2 and 2.0', async () => {
      for (const tag of ['1.0', '1.2', '2.0']) {
        const r = await copyToRegistry(join(work, 'layout'), tag, `${host}/acme/app:${tag}`, creds(t.vendor!), { all: true });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds(t.vendor!), ref('acme/app:2.0')]);
      expect(JSON.parse(raw.stdout)).toMatchObject({ mediaType: MEDIA_TYPES.index, manifests: images['2.0']!.manifests.map((m) => ({ digest: m.digest })) });
    });

    it('the customer pulls 1.2 by tag, all platforms and one with --override-arch', async () => {
      const all = await pull(t.customer!, 'acme/app:1.2', ['--all']);
      expect(all.stderr).toBe('');
      expect(all.code).toBe(0);
      const blobs = readdirSync(join(work, 'pulled', 'blobs', 'sha256'));
      for (const m of images['1.2']!.manifests) expect(blobs).toContain(m.layers[0]!.slice('sha256:'.length));
      const arm = await pull(t.customer!, 'acme/app:1.2', ['--override-arch', 'arm64']);
      expect(arm.code).toBe(0);
      const got = await inspect<{ Architecture: string }>(`${host}/acme/app:1.2`, creds(t.customer!), ['--override-arch', 'arm64']);
      expect(got.ok && got.json.Architecture).toBe('arm64');
    });

    it('podman (vfs storage) pulls 1.2 and is refused 2.0', async () => {
      const root = join(work, 'podman');
      const podman = (image: string) =>
        runCommand('podman', ['--storage-driver', 'vfs', '--root', join(root, 'root'), '--runroot', join(root, 'run'), '--events-backend', 'none', 'pull', '--tls-verify=false', '--creds', creds(t.customer!), `${host}/${image}`]);
      const ok = await podman('acme/app:1.2');
      expect(ok.stderr).not.toContain('Error');
      expect(ok.code).toBe(0);
      expect(ok.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
      const denied = await podman('acme/app:2.0');
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toMatch(/denied|tag 2\.0 is outside 1\.\*/);
    }, 60_000);

    it('is denied 2.0 with a message naming the pattern', async () => {
      const r = await pull(t.customer!, 'acme/app:2.0');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('tag 2.0 is outside 1.*');
      const res = await v2(t.customer!, 'acme/app/manifests/2.0', MEDIA_TYPES.index);
      expect(res.statusCode).toBe(403);
      expect(res.json().errors[0]).toMatchObject({ code: 'DENIED', message: 'tag 2.0 is outside 1.*' });
    });

    it("is denied 2.0's manifest and a layer only 2.0 uses, by digest", async () => {
      const index = await v2(t.customer!, `acme/app/manifests/${images['2.0']!.digest}`, MEDIA_TYPES.index);
      expect(index.statusCode).toBe(403);
      const child = await v2(t.customer!, `acme/app/manifests/${images['2.0']!.manifests[0]!.digest}`, MEDIA_TYPES.manifest);
      expect(child.statusCode).toBe(403);
      const layer = await v2(t.customer!, `acme/app/blobs/${images['2.0']!.manifests[1]!.layers[0]}`);
      expect(layer.statusCode).toBe(403);
      expect(layer.json().errors[0].code).toBe('DENIED');
      const byDigest = await pull(t.customer!, `acme/app@${images['2.0']!.digest}`, ['--all']);
      expect(byDigest.code).not.toBe(0);
      // The same digests of 1.2 are fine, and the vendor sees 2.0's.
      expect((await v2(t.customer!, `acme/app/blobs/${images['1.2']!.manifests[1]!.layers[0]}`)).statusCode).toBe(200);
      expect((await v2(t.vendor!, `acme/app/blobs/${images['2.0']!.manifests[1]!.layers[0]}`)).statusCode).toBe(200);
    });

    it('sees only 1.0 and 1.2 in tags/list', async () => {
      const r = await skopeo(['list-tags', '--tls-verify=false', '--creds', creds(t.customer!), ref('acme/app')]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).Tags).toEqual(['1.0', '1.2']);
      expect((await v2(t.vendor!, 'acme/app/tags/list')).json().tags).toEqual(['1.0', '1.2', '2.0']);
    });

    it('a token revoked mid-way is refused on the very next request, although its JWT has not expired', async () => {
      const login = await fetch(`http://${host}/token?service=portcullis&scope=repository:acme/app:pull`, { headers: { authorization: `Basic ${Buffer.from(creds(t.revokeMe!)).toString('base64')}` } });
      const jwt = ((await login.json()) as { token: string }).token;
      const get = () => fetch(`http://${host}/v2/acme/app/manifests/1.0`, { headers: { authorization: `Bearer ${jwt}`, accept: MEDIA_TYPES.index } });
      expect((await get()).status).toBe(200);
      await changeTokenStatus(inst.runtime, acme, t.revokeMe!.token.id, 'revoke');
      const after = await get();
      expect(after.status).toBe(401);
      expect(after.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect((await pull(t.revokeMe!, 'acme/app:1.0')).code).not.toBe(0);
    });

    it('an upload with a wrong digest stores nothing', async () => {
      const data = Buffer.from(`not what the digest says (${mode})`);
      const wrong = `sha256:${'0'.repeat(64)}`;
      const auth = { authorization: `Basic ${Buffer.from(creds(t.vendor!)).toString('base64')}` };
      const start = await fetch(`http://${host}/v2/acme/app/blobs/uploads/`, { method: 'POST', headers: auth });
      expect(start.status).toBe(202);
      const location = String(start.headers.get('location'));
      const res = await fetch(`http://${host}${location}${location.includes('?') ? '&' : '?'}digest=${wrong}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: data });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('DIGEST_INVALID');
      expect(await target.stored(wrong)).toBe(false);
      expect(await target.stored(`sha256:${createHash('sha256').update(data).digest('hex')}`)).toBe(false);
      expect((await fetch(`http://${host}/v2/acme/app/blobs/${wrong}`, { headers: auth })).status).toBe(404);
    });

    it('portcullis usage shows the pushes and pulls, by repository and tag', async () => {
      await inst.runtime.usage.flush();
      const usage = await runCliJsonAsync<{ counts: { repository: string; tag: string | null; pulls: number; pushes: number }[]; events: { token: string; tag: string | null; action: string; ip: string; user_agent: string }[] }>(
        inst.dataDir,
        '--vendor',
        'acme',
        'usage',
        '--json',
      );
      const count = (tag: string | null) => usage.counts.find((c) => c.repository === 'acme/app' && c.tag === tag);
      expect(count('1.2')!.pulls).toBeGreaterThanOrEqual(3);
      expect(count('1.0')!.pushes).toBe(1);
      expect(count('2.0')!.pushes).toBe(1);
      // The customer's refused pulls of 2.0 are not pulls.
      expect(usage.events.filter((e) => e.token === t.customer!.token.id && e.tag === '2.0')).toEqual([]);
      const customerPull = usage.events.find((e) => e.token === t.customer!.token.id)!;
      expect(customerPull.ip).toBe('127.0.0.1');
      expect(customerPull.user_agent).toMatch(/skopeo|containers|podman/i);
    });

    it('a license whose valid_until passes stops pulls (moved clock)', async () => {
      expect((await pull(t.customer!, 'acme/app:1.0')).code).toBe(0);
      inst.clock.now = new Date(licenseEnd.getTime() + 1000);
      try {
        const r = await pull(t.customer!, 'acme/app:1.0');
        expect(r.code).not.toBe(0);
        const res = await v2(t.customer!, 'acme/app/manifests/1.0', MEDIA_TYPES.index);
        expect(res.statusCode).toBe(403);
        expect(res.json().errors[0].message).toMatch(/^license for acme\/app ended \d{4}-\d{2}-\d{2}$/);
      } finally {
        inst.clock.now = new Date();
      }
    });
  });
}
