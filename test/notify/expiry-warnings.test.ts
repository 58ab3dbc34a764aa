import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { changeTokenStatus, createToken } from '../../src/service/tokens.js';
import { createCustomer } from '../../src/service/customers.js';
import { createLicense } from '../../src/service/licenses.js';
import { createVendor } from '../../src/service/vendors.js';
import { notifierFromConfig, runExpiryRound, type ExpiryRoundDeps } from '../../src/notify/expiry-round.js';
import { WebhookNotifier } from '../../src/notify/webhook.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { startWebhookReceiver, type ReceivedHook, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { ownerCaller } from '../../src/service/context.js';

const SECRET = 'a-webhook-secret-of-some-length';
const DAY = 86_400_000;

interface Payload {
  id: string;
  event: string;
  at: string;
  vendor: { id: string; name: string };
  customer: { id: string; name: string } | null;
  object: { type: string; id: string; name: string | null };
  ends_at: string;
  days_left: number;
}

const payloads = (hooks: ReceivedHook[]) => hooks.map((h) => JSON.parse(h.body) as Payload);

describe('expiry warnings through a webhook', () => {
  let hook: WebhookReceiver;
  let inst: TestInstance;
  let env: Record<string, string>;
  const opened: Runtime[] = [];

  beforeEach(async () => {
    hook = await startWebhookReceiver();
    env = {
      PORTCULLIS_NOTIFICATIONS_WEBHOOK_URL: hook.url,
      PORTCULLIS_NOTIFICATIONS_WEBHOOK_SECRET: SECRET,
      PORTCULLIS_NOTIFICATIONS_WARN_BEFORE: '14d',
    };
    inst = await startInstance(new Date('2026-11-24T12:00:00Z'), env);
  });
  afterEach(async () => {
    for (const rt of opened.splice(0)) await rt.close();
    await inst.runtime.close().catch(() => undefined);
    rmSync(inst.dataDir, { recursive: true, force: true });
    await hook.close();
  });

  /** Another runtime on the same data dir: a restart, or a second instance. */
  const openAgain = async (): Promise<Runtime> => {
    const config = loadConfig({ env, cwd: inst.dataDir, flags: { data_dir: inst.dataDir } });
    const { runtime } = await openRuntime(config, { initialize: false, now: () => inst.clock.now });
    opened.push(runtime);
    return runtime;
  };
  const round = (deps: ExpiryRoundDeps = inst.runtime) => runExpiryRound(deps, notifierFromConfig(deps.config));

  /** What is due with the seed below: a customer token in 3 days and a license in 10. */
  const seed = async () => {
    const rt = inst.runtime;
    const c = await createCustomer(rt, inst.caller, { name: 'globex' });
    const token = await createToken(rt, inst.caller, { type: 'customer', customer: c.id, name: 'prod', expires: '3d' });
    const license = await createLicense(rt, inst.caller, { customer: c.id, repositories: 'acme/app', validUntil: '10d', name: 'support' });
    // Not due: ends after warn_before, never ends, disabled, or already ended by then.
    await createToken(rt, inst.caller, { type: 'customer', customer: c.id, name: 'later', expires: '20d' });
    await createLicense(rt, inst.caller, { customer: c.id, repositories: 'acme/db' });
    const off = await createToken(rt, inst.caller, { type: 'customer', customer: c.id, name: 'off', expires: '2d' });
    await changeTokenStatus(rt, inst.caller, off.token.id, 'disable');
    return { customer: c, token: token.token, license };
  };

  it('sends each warning once: not again next round, not after a restart; again when the end moves', async () => {
    const { customer, token, license } = await seed();

    const first = await round();
    expect(first.entries.map((e) => [e.notice.warning.objectId, e.outcome])).toEqual([
      [token.id, 'sent'],
      [license.id, 'sent'],
    ]);
    expect(hook.received).toHaveLength(2);
    const operator = { id: inst.runtime.operator.id, name: inst.runtime.operator.name };
    expect(payloads(hook.received)).toEqual([
      {
        id: `${token.id}@2026-11-27T12:00:00.000Z`,
        event: 'token.expiring',
        at: '2026-11-24T12:00:00.000Z',
        vendor: operator,
        customer: { id: customer.id, name: 'globex' },
        object: { type: 'token', id: token.id, name: 'prod' },
        ends_at: '2026-11-27T12:00:00.000Z',
        days_left: 3,
      },
      {
        id: `${license.id}@2026-12-04T12:00:00.000Z`,
        event: 'license.expiring',
        at: '2026-11-24T12:00:00.000Z',
        vendor: operator,
        customer: { id: customer.id, name: 'globex' },
        object: { type: 'license', id: license.id, name: 'support' },
        ends_at: '2026-12-04T12:00:00.000Z',
        days_left: 10,
      },
    ]);
    expect(hook.received.map((h) => h.headers['x-portcullis-event'])).toEqual(['token.expiring', 'license.expiring']);

    inst.clock.now = new Date(inst.clock.now.getTime() + DAY);
    expect((await round()).entries).toEqual([]);
    expect(hook.received).toHaveLength(2);

    await inst.runtime.close();
    const restarted = await openAgain();
    expect((await round(restarted)).entries).toEqual([]);
    expect(hook.received).toHaveLength(2);

    // The license is prolonged by two days (written by another process, as the CLI would).
    const db = new Database(join(inst.dataDir, 'portcullis.db'));
    db.prepare('update licenses set valid_until = ? where id = ?').run('2026-12-06T12:00:00.000Z', license.id);
    db.close();
    const moved = await round(restarted);
    expect(moved.entries.map((e) => [e.notice.warning.objectId, e.outcome])).toEqual([[license.id, 'sent']]);
    expect(payloads(hook.received.slice(2))).toMatchObject([{ event: 'license.expiring', ends_at: '2026-12-06T12:00:00.000Z', days_left: 11 }]);
    expect((await round(restarted)).entries).toEqual([]);
    expect(hook.received).toHaveLength(3);
  });

  it('signs each body with HMAC-SHA256 of the webhook secret', async () => {
    await seed();
    await round();
    expect(hook.received).toHaveLength(2);
    for (const h of hook.received) {
      const expected = createHmac('sha256', SECRET).update(h.body).digest('hex');
      expect(h.headers['x-portcullis-signature']).toBe(`sha256=${expected}`);
      expect(h.headers['content-type']).toBe('application/json');
      expect(h.headers['x-portcullis-delivery']).toBe((JSON.parse(h.body) as Payload).id);
    }
    // A body changed on the way no longer matches its signature.
    const tampered = hook.received[0]!.body.replace('"days_left":3', '"days_left":30');
    expect(`sha256=${createHmac('sha256', SECRET).update(tampered).digest('hex')}`).not.toBe(hook.received[0]!.headers['x-portcullis-signature']);
  });

  it('retries on the next round a warning the webhook refused (500), and then sends it once', async () => {
    const { token, license } = await seed();
    hook.status = 500;
    const failed = await round();
    expect(failed.entries.map((e) => [e.outcome, e.error])).toEqual([
      ['failed', 'webhook answered HTTP 500'],
      ['failed', 'webhook answered HTTP 500'],
    ]);
    expect(hook.received).toHaveLength(2);
    expect(await inst.runtime.store.listExpiryWarnings(inst.clock.now)).toEqual([]);

    hook.status = 200;
    const retried = await round();
    expect(retried.entries.map((e) => [e.notice.warning.objectId, e.outcome])).toEqual([
      [token.id, 'sent'],
      [license.id, 'sent'],
    ]);
    expect((await round()).entries).toEqual([]);
    expect(hook.received).toHaveLength(4);
  });

  it('sends a warning once when two instances check at the same moment', async () => {
    await seed();
    const other = await openAgain();
    const [a, b] = await Promise.all([round(), round(other)]);
    const outcomes = [...a.entries, ...b.entries].map((e) => e.outcome).sort();
    expect(outcomes).toEqual(['sent', 'sent', 'skipped', 'skipped']);
    expect(hook.received).toHaveLength(2);
    expect(new Set(payloads(hook.received).map((p) => p.id)).size).toBe(2);
  });

  it("covers every vendor, names each one's own vendor, and warns about vendor tokens with no customer", async () => {
    const vendor = await createVendor(inst.runtime, inst.caller, { name: 'acme' });
    const acme = ownerCaller(vendor, { name: 'test', source: 'test' });
    const ci = await createToken(inst.runtime, acme, { type: 'vendor', name: 'ci', expires: '1d' });
    await round();
    expect(payloads(hook.received)).toMatchObject([{ vendor: { id: vendor.id, name: 'acme' }, customer: null, object: { type: 'token', id: ci.token.id, name: 'ci' }, days_left: 1 }]);
  });

  it('lists what is due in a dry run, without sending or recording anything', async () => {
    await seed();
    const dry = await runExpiryRound(inst.runtime, undefined, { dryRun: true });
    expect(dry.entries.map((e) => e.outcome)).toEqual(['due', 'due']);
    expect(hook.received).toEqual([]);
    expect(await inst.runtime.store.listExpiryWarnings(inst.clock.now)).toEqual([]);
  });

  it('refuses to run for real with no webhook configured', async () => {
    const config = { ...inst.runtime.config, notifications: { ...inst.runtime.config.notifications, webhook_url: undefined } };
    expect(notifierFromConfig(config)).toBeUndefined();
    await expect(runExpiryRound({ ...inst.runtime, config }, undefined)).rejects.toMatchObject({ code: 'invalid_input', field: 'notifications.webhook_url' });
  });
});

describe('the webhook notifier', () => {
  let hook: WebhookReceiver;
  beforeEach(async () => {
    hook = await startWebhookReceiver();
  });
  afterEach(async () => hook.close());

  const notice = {
    warning: {
      event: 'token.expiring' as const,
      objectType: 'token' as const,
      objectId: 'ctok_aaaaaaaaaaaaaaaa',
      vendorId: 'ven_a',
      customerId: null,
      name: 'ci',
      endsAt: new Date('2026-12-01T00:00:00Z'),
      daysLeft: 6,
    },
    vendor: { id: 'ven_a', name: 'acme' },
    customer: null,
  };

  it('gives up after its timeout, and names neither the URL nor the secret in the error', async () => {
    hook.status = 'hang';
    const notifier = new WebhookNotifier({ url: `${hook.url}?token=receiver-secret`, secret: SECRET, timeoutMs: 200 });
    const err = (await notifier.notify(notice, new Date()).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe('webhook did not answer within 0.2 s');
    expect(err.message).not.toContain('receiver-secret');
  });

  it('reports an unreachable receiver by its error code', async () => {
    await hook.close();
    const notifier = new WebhookNotifier({ url: hook.url });
    await expect(notifier.notify(notice, new Date())).rejects.toThrow('webhook unreachable: ECONNREFUSED');
    hook = await startWebhookReceiver();
  });

  it('treats a redirect as a failure instead of following it', async () => {
    hook.status = 302;
    await expect(new WebhookNotifier({ url: hook.url }).notify(notice, new Date())).rejects.toThrow('webhook answered HTTP 302');
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.headers['x-portcullis-signature']).toBeUndefined();
  });
});

describe('[notifications] config', () => {
  const load = (env: Record<string, string>) => loadConfig({ env, cwd: '/', flags: { data_dir: '/tmp/unused' } });

  it('defaults to no webhook, 14d warnings and an hourly check', () => {
    expect(load({}).notifications).toEqual({ warn_before: '14d', check_interval: '1h' });
  });

  it.each([
    ['PORTCULLIS_NOTIFICATIONS_WARN_BEFORE', '0', /"notifications.warn_before".*must be a duration longer than 0/],
    ['PORTCULLIS_NOTIFICATIONS_WARN_BEFORE', '2x', /"notifications.warn_before".*unknown unit "x"/],
    ['PORTCULLIS_NOTIFICATIONS_CHECK_INTERVAL', '1M', /"notifications.check_interval".*no fixed length/],
    ['PORTCULLIS_NOTIFICATIONS_WEBHOOK_URL', 'ftp://hooks.example.com/x', /"notifications.webhook_url"/],
    ['PORTCULLIS_NOTIFICATIONS_WEBHOOK_SECRET', 'short', /"notifications.webhook_secret".*at least 16 characters/],
  ])('%s=%s stops start-up naming the key', (name, value, message) => {
    expect(() => load({ [name]: value })).toThrow(message);
  });

  it('accepts calendar units for warn_before', () => {
    expect(load({ PORTCULLIS_NOTIFICATIONS_WARN_BEFORE: '1M' }).notifications.warn_before).toBe('1M');
  });
});
