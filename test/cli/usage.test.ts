import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEventId, newId } from '../../src/core/ids.js';
import type { UsageEvent } from '../../src/core/model.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { presentUsage, presentUsageCount } from '../../src/usage/usage-report.js';
import { expectCliError, initDataDir, removeDataDir, runCliAsync, startServe } from '../helpers/cli.js';

type UsageJson = { counts: ReturnType<typeof presentUsageCount>[]; events: ReturnType<typeof presentUsage>[] };

const random = (n: number) => new Uint8Array(randomBytes(n));
const DIGEST = `sha256:${'c'.repeat(64)}`;
const MINUTE = 60_000;

let dataDir: string;
let acmeId: string;
let otherId: string;
/** The operator vendor's events within the default 7 days, oldest first. */
let recent: UsageEvent[];
let old: UsageEvent;

const run = (...args: string[]) => runCliAsync(dataDir, 'usage', ...args);
const parse = (r: { status: number | null; stdout: string; stderr: string }) => {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as UsageJson;
};

beforeAll(async () => {
  ({ dataDir } = initDataDir());
  const store = openSqliteStore(join(dataDir, 'portcullis.db'));
  try {
    const operator = (await store.getOperatorVendor())!;
    const now = Date.now();
    const customer = async (name: string) => {
      const c = { id: newId('cus', random), vendorId: operator.id, name, contact: null, createdAt: new Date(now), updatedAt: new Date(now), deletedAt: null };
      await store.insertCustomer(c);
      return c.id;
    };
    acmeId = await customer('acme');
    otherId = await customer('other');
    const globex = { id: newId('ven', random), name: 'globex', namespaces: ['globex/**'], isOperator: false, createdAt: new Date(now) };
    await store.insertVendor(globex);

    const ev = (minutesAgo: number, repository: string, tag: string | null, action: UsageEvent['action'], customerId: string | null, userAgent = 'docker/27.0', vendorId = operator.id): UsageEvent => {
      const at = new Date(now - minutesAgo * MINUTE);
      return { id: newEventId(at, random), at, vendorId, tokenId: 'ctok_aaaaaaaaaaaaaaaa', customerId, action, repository, tag, digest: DIGEST, ip: '192.0.2.9', userAgent };
    };
    old = ev(30 * 24 * 60, 'acme/old', 'v0', 'pull', acmeId);
    recent = [
      ev(60, 'acme/app', 'v1', 'pull', acmeId, 'containerd/2.0 (linux), "ctr"'),
      ev(30, 'acme/app', 'v1', 'pull', acmeId),
      ev(20, 'acme/app', null, 'pull', acmeId, '=HYPERLINK("http://evil.test")'),
      ev(10, 'acme/app', 'v1', 'push', null),
      ev(5, 'acme/web', 'latest', 'pull', otherId),
    ];
    await store.insertUsage([old, ...recent, ev(5, 'globex/app', 'v1', 'pull', null, 'docker/27.0', globex.id)]);
  } finally {
    await store.close();
  }
});
afterAll(() => removeDataDir(dataDir));

describe('portcullis usage', () => {
  it('counts per repository and tag over the last 7 days, this vendor only; --json adds the raw events; --events lists them', async () => {
    const [asJson, human, wider] = await Promise.all([run('--json'), run('--events'), run('--since', '60d', '--json')]);
    const got = parse(asJson);
    expect(got.counts).toEqual([
      { repository: 'acme/app', tag: 'v1', pulls: 2, pushes: 1, last_at: recent[3]!.at.toISOString() },
      { repository: 'acme/app', tag: null, pulls: 1, pushes: 0, last_at: recent[2]!.at.toISOString() },
      { repository: 'acme/web', tag: 'latest', pulls: 1, pushes: 0, last_at: recent[4]!.at.toISOString() },
    ]);
    expect(got.events.map((e) => e.id)).toEqual(recent.map((e) => e.id));
    const e = recent[0]!;
    expect(got.events[0]).toEqual({
      id: e.id,
      at: e.at.toISOString(),
      action: 'pull',
      repository: 'acme/app',
      tag: 'v1',
      digest: DIGEST,
      token: e.tokenId,
      customer_id: acmeId,
      ip: '192.0.2.9',
      user_agent: e.userAgent,
    });

    expect(human.status, human.stderr).toBe(0);
    const [counts, events] = human.stdout.split('\n\n');
    const countLines = counts!.split('\n');
    expect(countLines[0]).toMatch(/^REPOSITORY\s+TAG\s+PULLS\s+PUSHES\s+LAST$/);
    expect(countLines.slice(1)).toEqual([expect.stringMatching(/^acme\/app\s+v1\s+2\s+1\s/), expect.stringMatching(/^acme\/app\s+-\s+1\s+0\s/), expect.stringMatching(/^acme\/web\s+latest\s+1\s+0\s/)]);
    const eventLines = events!.trimEnd().split('\n');
    expect(eventLines[0]).toMatch(/^TIME\s+ACTION\s+REPOSITORY\s+TAG\s+DIGEST\s+TOKEN\s+CUSTOMER\s+IP$/);
    expect(eventLines).toHaveLength(1 + recent.length);
    expect(eventLines[1]).toMatch(/\sacme\s+192\.0\.2\.9$/); // customer by name

    expect(parse(wider).events.map((e) => e.id)).toEqual([old, ...recent].map((e) => e.id));
  });

  it('filters by customer (name or id) and repository; --csv quotes and defuses formulas', async () => {
    const [csv, byId] = await Promise.all([run('--customer', 'acme', '--repo', 'acme/app', '--csv'), run('--customer', otherId, '--json')]);
    expect(csv.status, csv.stderr).toBe(0);
    const rows = csv.stdout.split('\r\n');
    expect(rows[0]).toBe('at,action,repository,tag,digest,token,customer,ip,user_agent');
    expect(rows.slice(1)).toEqual([
      `${recent[0]!.at.toISOString()},pull,acme/app,v1,${DIGEST},ctok_aaaaaaaaaaaaaaaa,${acmeId},192.0.2.9,"containerd/2.0 (linux), ""ctr"""`,
      `${recent[1]!.at.toISOString()},pull,acme/app,v1,${DIGEST},ctok_aaaaaaaaaaaaaaaa,${acmeId},192.0.2.9,docker/27.0`,
      `${recent[2]!.at.toISOString()},pull,acme/app,,${DIGEST},ctok_aaaaaaaaaaaaaaaa,${acmeId},192.0.2.9,"'=HYPERLINK(""http://evil.test"")"`,
      '',
    ]);
    expect(parse(byId).events.map((e) => e.id)).toEqual([recent[4]!.id]);
  });

  it('refuses bad input with one line: --json with --csv and a bad --since exit 2, an unknown customer exits 1', async () => {
    const [both, since, customer] = await Promise.all([run('--json', '--csv'), run('--since', 'bogus'), run('--customer', 'nope')]);
    expectCliError(both, 2, /--json and --csv/);
    expectCliError(since, 2, /bogus/);
    expectCliError(customer, 1, /customer nope not found/);
  });
});

describe('serve and the usage journal', () => {
  it('writes events a crash left in the journal to the store on the next start, once', async () => {
    const { dataDir: dir } = initDataDir();
    try {
      const store = openSqliteStore(join(dir, 'portcullis.db'));
      const operator = (await store.getOperatorVendor())!;
      await store.close();
      const at = new Date();
      const event: UsageEvent = { id: newEventId(at, random), at, vendorId: operator.id, tokenId: 'ctok_crashcrashcrash1', customerId: null, action: 'pull', repository: 'acme/app', tag: '1.0', digest: DIGEST, ip: '10.0.0.9', userAgent: 'docker/28' };
      // As the server wrote it just before it died: a whole line, then a torn one.
      writeFileSync(join(dir, 'usage.journal'), `${JSON.stringify(event)}\n{"id":"evt_torn","at":"20`, { mode: 0o600 });
      const serve = startServe(dir, '--port', '0');
      try {
        await serve.waitForLine(/recovered usage events/);
        await serve.waitForLine(/portcullis listening/);
      } finally {
        await serve.stop('SIGTERM');
      }
      const r = await runCliAsync(dir, 'usage', '--json');
      expect(r.status, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as UsageJson).events.map((e) => [e.id, e.ip])).toEqual([[event.id, '10.0.0.9']]);
      expect(existsSync(join(dir, 'usage.journal'))).toBe(false);
    } finally {
      removeDataDir(dir);
    }
  });
});
