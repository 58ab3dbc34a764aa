/**
 * Login CSRF with a real browser (Debian's Chromium through playwright-core):
 * a page on another port of the same host is "same-site" to the browser, so
 * the SameSite=Lax session cookie would ride along; its forms must still not
 * log the victim into the attacker's account nor write with the victim's
 * session.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { ownerCaller } from '../../src/service/context.js';
import { createUser } from '../../src/service/users.js';
import { createVendor } from '../../src/service/vendors.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const PASSWORD = 'attacker chosen password';

describe('login CSRF in a real browser', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let base: string;
  let evil: Server;
  let evilBase: string;
  let browser: Browser;

  const pages: Record<string, (target: string) => string> = {
    // What an HTML form can send: urlencoded, and text/plain shaped like JSON.
    '/form': (t) =>
      `<form id="f" method="POST" action="${t}/api/v1/session"><input name="email" value="attacker@acme.test"><input name="password" value="${PASSWORD}"></form><script>document.getElementById('f').submit()</script>`,
    '/text': (t) =>
      `<form id="f" method="POST" enctype="text/plain" action="${t}/api/v1/session"><input name='{"email":"attacker@acme.test","password":"${PASSWORD}","x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`,
    // Guesses a page could make its visitors send, each a failed login if it were judged.
    '/images': (t) => Array.from({ length: 12 }, (_, i) => `<img src="${t}/api/v1/invitations/${String(i).padStart(43, 'A')}">`).join(''),
    '/token-form': (t) =>
      `<form id="f" method="POST" action="${t}/token"><input name="grant_type" value="password"><input name="client_id" value="x"><input name="username" value="vtok_aaaaaaaaaaaaaaaa"><input name="password" value="guess"></form><script>document.getElementById('f').submit()</script>`,
    '/write': (t) =>
      `<form id="f" method="POST" enctype="text/plain" action="${t}/api/v1/customers"><input name='{"name":"planted","x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`,
  };

  beforeAll(async () => {
    inst = await startInstance('real-time', { PORTCULLIS_AUTH_MAX_FAILED_LOGINS: '5' });
    const acme = await createVendor(inst.runtime, inst.caller, { name: 'acme' });
    const owner = ownerCaller(acme, inst.caller.actor);
    await createUser(inst.runtime, owner, { email: 'attacker@acme.test', role: 'viewer', password: PASSWORD });
    await createUser(inst.runtime, owner, { email: 'victim@acme.test', role: 'owner', password: 'the victim password' });
    app = await buildApp(inst.runtime);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    evil = createServer((req, res) => {
      const page = pages[req.url ?? ''];
      res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page ? `<!doctype html><title>win a prize</title>${page(base)}` : '');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilBase = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => evil?.close(resolve));
    await app?.close();
    await inst?.cleanup();
  });

  /** How many requests the server answered with this route and status, from its own metrics. */
  async function answered(method: string, route: string, status: number): Promise<number> {
    const text = await app.portcullisMetrics.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`http_request_duration_seconds_count{method="${method}",route="${route}",status_code="${status}"}`));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  }

  async function landOn(path: string) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const answer = page.waitForResponse((r) => r.url().startsWith(base) && r.request().method() === 'POST');
    await page.goto(`${evilBase}${path}`);
    const res = await answer;
    const cookies = await context.cookies(base);
    return { context, page, status: res.status(), body: await res.text(), cookies, sent: res.request().headers() };
  }

  it('refuses a cross-site form login of either kind; the browser holds no session afterwards', async () => {
    for (const path of ['/form', '/text']) {
      const { context, status, body, cookies, sent } = await landOn(path);
      // The browser said where the request came from; that is what is judged.
      expect(sent.origin).toBe(evilBase);
      expect(status, `${path}: ${body}`).toBe(403);
      expect(JSON.parse(body).code).toBe('csrf_failed');
      expect(cookies.filter((c) => c.name.includes('portcullis_session'))).toEqual([]);
      await context.close();
    }
  });

  it('counts nothing another site\'s page makes the browser send: the visitor\'s address is not locked out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The browser may hide the answers to images from the page (opaque-response blocking); the server's own count tells.
    let done = 0;
    const settled = (r: { url(): string }) => {
      if (r.url().startsWith(base)) done++;
    };
    page.on('requestfinished', settled);
    page.on('requestfailed', settled);
    await page.goto(`${evilBase}/images`);
    await expect.poll(() => done, { timeout: 20_000 }).toBe(12);
    const refusedImages = await answered('GET', '/api/v1/invitations/:token', 403);
    expect(refusedImages).toBe(12);
    const tokenAnswer = page.waitForResponse((r) => r.url() === `${base}/token`);
    await page.goto(`${evilBase}/token-form`);
    expect((await tokenAnswer).status()).toBe(403);
    await context.close();
    // Twelve guesses and a form later, the same address still gets a plain answer, not 429.
    const own = await fetch(`${base}/api/v1/invitations/${'B'.repeat(43)}`);
    expect(own.status).toBe(404);
  });

  it('refuses a cross-site form write even though the victim\'s cookie rides along', async () => {
    const context = await browser.newContext();
    // The victim logs in on the real origin, as the dashboard does (same-origin fetch with JSON).
    const login = await context.request.post(`${base}/api/v1/session`, { data: { email: 'victim@acme.test', password: 'the victim password' }, headers: { origin: base } });
    expect(login.status()).toBe(200);
    expect((await context.cookies(base)).map((c) => c.name)).toContain('portcullis_session');
    const page = await context.newPage();
    const answer = page.waitForResponse((r) => r.url().startsWith(base) && r.request().method() === 'POST');
    await page.goto(`${evilBase}/write`);
    const res = await answer;
    // The cookie was sent (same site, Lax, top-level POST): only the origin check stands in the way.
    expect(res.request().headers().cookie ?? (await res.request().allHeaders()).cookie).toMatch(/portcullis_session=/);
    expect(res.status()).toBe(403);
    expect((await inst.runtime.store.listCustomers((await inst.runtime.store.getVendorByName('acme'))!.id)).map((c) => c.name)).not.toContain('planted');
    await context.close();
  });
});
