import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  lines,
  makeDataDir,
  parseBanner,
  removeDataDir,
  runCli,
  runCliJson,
  startServe,
  type Banner,
  type CliResult,
  type ServeProcess,
} from '../helpers/cli.js';

const USERNAME_RE = /^vtok_[0-9a-z]{16}$/;
const SECRET_RE = /^[0-9A-Za-z]{32}$/;

interface TokenJson {
  username: string;
  type: string;
  name: string;
  scopes: string[];
  status: string;
  state: string;
  created_by: string;
  [key: string]: unknown;
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('portcullis init on an empty data dir', () => {
  let dataDir: string;
  let first: CliResult;
  let banner: Banner | undefined;

  beforeAll(() => {
    dataDir = makeDataDir();
    first = runCli(dataDir, 'init');
    banner = parseBanner(first.stdout);
  });
  afterAll(() => removeDataDir(dataDir));

  it('succeeds quietly on stderr and prints the bootstrap banner', () => {
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('first start');
    expect(banner).toBeDefined();
  });

  it('prints the bootstrap vendor token exactly once, well formed', () => {
    const b = banner!;
    expect(b.username).toMatch(USERNAME_RE);
    expect(b.secret).toMatch(SECRET_RE);
    expect(b.token).toBe(`${b.username}.${b.secret}`);
    expect(b.scopes).toBe('pull,push,admin:*:*');
    expect(lines(first.stdout).filter((l) => /^\s*secret:/.test(l))).toHaveLength(1);
    expect(lines(first.stdout).filter((l) => /^\s*username:/.test(l))).toHaveLength(1);
  });

  it('a second init creates nothing and prints no secret', () => {
    const again = runCli(dataDir, 'init');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    expect(again.stdout).toMatch(/already initiali[sz]ed/);
    expect(again.stdout).not.toMatch(/secret:/);
    expect(again.stdout).not.toContain(banner!.secret);
    expect(parseBanner(again.stdout)).toBeUndefined();
  });

  it('writes the pepper and the signing keys with mode 0600', () => {
    expect(mode(join(dataDir, 'pepper'))).toBe(0o600);
    const keys = readdirSync(join(dataDir, 'keys')).filter((f) => f.endsWith('.pem'));
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) expect(mode(join(dataDir, 'keys', key)), key).toBe(0o600);
    expect(mode(join(dataDir, 'keys'))).toBe(0o700);
  });

  it('token list --json shows the bootstrap token, without its secret', () => {
    const r = runCli(dataDir, 'token', 'list', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(banner!.secret);
    const tokens = JSON.parse(r.stdout) as TokenJson[];
    expect(tokens).toHaveLength(1);
    const [t] = tokens;
    expect(t).toMatchObject({
      username: banner!.username,
      type: 'vendor',
      name: 'bootstrap',
      scopes: ['pull', 'push', 'admin:*:*'],
      status: 'active',
      state: 'active',
      created_by: 'system',
      expires_at: null,
    });
    expect(Object.keys(t!)).not.toContain('secret');
    expect(Object.keys(t!)).not.toContain('full_token');
  });

  it('audit records the operator vendor and the bootstrap token as made by the system', () => {
    const events = runCliJson<{ action: string; actor: string; source: string; object_id: string }[]>(dataDir, 'audit');
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['vendor.create', 'token.create']));
    const tokenCreate = events.find((e) => e.action === 'token.create');
    expect(tokenCreate).toMatchObject({ actor: 'system', source: 'system', object_id: banner!.username });
  });
});

describe('portcullis serve on an empty data dir', () => {
  let dataDir: string;
  const running: ServeProcess[] = [];

  beforeAll(() => {
    dataDir = makeDataDir();
  });
  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL').catch(() => undefined);
    removeDataDir(dataDir);
  });

  const LISTENING = /"msg":"portcullis listening"/;

  /** The stdout lines after the banner: every one is a JSON log record. */
  function logRecords(stdout: string): Record<string, unknown>[] {
    return lines(stdout)
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  let firstBanner: Banner | undefined;

  it('first start prints the bootstrap secret once, listens, and stops cleanly on SIGTERM', async () => {
    const serve = startServe(dataDir, '--port', '0');
    running.push(serve);
    const listening = JSON.parse(await serve.waitForLine(LISTENING)) as { port: number; host: string; data_dir: string };
    expect(listening.host).toBe('127.0.0.1');
    expect(listening.port).toBeGreaterThan(0);
    expect(listening.data_dir).toBe(dataDir);

    const health = await fetch(`http://127.0.0.1:${listening.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const exit = await serve.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });

    const out = serve.stdout();
    firstBanner = parseBanner(out);
    expect(firstBanner).toBeDefined();
    expect(firstBanner!.username).toMatch(USERNAME_RE);
    expect(firstBanner!.secret).toMatch(SECRET_RE);
    expect(firstBanner!.scopes).toBe('pull,push,admin:*:*');
    // The login hint names the port actually bound, not the 0 that was asked for.
    expect(out).toContain(`docker login 127.0.0.1:${listening.port} -u ${firstBanner!.username}`);
    expect(lines(out).filter((l) => /^\s*secret:/.test(l))).toHaveLength(1);

    // Everything apart from the banner is a JSON log line, and no log line carries the secret.
    const bannerEnd = out.lastIndexOf('docker login');
    const logs = out.slice(out.indexOf('\n', bannerEnd) + 1);
    for (const line of lines(logs)) expect(() => JSON.parse(line), line).not.toThrow();
    expect(logs).not.toContain(firstBanner!.secret);
    expect(serve.stderr()).not.toContain(firstBanner!.secret);
    expect(serve.stderr()).not.toMatch(/^portcullis: /m);
    expect(logRecords(out).some((r) => r.msg === 'stopping' && r.signal === 'SIGTERM')).toBe(true);
  });

  it('a second start on the same data dir prints no secret and stops cleanly', async () => {
    expect(firstBanner).toBeDefined();
    const serve = startServe(dataDir, '--port', '0');
    running.push(serve);
    await serve.waitForLine(LISTENING);
    const exit = await serve.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    const out = serve.stdout();
    expect(out).not.toMatch(/secret:/);
    expect(out).not.toContain(firstBanner!.secret);
    expect(parseBanner(out)).toBeUndefined();
    // Only log records this time.
    for (const line of lines(out)) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('the data dir then holds the one bootstrap token from the first start', () => {
    const tokens = runCliJson<TokenJson[]>(dataDir, 'token', 'list');
    expect(tokens.map((t) => t.username)).toEqual([firstBanner!.username]);
    expect(mode(join(dataDir, 'pepper'))).toBe(0o600);
  });

  it('init after serve reports an initialised instance', () => {
    const r = runCli(dataDir, 'init');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/secret:/);
    expect(r.stdout).toContain('already initialised');
  });
});
