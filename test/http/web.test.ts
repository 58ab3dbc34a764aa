/**
 * The dashboard's serving, in process: index.html for the app's routes with
 * the security headers and no-cache, hashed assets cached for good, the other
 * surfaces untouched, and a plain 503 when nothing was built. The pages are
 * served from a small fixture build, so this does not depend on `npm run build`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { DASHBOARD_CSP, DASHBOARD_PAGES, DEFAULT_WEB_DIR, NOT_BUILT_MESSAGE } from '../../src/http/routes/web.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="app"></div></body></html>';
const SCRIPT = 'console.log("dashboard");\n';
const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

function expectSecurityHeaders(headers: Record<string, unknown>) {
  expect(headers['content-security-policy']).toBe(DASHBOARD_CSP);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-frame-options']).toBe('DENY');
}

describe('dashboard serving', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let unbuilt: FastifyInstance;
  const built = mkdtempSync(join(tmpdir(), 'portcullis-web-'));
  const empty = mkdtempSync(join(tmpdir(), 'portcullis-web-empty-'));

  beforeAll(async () => {
    mkdirSync(join(built, 'assets'));
    writeFileSync(join(built, 'index.html'), INDEX);
    writeFileSync(join(built, 'assets', 'index-abc123.js'), SCRIPT);
    inst = await startInstance();
    app = await buildApp(inst.runtime, { webDir: built });
    unbuilt = await buildApp(inst.runtime, { webDir: empty });
  });
  afterAll(async () => {
    await app?.close();
    await unbuilt?.close();
    await inst?.cleanup();
    rmSync(built, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  });

  it('serves the dist/web folder at the package root by default', () => {
    expect(DEFAULT_WEB_DIR).toBe(fileURLToPath(new URL('../../dist/web/', import.meta.url)));
  });

  it.each(['/', '/tokens', '/tokens/ctok_7f3k2q9x1m4p8z6c', '/customers/cus_1?tab=licenses', '/login', '/accept'])('answers %s with index.html, its security headers and no-cache', async (url) => {
    const res = await app.inject({ url, headers: html });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expectSecurityHeaders(res.headers);
    expect(res.body).toBe(INDEX);
  });

  it('answers every page the app routes in the browser, so a reload or a pasted link works', async () => {
    const main = readFileSync(new URL('../../web/src/main.tsx', import.meta.url), 'utf8');
    const clientRoutes = [...main.matchAll(/<Route path="([^"]+)"/g)].map((m) => m[1]!);
    const publicPages = [...main.matchAll(/path === '(\/[a-z/]*)'/g)].map((m) => m[1]!);
    expect(clientRoutes.length).toBeGreaterThan(5);
    expect([...new Set([...clientRoutes, ...publicPages])].filter((r) => !(DASHBOARD_PAGES as readonly string[]).includes(r))).toEqual([]);
    for (const page of DASHBOARD_PAGES) {
      const res = await app.inject({ url: page.replace(/:\w+/, 'x1'), headers: html });
      expect(res.statusCode, page).toBe(200);
    }
  });

  it('answers / even to a client that does not ask for HTML', async () => {
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INDEX);
  });

  it('serves an asset with its content and a long immutable cache', async () => {
    const res = await app.inject({ url: '/assets/index-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(SCRIPT);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expectSecurityHeaders(res.headers);
  });

  it.each(['/assets/x.js', '/assets/', '/assets/..%2f..%2fpackage.json', '/assets/..%2findex.html'])('answers an unknown asset (%s) 404, never the page', async (url) => {
    const res = await app.inject({ url, headers: html });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('<div id="app">');
  });

  it('leaves /v2 and /api to their own answers', async () => {
    for (const url of ['/v2/', '/v2', '/v2/acme/app/tags/list']) {
      const v2 = await app.inject({ url, headers: html });
      expect(v2.statusCode, url).toBe(401);
      expect(v2.headers['www-authenticate']).toMatch(/^Bearer realm=/);
      expect(v2.headers['content-security-policy']).toBeUndefined();
    }
    const api = await app.inject({ url: '/api/v1/tokens', headers: html });
    expect(api.statusCode).toBe(401);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    const bearer = `Bearer ${inst.bootstrap.token.id}.${inst.bootstrap.secret}`;
    const listed = await app.inject({ url: '/api/v1/customers', headers: { ...html, authorization: bearer } });
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual({ items: [], next_cursor: null });
    const health = await app.inject({ url: '/healthz', headers: html });
    expect(health.json()).toEqual({ status: 'ok' });
  });

  it.each(['/api/v1/nope', '/api', '/token/x', '/metrics/x', '/healthz/x', '/.well-known/nope'])('keeps the 404 of another surface for an unmatched %s, even asked for HTML', async (url) => {
    const res = await app.inject({ url, headers: html });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('<div id="app">');
  });

  it('answers an unknown path 404 problem+json to a client that does not ask for HTML', async () => {
    const res = await app.inject({ url: '/nope', headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'route_not_found', detail: 'no route for GET /nope' });
  });

  it('does not serve the page to other methods', async () => {
    const res = await app.inject({ method: 'POST', url: '/tokens', headers: html, payload: {} });
    expect(res.statusCode).toBe(404);
  });

  it('answers 503 with a plain message when the dashboard was not built', async () => {
    for (const url of ['/', '/tokens']) {
      const res = await unbuilt.inject({ url, headers: html });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.body).toBe(NOT_BUILT_MESSAGE);
    }
    expect((await unbuilt.inject({ url: '/assets/index-abc123.js' })).statusCode).toBe(404);
  });

  it('is not served in local-only mode (auth.enabled = false)', async () => {
    const local = await startInstance(undefined, { PORTCULLIS_AUTH_ENABLED: 'false' });
    const localApp = await buildApp(local.runtime, { webDir: built });
    try {
      for (const url of ['/', '/tokens', '/assets/index-abc123.js']) {
        const res = await localApp.inject({ url, headers: html });
        expect(res.statusCode, url).toBe(404);
      }
    } finally {
      await localApp.close();
      await local.cleanup();
    }
  });
});
