import { afterAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisChangeFeed } from '../../src/cache/change-feed.js';
import { connectRedis } from '../../src/cache/redis-connection.js';
import type { Change } from '../../src/core/change-message.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { describePostgres, freshSchema } from '../helpers/postgres.js';
import { adminRedis, describeRedis, freshPrefix, killConnections, TEST_REDIS_URL } from '../helpers/redis.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const vendor = (id: string) => ({ id, name: id, namespaces: [`${id}/**`], isOperator: false, createdAt: new Date('2026-01-01T00:00:00Z') });

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 2000): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - started;
}

/** N instances on one database and one Redis channel: a store and a started feed each, the way `serve` wires them. */
async function instances(n: number, opts: { pollMs?: number; name?: string } = {}) {
  const schema = await freshSchema();
  cleanups.push(() => schema.drop());
  const prefix = freshPrefix();
  const out: { store: KyselyStore; feed: RedisChangeFeed; client: Redis; heard: Change[] }[] = [];
  for (let i = 0; i < n; i++) {
    const store = openPostgresStore(schema.url);
    await store.migrate();
    const client = await connectRedis(TEST_REDIS_URL, opts.name ?? 'portcullis-test');
    const feed = new RedisChangeFeed({ store, publisher: client, prefix, pollMs: opts.pollMs ?? 500 });
    store.onCommit(() => feed.announce({ kind: 'store' }));
    const heard: Change[] = [];
    feed.onChange((c) => heard.push(c));
    await feed.start();
    cleanups.push(async () => {
      await feed.close();
      client.disconnect();
      await store.close();
    });
    out.push({ store, feed, client, heard });
  }
  return { schema, prefix, list: out };
}

describePostgres('change feed', () => {
  describeRedis('on PostgreSQL and Redis', () => {
    it('moves the other instance\'s marker as soon as a transaction commits, with no store read per look', async () => {
      const { list } = await instances(2, { pollMs: 60_000 });
      const [a, b] = list as [(typeof list)[0], (typeof list)[0]];
      const before = await b.feed.marker();
      expect(await b.feed.marker()).toBe(before);
      expect(before).toMatch(/^feed:/);
      await a.store.transaction((tx) => tx.insertVendor(vendor('ven_one')));
      // The poll is a minute away: only the message can have moved it.
      await until(async () => (await b.feed.marker()) !== before, 500);
      expect(b.heard).toContainEqual({ kind: 'store' });
    });

    it('hears keys and upstream changes from any instance, this one included', async () => {
      const { list } = await instances(2, { pollMs: 60_000 });
      await list[0]!.feed.announce({ kind: 'keys' });
      await list[1]!.feed.announce({ kind: 'upstream', repositories: ['acme/app'] });
      for (const { heard } of list) {
        await until(() => heard.length >= 2, 1000);
        expect(heard).toEqual(expect.arrayContaining([{ kind: 'keys' }, { kind: 'upstream', repositories: ['acme/app'] }]));
      }
    });

    it('sees a write no message announced (a CLI without Redis) within a second, through the store poll', async () => {
      const { schema, list } = await instances(1, { pollMs: 500 });
      const before = await list[0]!.feed.marker();
      const silent = openPostgresStore(schema.url);
      cleanups.push(() => silent.close());
      await silent.transaction((tx) => tx.insertVendor(vendor('ven_quiet')));
      const took = await until(async () => (await list[0]!.feed.marker()) !== before, 1500);
      expect(took).toBeLessThan(1000);
    });

    it('ignores foreign messages on its channel', async () => {
      const { prefix, list } = await instances(1, { pollMs: 60_000 });
      const before = await list[0]!.feed.marker();
      const admin = adminRedis();
      try {
        await admin.publish(`${prefix}changes`, 'drop everything');
        await admin.publish(`${prefix}changes`, '{"kind":"keys"}');
        await until(() => list[0]!.heard.length === 1, 1000);
      } finally {
        admin.disconnect();
      }
      expect(list[0]!.heard).toEqual([{ kind: 'keys' }]);
      expect(await list[0]!.feed.marker()).toBe(before);
    });

    it('reads the store on every look while its subscription is down, and trusts the channel again once resubscribed', async () => {
      const name = `pc-feed-${Date.now()}`;
      const { list } = await instances(1, { pollMs: 60_000, name });
      const { feed } = list[0]!;
      const admin = adminRedis();
      try {
        expect(await killConnections(admin, name)).toBeGreaterThan(0);
        await until(async () => (await feed.marker()).startsWith('store:'), 1000);
        await until(async () => (await feed.marker()).startsWith('feed:'), 5000);
      } finally {
        admin.disconnect();
      }
    });
  });
});
