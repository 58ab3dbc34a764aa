import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { publicScope } from '../route-access.js';

/**
 * Where `npm run build` puts the dashboard: dist/web at the package root. This
 * file sits three levels below the root both as src/http/routes/web.ts (vitest)
 * and as dist/http/routes/web.js, like src/version.ts finds package.json.
 */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/** The bundle has no inline script or style, so the policy can forbid both. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * The dashboard's own pages (web/src/main.tsx routes them in the browser), each
 * answered with index.html so a reload or a pasted link works. Named one by one
 * rather than as a catch-all: any other path keeps the 404 of its surface, and
 * the router still refuses an over-long segment of an /api path (414) instead of
 * falling through to a wildcard.
 */
export const DASHBOARD_PAGES = [
  '/',
  '/login',
  '/accept',
  '/tokens',
  '/tokens/:username',
  '/customers',
  '/customers/:id',
  '/licenses',
  '/licenses/:id',
  '/usage',
  '/users',
  '/audit',
  '/account/password',
] as const;

export const NOT_BUILT_MESSAGE = 'dashboard not built: run npm run build';

export interface WebOptions {
  /** The built dashboard (index.html and assets/); DEFAULT_WEB_DIR unless a test points elsewhere. */
  dir?: string;
}

/**
 * The dashboard: a single-page app that talks only to /api/v1. Its hashed
 * assets never change under one name, so they are cached for good; index.html
 * is revalidated on every load so a new build is picked up at once.
 */
export async function registerWebRoutes(app: FastifyInstance, options: WebOptions = {}): Promise<void> {
  const dir = options.dir ?? DEFAULT_WEB_DIR;
  const indexFile = join(dir, 'index.html');
  await app.register(async (scope) => {
    publicScope(scope);
    await registerDashboard(scope, dir, indexFile);
  });
}

async function registerDashboard(app: FastifyInstance, dir: string, indexFile: string): Promise<void> {
  await app.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    // A folder is no asset: 404 like any missing file, rather than send's 403.
    allowedPath: (pathname) => !pathname.endsWith('/'),
    maxAge: '365d',
    immutable: true,
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    },
  });

  // Read on each load (it is a few hundred bytes): a rebuild needs no restart, and a missing build is told plainly.
  const sendIndex = async (reply: FastifyReply) => {
    reply.headers(SECURITY_HEADERS).header('cache-control', 'no-cache');
    let html: Buffer;
    try {
      html = await readFile(indexFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT_MESSAGE);
    }
    return reply.type('text/html; charset=utf-8').send(html);
  };

  for (const url of DASHBOARD_PAGES) app.get(url, { schema: { hide: true } }, (_request, reply) => sendIndex(reply));
}
