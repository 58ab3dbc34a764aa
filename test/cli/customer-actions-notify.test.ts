import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { expectCliError, initDataDir, removeDataDir, runCliAsync, runCliJsonAsync, runCliWithAsync, startServe } from '../helpers/cli.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

interface ActionJson {
  action: string;
  customer: { id: string; name: string };
  tokens: string[];
  licenses: string[];
}
interface TokenJson {
  username: string;
  status: string;
}
interface LicenseJson {
  id: string;
  status: string;
}
interface RoundJson {
  dry_run: boolean;
  warnings: { event: string; object: { id: string }; days_left: number; outcome: string; error: string | null }[];
}

const step = it.sequential;

describe('portcullis customer suspend|resume|revoke', () => {
  let dataDir: string;
  let token: string;
  let license: string;
  const json = <T>(...args: string[]) => runCliJsonAsync<T>(dataDir, ...args);
  const statuses = async () => ({
    token: (await json<TokenJson>('token', 'show', token)).status,
    license: (await json<LicenseJson>('license', 'show', license)).status,
  });

  beforeAll(async () => {
    ({ dataDir } = initDataDir());
    await json('customer', 'create', '--name', 'globex');
    token = (await json<TokenJson>('token', 'create', '--type', 'customer', '--customer', 'globex', '--name', 'prod')).username;
    license = (await json<LicenseJson>('license', 'create', '--customer', 'globex', '--repos', 'acme/app')).id;
  });
  afterAll(() => removeDataDir(dataDir));

  step('suspend prints what it changed and disables it', async () => {
    const r = await runCliAsync(dataDir, 'customer', 'suspend', 'globex');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^suspend globex \(cus_\w+\): 1 token\(s\), 1 license\(s\)\n/);
    expect(r.stdout).toMatch(new RegExp(`token\\s+${token}\\s+disabled`));
    expect(await statuses()).toEqual({ token: 'disabled', license: 'suspended' });
  });

  step('resume --json gives the summary and restores both', async () => {
    expect(await json<ActionJson>('customer', 'resume', 'globex')).toMatchObject({ action: 'resume', customer: { name: 'globex' }, tokens: [token], licenses: [license] });
    expect(await statuses()).toEqual({ token: 'active', license: 'active' });
  });

  step('revoke without --yes says what it would revoke, changes nothing and exits 2', async () => {
    const r = await runCliAsync(dataDir, 'customer', 'revoke', 'globex');
    expectCliError(r, 2, new RegExp(`customer revoke is final: it would revoke 1 token\\(s\\) \\(${token}\\) and 1 license\\(s\\) \\(${license}\\) of globex; run it again with --yes`));
    expect(await statuses()).toEqual({ token: 'active', license: 'active' });
  });

  step('revoke --yes revokes everything', async () => {
    expect(await json<ActionJson>('customer', 'revoke', 'globex', '--yes')).toMatchObject({ action: 'revoke', tokens: [token], licenses: [license] });
    expect(await statuses()).toEqual({ token: 'revoked', license: 'revoked' });
  });

  step('an unknown customer, or another vendor\'s, is not found (exit 1)', async () => {
    expectCliError(await runCliAsync(dataDir, 'customer', 'suspend', 'nosuch'), 1, /customer nosuch not found/);
    await json('vendor', 'create', '--name', 'acme');
    expectCliError(await runCliAsync(dataDir, '--vendor', 'acme', 'customer', 'suspend', 'globex'), 1, /customer globex not found/);
  });
});

describe('portcullis notify expiring', () => {
  let dataDir: string;
  let hook: WebhookReceiver;
  let token: string;
  let license: string;
  const withHook = (...args: string[]) => runCliWithAsync(dataDir, { env: { PORTCULLIS_NOTIFICATIONS_WEBHOOK_URL: hook.url } }, ...args);

  beforeAll(async () => {
    ({ dataDir } = initDataDir());
    hook = await startWebhookReceiver();
    await runCliJsonAsync(dataDir, 'customer', 'create', '--name', 'globex');
    token = (await runCliJsonAsync<TokenJson>(dataDir, 'token', 'create', '--type', 'customer', '--customer', 'globex', '--name', 'prod', '--expires', '3d')).username;
    license = (await runCliJsonAsync<LicenseJson>(dataDir, 'license', 'create', '--customer', 'globex', '--repos', 'acme/app', '--until', '10d')).id;
  });
  afterAll(async () => {
    await hook.close();
    removeDataDir(dataDir);
  });

  step('--dry-run lists what is due without a webhook and sends nothing', async () => {
    const r = await runCliJsonAsync<RoundJson>(dataDir, 'notify', 'expiring', '--dry-run');
    expect(r.dry_run).toBe(true);
    expect(r.warnings.map((w) => [w.event, w.object.id, w.days_left, w.outcome])).toEqual([
      ['token.expiring', token, 3, 'due'],
      ['license.expiring', license, 10, 'due'],
    ]);
    expect(hook.received).toEqual([]);
  });

  step('without a webhook configured it refuses to run for real (exit 2)', async () => {
    expectCliError(await runCliAsync(dataDir, 'notify', 'expiring'), 2, /no notifier is configured: set notifications.webhook_url/);
  });

  step('a refusing webhook fails the run (exit 1, one line) and the next run sends', async () => {
    hook.status = 500;
    expectCliError(await withHook('notify', 'expiring'), 1, /2 of 2 expiry warning\(s\) not sent \(ctok_\w+: webhook answered HTTP 500\); they are retried on the next run/);
    hook.status = 204;
    const r = await withHook('notify', 'expiring', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as RoundJson).warnings.map((w) => w.outcome)).toEqual(['sent', 'sent']);
    expect(hook.received).toHaveLength(4);
  });

  step('a second run sends nothing', async () => {
    const r = await withHook('notify', 'expiring');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('(none)\n');
    expect(hook.received).toHaveLength(4);
  });

  step('--vendor is refused: the check covers the whole instance', async () => {
    expectCliError(await runCliAsync(dataDir, '--vendor', 'operator', 'notify', 'expiring'), 2, /covers every vendor of the instance; drop --vendor/);
  });
});

describe('portcullis serve checks for expiry warnings', () => {
  let dataDir: string;
  let hook: WebhookReceiver;
  beforeEach(async () => {
    ({ dataDir } = initDataDir());
    hook = await startWebhookReceiver();
  });
  afterEach(async () => {
    await hook.close();
    removeDataDir(dataDir);
  });

  it('sends what is due at start, never logs the webhook URL or secret, and stops cleanly', async () => {
    const token = (await runCliJsonAsync<TokenJson>(dataDir, 'token', 'create', '--type', 'vendor', '--name', 'ci', '--expires', '2d')).username;
    const config = join(dataDir, 'portcullis.toml');
    const secret = 'serve-webhook-secret-0123456789';
    writeFileSync(config, `[notifications]\nwebhook_url = "${hook.url}?key=receiver-key"\nwebhook_secret = "${secret}"\ncheck_interval = "1h"\n`);
    const serve = startServe(dataDir, '--port', '0', '--config', config);
    try {
      await serve.waitForLine(/expiry warning sent/);
      expect(hook.received.map((h) => JSON.parse(h.body) as { object: { id: string } }).map((p) => p.object.id)).toEqual([token]);
    } finally {
      expect((await serve.stop('SIGTERM')).code).toBe(0);
    }
    expect(serve.stdout()).not.toContain('receiver-key');
    expect(serve.stdout()).not.toContain(secret);
    expect(serve.stdout()).toContain('"check_interval":"1h"');
  });
});
