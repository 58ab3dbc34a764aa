import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe } from 'vitest';

/** The Redis the tests use (not a PORTCULLIS_* variable: loadConfig would read it as a setting). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function reachable(): Promise<string | undefined> {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    client.disconnect();
  }
}

const unreachable = await reachable();

/** describe() when Redis answers; under CI=true an unreachable Redis fails the run, elsewhere the suite is skipped with a warning. */
export function describeRedis(name: string, fn: () => void): void {
  if (unreachable === undefined) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') throw new Error(`Redis at ${TEST_REDIS_URL} is unreachable (${unreachable}) and CI=true: the Redis tests must run`);
  process.stderr.write(`warning: skipping ${name}: Redis at ${TEST_REDIS_URL} is unreachable (${unreachable}); set TEST_REDIS_URL\n`);
  describe.skip(`${name} [skipped: Redis unreachable]`, fn);
}

/** A key prefix no other test run uses, so runs in parallel never share counters or channels. */
export function freshPrefix(): string {
  return `pctest:${randomBytes(6).toString('hex')}:`;
}

/** A client of the test's own, for looking at and tampering with what Portcullis keeps. */
export function adminRedis(): Redis {
  const client = new Redis(TEST_REDIS_URL);
  client.on('error', () => {});
  return client;
}

/** Ends every connection whose CLIENT SETNAME is `name`: what a Redis restart or a network cut does to it. */
export async function killConnections(admin: Redis, name: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  let killed = 0;
  for (const line of list.split('\n')) {
    if (!line.includes(` name=${name} `)) continue;
    const id = /\bid=(\d+)/.exec(line)?.[1];
    if (id) killed += Number(await admin.client('KILL', 'ID', id));
  }
  return killed;
}
