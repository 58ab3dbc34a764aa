/**
 * The dashboard end to end: real Chromium (Debian's, through playwright-core)
 * against a listening instance with the built-in registry, real skopeo pulling
 * with the token the UI made, and a real SMTP server catching the invitation.
 * Screenshots of each main page go to test-results/dashboard/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createUser } from '../../src/service/users.js';
import { createVendor } from '../../src/service/vendors.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { buildImageLayout } from '../helpers/oci-layout.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { copyToRegistry, skopeo } from '../helpers/skopeo.js';
import { startSmtpCatcher, type SmtpCatcher } from '../helpers/smtp-catcher.js';
import { describeE2E } from '../helpers/system-tools.js';
import { ownerCaller } from '../../src/service/context.js';

const SHOTS = join(REPO_ROOT, 'test-results', 'dashboard');
const OWNER = { email: 'owner@acme.test', password: 'correct horse battery staple' };
const VIEWER = { email: 'viewer@acme.test', password: 'another long passphrase' };

describeE2E('dashboard in Chromium: tokens, customers, licenses, usage, invitations', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let base: string;
  let host: string;
  let smtp: SmtpCatcher;
  let browser: Browser;
  let owner: BrowserContext;
  let page: Page;
  let work: string;
  let vendorToken: CreatedToken;
  // What the UI showed once: the customer token, as <username>.<secret>.
  let shownToken = '';

  const shot = (p: Page, name: string) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const pull = (fullToken: string) =>
    skopeo(['copy', '--insecure-policy', '--src-tls-verify=false', '--src-creds', `token:${fullToken}`, `docker://${host}/acme/app:1.0`, `oci:${join(work, 'pulled')}:x`]);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    smtp = await startSmtpCatcher();
    inst = await startInstance('real-time', {
      PORTCULLIS_SMTP_HOST: '127.0.0.1',
      PORTCULLIS_SMTP_PORT: String(smtp.port),
      PORTCULLIS_SMTP_TLS: 'none',
    });
    app = await buildApp(inst.runtime);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    host = new URL(base).host;
    // serve flushes pull records in the background; so must this instance, for the Usage page to show them.
    inst.runtime.usage.start(200);
    const rt = inst.runtime;
    const vendor = await createVendor(rt, inst.caller, { name: 'acme', namespaces: 'acme/**' });
    const acme = ownerCaller(vendor, { name: 'e2e', source: 'test' });
    vendorToken = await createToken(rt, acme, { type: 'vendor', name: 'ci', scopes: 'pull,push,admin:*:*' });
    // The first user, made through the admin API with a vendor token, as `portcullis user create` does.
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${vendorToken.token.id}.${vendorToken.secret}` },
      payload: { email: OWNER.email, role: 'owner', password: OWNER.password },
    });
    expect(created.statusCode, created.body).toBe(201);

    work = mkdtempSync(join(tmpdir(), 'portcullis-dashboard-'));
    await buildImageLayout(join(work, 'layout'), { ref: '1.0', content: 'release 1.0' });
    const pushed = await copyToRegistry(join(work, 'layout'), '1.0', `${host}/acme/app:1.0`, `${vendorToken.token.id}:${vendorToken.secret}`);
    expect(pushed.code, pushed.stderr).toBe(0);

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    owner = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: base });
    await owner.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    page = await owner.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await inst?.cleanup();
    await smtp?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('refuses a wrong password, then logs in', async () => {
    await page.goto('/');
    await expect.poll(() => page.url()).toContain('/login');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText(/email or password is wrong/i).waitFor();
    await shot(page, 'login');
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tokens' }).waitFor();
    const cookies = await owner.cookies();
    const session = cookies.find((c) => c.name === 'portcullis_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Lax');
  });

  it('creates a customer', async () => {
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Customers' }).waitFor();
    await page.getByText('No customers yet. Add one with New customer.').waitFor();
    await page.getByRole('button', { name: 'New customer' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('globex');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('cell', { name: 'globex' }).first().waitFor();
    await shot(page, 'customers');
  });

  it('creates a license for 1.* after a preview of what it opens', async () => {
    await page.getByRole('link', { name: 'Licenses' }).click();
    await page.getByRole('heading', { level: 1, name: 'Licenses' }).waitFor();
    await page.getByRole('button', { name: 'New license' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Customer').selectOption({ label: 'globex' });
    await dialog.getByLabel('Repositories').fill('acme/app');
    await dialog.getByLabel('Tags').fill('bad tag!');
    await dialog.getByText(/Preview unavailable: .*bad tag/).waitFor();
    await dialog.getByLabel('Tags').fill('1.*');
    await dialog.getByText('acme/app').first().waitFor();
    await dialog.getByText('1.0').first().waitFor();
    await shot(page, 'license-preview');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('cell', { name: 'acme/app' }).first().waitFor();
    await shot(page, 'licenses');
  });

  it('creates a customer token from the customer page and shows its secret once, with snippets', async () => {
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('link', { name: 'globex' }).click();
    await page.getByRole('heading', { level: 1, name: /globex/ }).waitFor();
    await page.getByRole('cell', { name: 'acme/app' }).first().waitFor();
    await shot(page, 'customer-detail');
    await page.getByRole('button', { name: 'New token' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('prod pulls');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const secret = page.getByTestId('token-secret');
    await secret.waitFor();
    shownToken = (await secret.textContent())?.trim() ?? '';
    expect(shownToken).toMatch(/^ctok_[0-9a-z]{16}\.[A-Za-z0-9]{32}$/);
    const username = shownToken.split('.')[0]!;
    const text = await page.locator('body').innerText();
    expect(text).toContain(`docker login ${host}`);
    expect(text).toContain(`kubectl create secret docker-registry`);
    expect(text).toContain('--password-stdin');
    expect(text).toContain(username);
    await page.getByRole('button', { name: 'Copy' }).first().click();
    // The page's own clipboard (no DOM types in this project's tsconfig).
    const clipboard = () => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText();
    expect(await page.evaluate(clipboard)).toBe(shownToken);
    await shot(page, 'token-created');

    await page.reload();
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await page.content()).not.toContain(shownToken.split('.')[1]!);
    await page.goto('/tokens');
    await page.getByRole('cell', { name: username }).waitFor();
    expect(await page.content()).not.toContain(shownToken.split('.')[1]!);
  });

  it('the shown token pulls 1.0 with skopeo, and the pull appears under usage', async () => {
    const r = await pull(shownToken);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
    await expect
      .poll(async () => {
        await page.reload();
        await page.getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
        return page.locator('table').filter({ hasText: 'skopeo' }).count();
      }, { timeout: 15_000, interval: 1_000 })
      .toBeGreaterThan(0);
    await page.locator('canvas, svg').first().waitFor();
    const lastPulls = page.locator('table').filter({ hasText: 'skopeo' });
    await lastPulls.getByText('127.0.0.1').first().waitFor();
    await lastPulls.getByText('globex').first().waitFor();
    const topTags = page.getByRole('heading', { name: 'Top tags' }).locator('xpath=following-sibling::*[1]');
    expect(await topTags.innerText()).toMatch(/acme\/app[\s\S]*1\.0/);
    expect(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toContain('format=csv');
    const csv = await page.evaluate(async () => (await fetch('/api/v1/usage/events?format=csv&since=1d')).text());
    expect(csv).toContain('acme/app');
    await shot(page, 'usage');
  });

  it('creates a vendor token with chosen scopes on the Tokens page, filters, disables and enables it', async () => {
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tokens' }).waitFor();
    await page.getByRole('button', { name: 'New token' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Type').selectOption('vendor');
    await dialog.getByLabel('Name').fill('release pipeline');
    await dialog.getByLabel('Expires after').fill('30d');
    await dialog.getByLabel('pull').uncheck();
    await dialog.getByLabel('Admin scopes').fill('admin:usage:read');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const secret = (await page.getByTestId('token-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^vtok_[0-9a-z]{16}\.[A-Za-z0-9]{32}$/);
    await page.getByRole('button', { name: 'Done' }).click();
    const username = secret.split('.')[0]!;
    const made = await app.inject({ url: `/api/v1/tokens/${username}`, headers: { authorization: `Bearer ${vendorToken.token.id}.${vendorToken.secret}` } });
    expect(made.json()).toMatchObject({ type: 'vendor', name: 'release pipeline', scopes: ['push', 'admin:usage:read'] });
    expect(made.json().expires_at).not.toBeNull();

    await page.getByLabel('Kind').selectOption('customer');
    await page.getByRole('cell', { name: shownToken.split('.')[0]! }).waitFor();
    await expect.poll(() => page.getByRole('cell', { name: username }).count()).toBe(0);
    await page.getByLabel('Kind').selectOption('');

    await page.getByRole('link', { name: username }).click();
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    const status = async () => (await app.inject({ url: `/api/v1/tokens/${username}`, headers: { authorization: `Bearer ${vendorToken.token.id}.${vendorToken.secret}` } })).json().status;
    expect(await status()).toBe('active');
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('button', { name: 'Enable' }).waitFor();
    expect(await status()).toBe('disabled');
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    expect(await status()).toBe('active');
  });

  it('revokes the token behind a confirmation, and skopeo is refused at once', async () => {
    const username = shownToken.split('.')[0]!;
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByRole('link', { name: username }).click();
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('revoked').first().waitFor();
    await shot(page, 'token-detail');
    const r = await pull(shownToken);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unauthorized|authentication required|denied/i);
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.locator('tr.revoked', { hasText: username }).waitFor();
    await shot(page, 'tokens');
  });

  it('invites a viewer by e-mail; the viewer sets a password, sees no create buttons, and the API refuses changes', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByRole('button', { name: 'Invite user' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Email').fill(VIEWER.email);
    await dialog.getByLabel('Role').selectOption('viewer');
    await dialog.getByRole('button', { name: 'Invite', exact: true }).click();
    await page.getByText(`Invitation e-mailed to ${VIEWER.email}`).waitFor();
    await shot(page, 'users');

    const mail = await smtp.waitFor(VIEWER.email);
    const link = /https?:\/\/\S+\/accept#token=[A-Za-z0-9_-]+/.exec(mail.text)?.[0];
    expect(link, mail.text).toBeDefined();

    const viewerContext = await browser.newContext({ viewport: { width: 375, height: 740 }, baseURL: base });
    const viewer = await viewerContext.newPage();
    await viewer.goto(link!);
    await viewer.getByText(VIEWER.email).waitFor();
    await viewer.getByLabel('Password', { exact: true }).fill(VIEWER.password);
    await viewer.getByLabel(/Confirm/).fill(VIEWER.password);
    await viewer.getByRole('button', { name: 'Set password' }).click();
    await expect.poll(() => viewer.url()).toContain('/login');
    await viewer.getByLabel('Email').fill(VIEWER.email);
    await viewer.getByLabel('Password').fill(VIEWER.password);
    await viewer.getByRole('button', { name: 'Log in' }).click();
    await viewer.getByRole('heading', { level: 1, name: 'Tokens' }).waitFor();
    await viewer.getByText(shownToken.split('.')[0]!).first().waitFor();
    await shot(viewer, 'tokens-viewer-phone');
    expect(await viewer.getByRole('button', { name: 'New token' }).count()).toBe(0);
    for (const path of ['/customers', '/licenses', '/users']) {
      await viewer.goto(path);
      await viewer.getByRole('heading', { level: 1 }).waitFor();
      expect(await viewer.getByRole('button', { name: /^(New|Invite)/ }).count(), path).toBe(0);
    }
    // The API refuses the viewer's changes even with a valid CSRF token.
    const refused = await viewer.evaluate(async () => {
      const session = (await (await fetch('/api/v1/session')).json()) as { csrf_token: string };
      const res = await fetch('/api/v1/customers', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token }, body: JSON.stringify({ name: 'initech' }) });
      return res.status;
    });
    expect(refused).toBe(403);
    await viewerContext.close();
  });

  it('shows the audit log, with the users who acted', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit' }).waitFor();
    await page.getByText('token.revoke').first().waitFor();
    expect(await page.locator('body').innerText()).toContain(OWNER.email);
    await shot(page, 'audit');
  });

  it('asks for the vendor when the address and password open accounts in two vendors', async () => {
    const globex = await createVendor(inst.runtime, inst.caller, { name: 'globex', namespaces: 'globex/**' });
    await createUser(inst.runtime, ownerCaller(globex, { name: 'e2e', source: 'test' }), { email: OWNER.email, role: 'owner', password: OWNER.password });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: base });
    const p = await context.newPage();
    await p.goto('/');
    await expect.poll(() => p.url()).toContain('/login');
    expect(await p.getByLabel('Vendor').count()).toBe(0);
    await p.getByLabel('Email').fill(OWNER.email);
    await p.getByLabel('Password').fill(OWNER.password);
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.getByText(/open accounts in several vendors/).waitFor();
    await shot(p, 'login-vendor');
    await p.getByLabel('Vendor').fill('globex');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.getByRole('heading', { level: 1, name: 'Tokens' }).waitFor();
    expect(await p.locator('.vendor').innerText()).toBe('globex');
    await context.close();
  });
});
