import { afterAll, expect, it } from 'vitest';
import { expectCliError, makeDataDir, removeDataDir, runCliWithAsync } from '../helpers/cli.js';
import { describePostgres, freshSchema } from '../helpers/postgres.js';
import { freePort } from '../helpers/distribution.js';

const dirs: string[] = [];
const schemas: { drop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const d of dirs) removeDataDir(d);
  for (const s of schemas) await s.drop();
});

const UNREACHABLE = 'redis://default:hunter2-redis-secret@127.0.0.1:1/0';

it('refuses a cache.redis that is not a Redis URL, without repeating it', async () => {
  const dir = makeDataDir();
  dirs.push(dir);
  for (const value of ['http://user:hunter2-redis-secret@cache:6379', 'hunter2-redis-secret', 'redis://']) {
    const r = await runCliWithAsync(dir, { env: { PORTCULLIS_CACHE_REDIS: value } }, 'token', 'list');
    expectCliError(r, 2, /bad config value for "cache\.redis" \(from PORTCULLIS_CACHE_REDIS\): expected empty \(no shared cache\), or redis:\/\//);
    expect(r.stderr).not.toContain('hunter2');
  }
  const prefix = await runCliWithAsync(dir, { env: { PORTCULLIS_CACHE_KEY_PREFIX: 'has space' } }, 'token', 'list');
  expectCliError(prefix, 2, /"cache\.key_prefix".*letters, digits/);
});

describePostgres('an unreachable Redis', () => {
  it('stops serve at start, naming where without the password; a CLI command goes on and says so', async () => {
    const schema = await freshSchema();
    schemas.push(schema);
    const dir = makeDataDir();
    dirs.push(dir);
    const env = { PORTCULLIS_STORE_URL: schema.url, PORTCULLIS_CACHE_REDIS: UNREACHABLE, PORTCULLIS_SERVER_PORT: String(await freePort()) };
    const serve = await runCliWithAsync(dir, { env, timeoutMs: 30_000 }, 'serve');
    expect(serve.status).toBe(1);
    expect(serve.stderr).toMatch(/^portcullis: cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0 \(cache\.redis\)/m);
    expect(serve.stderr + serve.stdout).not.toContain('hunter2');

    const init = await runCliWithAsync(dir, { env }, 'init', '--json');
    expect(init.status).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ initialized: true });
    expect(init.stderr).toMatch(/warning: cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0 \(cache\.redis\).*going on without it/);
    expect(init.stderr).not.toContain('hunter2');
  });
});
