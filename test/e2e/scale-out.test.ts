/**
 * Two `portcullis serve` processes on one PostgreSQL and one Redis, in gateway
 * mode over one docker-registry: what one instance is told, the other acts on
 * at its next request. The instances share only what an operator gives them:
 * the config, the pepper and the signing keys (copied, as a Kubernetes Secret
 * would hand them out), never a data dir.
 */
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PEPPER_FILE } from '../../src/auth/instance-secrets.js';
import { UPSTREAM_EVENTS_PATH } from '../../src/http/routes/upstream-events.js';
import { makeDataDir, removeDataDir, runCliJsonAsync, runOkAsync, startServe, type ServeProcess } from '../helpers/cli.js';
import { freePort, startDistribution, type Distribution } from '../helpers/distribution.js';
import { buildImageLayout, type BuiltImage } from '../helpers/oci-layout.js';
import { describePostgres, freshSchema } from '../helpers/postgres.js';
import { describeRedis, freshPrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { copyToRegistry, skopeo } from '../helpers/skopeo.js';
import { describeE2E } from '../helpers/system-tools.js';

const NOTIFICATION_SECRET = 'scale-out-notification-secret';
const UPSTREAM_SERVICE = 'portcullis-upstream';
const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
];

interface Created {
  username: string;
  secret: string;
  full_token: string;
}

describeE2E('many instances', () => {
  describePostgres('on PostgreSQL', () => {
    describeRedis('and Redis', () => {
      let schema: Awaited<ReturnType<typeof freshSchema>>;
      let work: string;
      const dirs: string[] = [];
      const serves: ServeProcess[] = [];
      let registry: Distribution;
      let a: string;
      let b: string;
      let bootstrap: string;
      const images: Record<string, BuiltImage> = {};
      const t: Record<string, Created> = {};

      const toml = (port: number, upstreamPort: number, prefix: string) => `
[server]
host = "127.0.0.1"
port = ${port}
[store]
url = "${schema.url}"
[cache]
redis = "${TEST_REDIS_URL}"
key_prefix = "${prefix}"
[registry]
upstream = "http://127.0.0.1:${upstreamPort}"
notification_secret = "${NOTIFICATION_SECRET}"
`;

      const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${a}${path}`, {
          method,
          headers: { authorization: `Bearer ${bootstrap}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        return JSON.parse(text) as T;
      };
      const creds = (c: Created) => `${c.username}:${c.secret}`;
      const basic = (c: Created) => `Basic ${Buffer.from(creds(c)).toString('base64')}`;
      const pull = (base: string, c: Created, ref: string) =>
        skopeo(['copy', '--all', '--insecure-policy', '--src-tls-verify=false', '--src-creds', creds(c), `docker://${new URL(base).host}/${ref}`, `oci:${join(work, 'pulled')}:x`]);

      beforeAll(async () => {
        schema = await freshSchema();
        work = mkdtempSync(join(tmpdir(), 'portcullis-scale-'));
        const prefix = freshPrefix();
        const [portA, portB, upstreamPort] = [await freePort(), await freePort(), await freePort()];
        a = `http://127.0.0.1:${portA}`;
        b = `http://127.0.0.1:${portB}`;
        const dirA = makeDataDir();
        const dirB = makeDataDir();
        dirs.push(dirA, dirB);
        writeFileSync(join(dirA, 'portcullis.toml'), toml(portA, upstreamPort, prefix));
        writeFileSync(join(dirB, 'portcullis.toml'), toml(portB, upstreamPort, prefix));

        // The first instance creates the operator and the keys; `portcullis migrate` could run first, and need not.
        const init = await runCliJsonAsync<{ bootstrap: Created }>(dirA, 'init', '--json');
        bootstrap = init.bootstrap.full_token;
        const bundle = join(work, 'bundle.pem');
        await runOkAsync(dirA, 'keys', 'cert', '--out', bundle);
        // What every instance needs from the first: its pepper and keys (in production, from [secrets] or a Secret).
        copyFileSync(join(dirA, PEPPER_FILE), join(dirB, PEPPER_FILE));
        cpSync(join(dirA, 'keys'), join(dirB, 'keys'), { recursive: true });

        registry = await startDistribution({
          port: upstreamPort,
          auth: { realm: `${a}/token`, service: UPSTREAM_SERVICE, issuer: 'portcullis', rootCertBundle: bundle },
          // The upstream tells one instance, as it would tell a load balancer.
          notifications: { url: `${a}${UPSTREAM_EVENTS_PATH}`, authorization: `Bearer ${NOTIFICATION_SECRET}` },
        });
        for (const dir of [dirA, dirB]) {
          const serve = startServe(dir);
          serves.push(serve);
          await serve.waitForLine(/portcullis listening/, 30_000);
        }

        const customer = await api<{ id: string }>('POST', '/api/v1/customers', { name: 'globex' });
        await api('POST', '/api/v1/licenses', { customer: customer.id, repositories: ['acme/app'], tags: ['1.*'], valid_until: '30d' });
        t.ci = await api<Created>('POST', '/api/v1/tokens', { type: 'vendor', name: 'ci' });
        t.prod = await api<Created>('POST', '/api/v1/tokens', { type: 'customer', name: 'prod', customer: 'globex' });
        t.limited = await api<Created>('POST', '/api/v1/tokens', { type: 'customer', name: 'limited', customer: 'globex', rate_limit: 10 });
        for (const tag of ['1.0', '1.1']) images[tag] = await buildImageLayout(join(work, 'layout'), { ref: tag, platforms: PLATFORMS, content: `scale-out ${tag}` });
      }, 120_000);

      afterAll(async () => {
        for (const s of serves) await s.stop();
        await registry?.stop();
        for (const d of dirs) removeDataDir(d);
        if (work) rmSync(work, { recursive: true, force: true });
        await schema?.drop();
      });

      it('the two instances really are two processes on one database and one Redis', () => {
        for (const s of serves) expect(s.stdout()).toMatch(/"cache":"redis:\/\/127\.0\.0\.1:6379"/);
        expect(serves[0]!.child.pid).not.toBe(serves[1]!.child.pid);
      });

      it('skopeo pushes through A and pulls through B', async () => {
        const pushed = await copyToRegistry(join(work, 'layout'), '1.0', `${new URL(a).host}/acme/app:1.0`, creds(t.ci!), { all: true });
        expect(pushed.stderr).toBe('');
        expect(pushed.code).toBe(0);
        const pulled = await pull(b, t.prod!, 'acme/app:1.0');
        expect(pulled.stderr).toBe('');
        expect(pulled.code).toBe(0);
      });

      it('a push through A reaches what B knows of the repository at once (its cached graph is dropped)', async () => {
        // B walked acme/app's graph for 1.0's platform manifests (pulled by digest) and holds it for minutes.
        const pushed = await copyToRegistry(join(work, 'layout'), '1.1', `${new URL(a).host}/acme/app:1.1`, creds(t.ci!), { all: true });
        expect(pushed.code).toBe(0);
        const pulled = await pull(b, t.prod!, 'acme/app:1.1');
        expect(pulled.stderr).toBe('');
        expect(pulled.code).toBe(0);
      });

      it('a rate limit of 10 an hour holds across both instances', async () => {
        const statuses: number[] = [];
        for (let i = 0; i < 12; i++) {
          const res = await fetch(`${i % 2 === 0 ? a : b}/v2/`, { headers: { authorization: basic(t.limited!) } });
          statuses.push(res.status);
          if (i === 9) expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
        }
        expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);
      });

      it('a token revoked through A is refused by B on its very next request', async () => {
        const token = `${b}/token?service=portcullis&scope=repository:acme/app:pull`;
        const before = await fetch(token, { headers: { authorization: basic(t.prod!) } });
        expect(before.status).toBe(200);
        const { token: jwt } = (await before.json()) as { token: string };
        // Both of B's caches are warm: the token row and the principal were read for this very token.
        expect((await fetch(`${b}/v2/acme/app/tags/list`, { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(200);

        await api('POST', `/api/v1/tokens/${t.prod!.username}/revoke`);
        const [basicAfter, bearerAfter] = await Promise.all([
          fetch(token, { headers: { authorization: basic(t.prod!) } }),
          fetch(`${b}/v2/acme/app/tags/list`, { headers: { authorization: `Bearer ${jwt}` } }),
        ]);
        expect(basicAfter.status).toBe(401);
        expect(bearerAfter.status).toBe(401);
        const pulled = await pull(b, t.prod!, 'acme/app:1.0');
        expect(pulled.code).not.toBe(0);
      });
    });
  });
});
