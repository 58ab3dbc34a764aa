/**
 * One `serve` per data dir: a second one is refused while the first serves,
 * a kill -9 leaves no lock behind, and the next start removes the
 * half-written uploads the killed process left (planted ones, and real
 * uploads cut off mid-body). Start-up also warns about a data dir, keys/ and
 * database that group or others can reach. All against the built CLI.
 */
import { createHash } from 'node:crypto';
import { request, type ClientRequest } from 'node:http';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, lines, makeDataDir, parseBanner, removeDataDir, runCliAsync, startServe, type Banner, type ServeProcess } from '../helpers/cli.js';
import { basic } from '../helpers/oci-http.js';

const LISTENING = /"msg":"portcullis listening"/;
const MiB = 1024 * 1024;

/** Polls until `check` returns a value or the deadline passes; no fixed sleeps. */
async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function logRecords(serve: ServeProcess): Record<string, unknown>[] {
  return lines(serve.stdout())
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** What is under registry/tmp and registry/uploads, with sizes, so a test can see what a crash left. */
function leftovers(dataDir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push({ path: p, size: statSync(p).size });
    }
  };
  walk(join(dataDir, 'registry', 'tmp'));
  walk(join(dataDir, 'registry', 'uploads'));
  return out;
}

describe('one serve per data dir', () => {
  let dataDir: string;
  let banner: Banner;
  const running: ServeProcess[] = [];

  async function start(): Promise<{ serve: ServeProcess; base: string }> {
    const serve = startServe(dataDir, '--port', '0');
    running.push(serve);
    const { port } = JSON.parse(await serve.waitForLine(LISTENING)) as { port: number };
    return { serve, base: `http://127.0.0.1:${port}` };
  }

  beforeAll(() => {
    dataDir = makeDataDir();
  });
  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL').catch(() => undefined);
    removeDataDir(dataDir);
  });

  let first: { serve: ServeProcess; base: string };

  it('refuses a second serve on the same data dir with exit 2, while the first keeps serving', async () => {
    first = await start();
    banner = parseBanner(first.serve.stdout())!;
    expect(banner).toBeDefined();

    const second = await runCliAsync(dataDir, 'serve', '--port', '0');
    expectCliError(second, 2, `portcullis: another portcullis serve (pid ${first.serve.child.pid}) holds the data dir ${dataDir}; stop it first`);

    const health = await fetch(`${first.base}/healthz`);
    expect(health.status).toBe(200);
    expect(first.serve.child.exitCode).toBeNull();
  });

  it('after a kill -9 of the holder, the next serve starts and removes the leftovers it finds', async () => {
    expect(first).toBeDefined();
    expect(await first.serve.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    // What a crash mid-upload leaves: a temp file on its way into blobs/, and an upload session.
    mkdirSync(join(dataDir, 'registry', 'tmp'), { recursive: true });
    writeFileSync(join(dataDir, 'registry', 'tmp', '3b8f0c1e-8d43-4c5e-9a43-7b0f5c1d2e3f'), Buffer.alloc(3000));
    const session = join(dataDir, 'registry', 'uploads', '0f5e3a2b-1c4d-4e6f-8a9b-0c1d2e3f4a5b');
    mkdirSync(session, { recursive: true });
    writeFileSync(join(session, 'owner'), 'ops/app');
    writeFileSync(join(session, 'data'), Buffer.alloc(500));
    // And a gc killed between moving a blob aside and deciding on it: the blob must come back, not go.
    const aside = Buffer.from('a blob a killed gc had moved aside');
    const hex = createHash('sha256').update(aside).digest('hex');
    mkdirSync(join(dataDir, 'registry', 'gc-trash'), { recursive: true });
    writeFileSync(join(dataDir, 'registry', 'gc-trash', `${hex}.6a1e2f3c-4b5d-4e6f-8a7b-9c0d1e2f3a4b`), aside);

    const { serve, base } = await start();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(leftovers(dataDir)).toEqual([]);
    expect(logRecords(serve).find((r) => r.msg === 'removed half-written uploads an earlier serve left behind')).toMatchObject({ files: 2, bytes: 3500 });
    expect(readFileSync(join(dataDir, 'registry', 'blobs', 'sha256', hex.slice(0, 2), hex))).toEqual(aside);
    expect(readdirSync(join(dataDir, 'registry', 'gc-trash'))).toEqual([]);
    expect(logRecords(serve).find((r) => r.msg === 'put back blobs a killed gc had moved aside')).toMatchObject({ blobs: 1 });
    expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('uploads cut off by a kill -9 leave nothing after the next start', async () => {
    const { serve, base } = await start();
    const authorization = basic(banner.username, banner.secret);
    const pending: ClientRequest[] = [];
    /** Sends the head and the first MiB of an 8 MiB body, then stalls: a push in the middle of a layer. */
    const stalled = (method: string, path: string) => {
      const req = request(`${base}${path}`, { method, headers: { authorization, 'content-type': 'application/octet-stream', 'content-length': String(8 * MiB) } });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(MiB, 7));
      pending.push(req);
    };

    // A chunked upload: POST opens the session, the PATCH streams into uploads/<id>/data.
    const opened = await fetch(`${base}/v2/ops/app/blobs/uploads/`, { method: 'POST', headers: { authorization } });
    expect(opened.status).toBe(202);
    const location = opened.headers.get('location')!;
    stalled('PATCH', location);
    // A monolithic upload streams into tmp/ until its digest is checked.
    stalled('POST', `/v2/ops/app/blobs/uploads/?digest=sha256:${'0'.repeat(64)}`);

    const during = await eventually('both bodies on disk', () => {
      const found = leftovers(dataDir).filter((f) => f.size >= MiB);
      return found.length === 2 ? found : undefined;
    });
    expect(during.some((f) => f.path.includes(`${join('registry', 'tmp')}/`))).toBe(true);
    expect(during.some((f) => f.path.endsWith('data'))).toBe(true);

    expect(await serve.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    for (const req of pending) req.destroy();
    expect(leftovers(dataDir).length).toBeGreaterThanOrEqual(2);

    const next = await start();
    expect(leftovers(dataDir)).toEqual([]);
    const removed = logRecords(next.serve).find((r) => r.msg === 'removed half-written uploads an earlier serve left behind');
    expect(removed).toMatchObject({ files: 2 });
    expect(removed!.bytes as number).toBeGreaterThanOrEqual(2 * MiB);
    // The session is gone for the client too: it starts its upload again.
    const status = await fetch(`${next.base}${location}`, { headers: { authorization } });
    expect(status.status).toBe(404);
    expect(((await status.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('BLOB_UPLOAD_UNKNOWN');
    expect(await next.serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('warns at start, once per path, about a data dir, keys/ and database that group or others can reach', async () => {
    const db = join(dataDir, 'portcullis.db');
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'keys'), 0o750);
    // SQLite gives a -wal and -shm it creates the database's mode; ones still there from before are set alike.
    for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) chmodSync(f, 0o644);
    try {
      const { serve } = await start();
      const warnings = logRecords(serve).filter((r) => r.level === 40 && typeof r.file === 'string');
      expect(warnings.map((w) => [w.file, w.mode, w.msg])).toEqual(
        expect.arrayContaining([
          [dataDir, '0755', 'data dir is open to group or others; chmod 700 it'],
          [join(dataDir, 'keys'), '0750', 'keys directory is open to group or others; chmod 700 it'],
          [db, '0644', 'database file is readable or writable by group or others; chmod 600 it'],
          [`${db}-wal`, '0644', 'database file is readable or writable by group or others; chmod 600 it'],
          [`${db}-shm`, '0644', 'database file is readable or writable by group or others; chmod 600 it'],
        ]),
      );
      for (const path of [dataDir, join(dataDir, 'keys'), db, `${db}-wal`, `${db}-shm`]) expect(warnings.filter((w) => w.file === path), path).toHaveLength(1);
      // The secret files kept their 0600: no warning for them.
      expect(warnings.filter((w) => w.file === join(dataDir, 'pepper'))).toEqual([]);
      expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      chmodSync(dataDir, 0o700);
      chmodSync(join(dataDir, 'keys'), 0o700);
      for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    }
  });
});
