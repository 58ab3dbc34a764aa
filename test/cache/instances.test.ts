/**
 * Several runtimes in one process, the way `serve` wires them, on one
 * PostgreSQL schema and one Redis prefix: what the e2e test cannot look
 * inside (signing keys, write-behind batches, the cache's own marker).
 */
import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, expect, it } from 'vitest';
import { PEPPER_FILE } from '../../src/auth/instance-secrets.js';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { createCustomer } from '../../src/service/customers.js';
import { rotateKey } from '../../src/service/keys.js';
import { changeLicenseStatus, createLicense } from '../../src/service/licenses.js';
import { changeTokenStatus, createToken } from '../../src/service/tokens.js';
import { describePostgres, freshSchema } from '../helpers/postgres.js';
import { describeRedis, freshPrefix, TEST_REDIS_URL } from '../helpers/redis.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** `n` started runtimes; `sharedDataDir` puts them all on one data dir (a shared volume), else each gets a copy of the first's pepper and keys. */
async function fleet(n: number, sharedDataDir = false): Promise<{ runtimes: Runtime[]; caller: Caller }> {
  const schema = await freshSchema();
  const env = { PORTCULLIS_STORE_URL: schema.url, PORTCULLIS_CACHE_REDIS: TEST_REDIS_URL, PORTCULLIS_CACHE_KEY_PREFIX: freshPrefix(), PORTCULLIS_LOG_LEVEL: 'silent' };
  const first = mkdtempSync(join(tmpdir(), 'portcullis-fleet-'));
  cleanups.push(async () => {
    rmSync(first, { recursive: true, force: true });
    await schema.drop();
  });
  const runtimes: Runtime[] = [];
  for (let i = 0; i < n; i++) {
    let dir = first;
    if (i > 0 && !sharedDataDir) {
      dir = mkdtempSync(join(tmpdir(), 'portcullis-fleet-'));
      copyFileSync(join(first, PEPPER_FILE), join(dir, PEPPER_FILE));
      cpSync(join(first, 'keys'), join(dir, 'keys'), { recursive: true });
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    }
    const { runtime } = await openRuntime(loadConfig({ env, cwd: dir, flags: { data_dir: dir } }), { initialize: true, requireCache: true, onBackgroundError: (err) => console.error(err) });
    await runtime.changes.start();
    cleanups.push(() => runtime.close());
    runtimes.push(runtime);
  }
  return { runtimes, caller: ownerCaller(runtimes[0]!.operator, { name: 'test', source: 'test' }) };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describePostgres('many runtimes', () => {
  describeRedis('on one PostgreSQL and one Redis', () => {
    it('a disable or a license suspended through one holds at the other as soon as it hears of it, its cache keyed on the feed, not on a store read', async () => {
      const { runtimes, caller } = await fleet(2);
      const [a, b] = runtimes as [Runtime, Runtime];
      const customer = await createCustomer(a, caller, { name: 'globex' });
      const license = await createLicense(a, caller, { customer: customer.id, repositories: 'acme/app' });
      const tok = await createToken(a, caller, { type: 'customer', name: 'prod', customer: customer.id });
      const app = await buildApp(b);
      cleanups.push(() => app.close());
      const authorization = `Basic ${Buffer.from(`${tok.token.id}:${tok.secret}`).toString('base64')}`;
      const get = () => app.inject({ url: '/token?service=portcullis&scope=repository:acme/app:pull', headers: { authorization } });
      expect((await get()).statusCode).toBe(200);
      expect(await b.changes.marker()).toMatch(/^feed:/);
      const hitsBefore = b.access.cacheCounts().token?.hits ?? 0;
      expect((await get()).statusCode).toBe(200);
      expect(b.access.cacheCounts().token!.hits).toBe(hitsBefore + 1);

      // In one process the message may still be on its way when A returns; between processes the client's next request comes later (the e2e test).
      const heard = async (write: () => Promise<unknown>) => {
        const before = await b.changes.marker();
        await write();
        await until(async () => (await b.changes.marker()) !== before, 300);
      };
      await heard(() => changeTokenStatus(a, caller, tok.token.id, 'disable'));
      expect((await get()).statusCode).toBe(401);
      await heard(() => changeTokenStatus(a, caller, tok.token.id, 'enable'));
      expect((await get()).statusCode).toBe(200);

      // A license change through A: B's next token grants nothing (the registry then refuses the pull).
      const granted = async () => decodeJwt((JSON.parse((await get()).body) as { token: string }).token).access;
      expect(await granted()).toEqual([{ type: 'repository', name: 'acme/app', actions: ['pull'] }]);
      await heard(() => changeLicenseStatus(a, caller, license.id, 'suspend'));
      expect(await granted()).toEqual([{ type: 'repository', name: 'acme/app', actions: [] }]);
    });

    it('the write-behind batches of one instance (pull records, last-used times) leave every instance\'s caches standing', async () => {
      const { runtimes, caller } = await fleet(2);
      const [a, b] = runtimes as [Runtime, Runtime];
      const customer = await createCustomer(a, caller, { name: 'globex' });
      const tok = await createToken(a, caller, { type: 'customer', name: 'prod', customer: customer.id });
      await until(async () => (await b.access.token(tok.token.id)) !== undefined, 1000);
      // The store poll, too, has seen those writes by now.
      await new Promise((r) => setTimeout(r, 700));
      const before = await b.changes.marker();
      const at = new Date();
      a.usage.record({ at, vendorId: caller.vendorId, tokenId: tok.token.id, customerId: customer.id, action: 'pull', repository: 'acme/app', tag: '1.0', digest: `sha256:${'0'.repeat(64)}`, ip: '10.0.0.1', userAgent: 'test' });
      a.lastUsed.note(tok.token.id, at, '10.0.0.1');
      await Promise.all([a.usage.flush(), a.lastUsed.flush()]);
      expect(await a.store.listUsage(caller.vendorId)).toHaveLength(1);
      // Longer than the store poll: neither a message nor the counter moved.
      await new Promise((r) => setTimeout(r, 700));
      expect(await b.changes.marker()).toBe(before);
      await changeTokenStatus(a, caller, tok.token.id, 'disable');
      await until(async () => (await b.changes.marker()) !== before, 300);
    });

    it('a key rotated through one instance signs at every instance sharing the data dir at once', async () => {
      const { runtimes, caller } = await fleet(2, true);
      const [a, b] = runtimes as [Runtime, Runtime];
      // B has just looked at its keys: without a message it would not look again for a second.
      const old = b.keys.current().kid;
      const { key } = await rotateKey(a, caller);
      expect(key.kid).not.toBe(old);
      await until(() => b.keys.current().kid === key.kid, 500);
    });

    it('usage and last-used batches of several instances all land: none lost, none twice, the latest time wins', async () => {
      const { runtimes, caller } = await fleet(3);
      const customer = await createCustomer(runtimes[0]!, caller, { name: 'globex' });
      const tok = await createToken(runtimes[0]!, caller, { type: 'customer', name: 'prod', customer: customer.id });
      const base = Date.parse('2026-11-24T12:00:00Z');
      runtimes.forEach((rt, i) => {
        for (let j = 0; j < 200; j++) {
          const at = new Date(base + j * 1000 + i);
          rt.usage.record({ at, vendorId: caller.vendorId, tokenId: tok.token.id, customerId: customer.id, action: 'pull', repository: 'acme/app', tag: '1.0', digest: `sha256:${'0'.repeat(64)}`, ip: `10.0.0.${i}`, userAgent: 'test' });
          rt.lastUsed.note(tok.token.id, at, `10.0.0.${i}`);
        }
      });
      // All flush at once, each batch one transaction, racing the others.
      await Promise.all(runtimes.flatMap((rt) => [rt.usage.flush(), rt.lastUsed.flush()]));
      await Promise.all(runtimes.flatMap((rt) => [rt.usage.flush(), rt.lastUsed.flush()]));
      const events = await runtimes[1]!.store.listUsage(caller.vendorId);
      expect(events).toHaveLength(600);
      expect(new Set(events.map((e) => e.id)).size).toBe(600);
      const stored = await runtimes[2]!.store.getToken(caller.vendorId, tok.token.id);
      // The latest note of all: instance 2's last, at base + 199 s + 2 ms.
      expect(stored!.lastUsedAt!.toISOString()).toBe(new Date(base + 199_000 + 2).toISOString());
      expect(stored!.lastUsedIp).toBe('10.0.0.2');
    });
  });
});
