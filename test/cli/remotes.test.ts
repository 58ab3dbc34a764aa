import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRemotes, writeRemotes } from '../../src/cli/remotes.js';
import { expectCliError, initDataDir, removeDataDir, runCliWithAsync, startServe, type Banner, type ServeProcess } from '../helpers/cli.js';

/**
 * The remotes file holds vendor tokens: written so that nothing another user
 * planted in the directory is followed, in a directory only its owner controls.
 */
describe('remotes file', () => {
  let root: string;
  const remotes = { prod: { url: 'https://portcullis.example.com', token: 'vtok_aaaaaaaaaaaaaaaa.SECRETSECRETSECRETSECRETSECRET12' } };
  const noWarn = () => {};

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'portcullis-remotes-file-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A private config dir with the remotes file in it, and a file "the attacker" owns elsewhere. */
  const setUp = (name: string) => {
    const dir = join(root, name, 'portcullis');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const attacker = join(root, name, 'attacker');
    mkdirSync(attacker);
    return { dir, file: join(dir, 'remotes.json'), existing: join(attacker, 'existing'), absent: join(attacker, 'absent') };
  };

  it('a symlink planted at the old predictable temp path (FILE.PID.tmp) is not followed', () => {
    const { file, existing } = setUp('old-path');
    writeFileSync(existing, 'untouched\n');
    symlinkSync(existing, `${file}.${process.pid}.tmp`);
    writeRemotes(remotes, file, { ownDirectory: true, warn: noWarn });
    expect(readFileSync(existing, 'utf8')).toBe('untouched\n');
    expect(readRemotes(file)).toEqual(remotes);
    expect(lstatSync(file).isFile()).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a symlink at a temp name someone guessed is neither followed nor reused, dangling or not', () => {
    const { dir, file, existing, absent } = setUp('guessed');
    writeFileSync(existing, 'untouched\n');
    symlinkSync(existing, join(dir, '.remotes.guess1.tmp'));
    symlinkSync(absent, join(dir, '.remotes.guess2.tmp'));
    const names = ['guess1', 'guess2', 'fresh'];
    writeRemotes(remotes, file, { ownDirectory: true, warn: noWarn, tempName: () => names.shift()! });
    expect(names).toEqual([]);
    expect(readFileSync(existing, 'utf8')).toBe('untouched\n');
    // A dangling link would have made the victim create the attacker's file.
    expect(existsSync(absent)).toBe(false);
    expect(readRemotes(file)).toEqual(remotes);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, '.remotes.fresh.tmp'))).toBe(false);
  });

  it('its own directory is made 0700 when looser; a symlinked one is refused', () => {
    const { dir, file } = setUp('loose');
    chmodSync(dir, 0o755);
    const warnings: string[] = [];
    writeRemotes(remotes, file, { ownDirectory: true, warn: (m) => warnings.push(m) });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(warnings).toEqual([`${dir} was mode 0755; made it 0700, as it holds tokens`]);

    const real = join(root, 'linked-real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(root, 'linked'));
    expect(() => writeRemotes(remotes, join(root, 'linked', 'remotes.json'), { ownDirectory: true, warn: noWarn })).toThrow(/is a symbolic link/);
    expect(existsSync(join(real, 'remotes.json'))).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('a directory that belongs to another user is refused (needs root to set up)', () => {
    const theirs = join(root, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    expect(() => writeRemotes(remotes, join(theirs, 'remotes.json'), { ownDirectory: true, warn: noWarn })).toThrow(/belongs to uid 65534, not to you \(uid 0\)/);
    expect(existsSync(join(theirs, 'remotes.json'))).toBe(false);
  });

  it('a PORTCULLIS_REMOTES directory is not changed, but refused when others can write to it', () => {
    const shared = join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(() => writeRemotes(remotes, join(shared, 'remotes.json'), { ownDirectory: false, warn: noWarn })).toThrow(/writable by group or others \(mode 0777\)/);
    expect(statSync(shared).mode & 0o777).toBe(0o777);
    chmodSync(shared, 0o755);
    writeRemotes(remotes, join(shared, 'remotes.json'), { ownDirectory: false, warn: noWarn });
    expect(statSync(shared).mode & 0o777).toBe(0o755);
    expect(readRemotes(join(shared, 'remotes.json'))).toEqual(remotes);
  });
});

/**
 * The CLI managing a running instance over its admin API: a real `serve` on
 * one data dir, and CLI calls that never see that data dir.
 */
describe('remote CLI', () => {
  let dataDir: string;
  let banner: Banner;
  let serve: ServeProcess;
  let url: string;
  let home: string;
  let env: Record<string, string>;

  /** The CLI with no data dir at all, its remotes file in a temp config home. */
  const remote = (...args: string[]) => runCliWithAsync(null, { env }, ...args);
  const local = (...args: string[]) => runCliWithAsync(dataDir, {}, ...args);

  beforeAll(async () => {
    ({ dataDir, banner } = initDataDir());
    serve = startServe(dataDir, '--port', '0');
    const listening = JSON.parse(await serve.waitForLine(/"msg":"portcullis listening"/)) as { port: number };
    url = `http://127.0.0.1:${listening.port}`;
    home = mkdtempSync(join(tmpdir(), 'portcullis-remotes-'));
    env = { XDG_CONFIG_HOME: home };
  });

  afterAll(async () => {
    if (serve) await serve.stop();
    removeDataDir(dataDir);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('remotes add / set-token / list keep the token in a 0600 file and never print its secret', async () => {
    expect((await remote('remotes', 'add', 'prod', `${url}/`)).status).toBe(0);
    const set = await runCliWithAsync(null, { env, input: `${banner.username}.${banner.secret}\n` }, 'remotes', 'set-token', 'prod', '-');
    expect(set.status, set.stderr).toBe(0);
    expect(set.stderr).toBe('');
    const file = join(home, 'portcullis', 'remotes.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'portcullis')).mode & 0o777).toBe(0o700);
    const list = await remote('remotes', 'list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([{ name: 'prod', url, token: banner.username }]);
    expect(list.stdout + set.stdout).not.toContain(banner.secret);
  });

  it('every management command works through --remote, and the instance sees the change', async () => {
    const customer = JSON.parse((await remote('--remote', 'prod', 'customer', 'create', '--name', 'globex', '--json')).stdout);
    expect(customer.name).toBe('globex');
    const plan = await remote('--remote', 'prod', 'plan', 'create', '--name', 'suite', '--repos', 'suite/*', '--json');
    expect(plan.status, plan.stderr).toBe(0);
    const lic = JSON.parse((await remote('--remote', 'prod', 'license', 'create', '--customer', 'globex', '--repos', 'acme/app', '--tags', '1.*', '--until', '30d', '--json')).stdout);
    expect(lic).toMatchObject({ customer_id: customer.id, tags: ['1.*'], status: 'active' });
    const made = await remote('--remote', 'prod', 'token', 'create', '--type', 'customer', '--customer', 'globex', '--name', 'ci', '--json');
    expect(made.status, made.stderr).toBe(0);
    const token = JSON.parse(made.stdout);
    expect(token.full_token).toBe(`${token.username}.${token.secret}`);

    // The same objects, read locally from the instance's own data dir.
    const seen = JSON.parse((await local('token', 'list', '--json')).stdout).map((t: { username: string }) => t.username);
    expect(seen).toContain(token.username);
    // Audited with the acting token, from the address it called from.
    const audit = JSON.parse((await local('audit', '--object', token.username, '--json')).stdout);
    expect(audit).toEqual([expect.objectContaining({ action: 'token.create', actor: banner.username, source: '127.0.0.1' })]);

    for (const args of [
      ['token', 'list'],
      ['token', 'show', token.username],
      ['customer', 'list'],
      ['customer', 'show', 'globex'],
      ['license', 'list', '--customer', 'globex'],
      ['license', 'show', lic.id],
      ['plan', 'list'],
      ['plan', 'show', 'suite'],
      ['vendor', 'list'],
      ['audit', '--limit', '5'],
      ['usage', '--since', '1d'],
      ['explain', '--token', token.username, '--scope', 'repository:acme/app:pull', '--tag', '1.2'],
    ]) {
      const r = await remote('--remote', 'prod', ...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }
    const revoked = await remote('--remote', 'prod', 'token', 'revoke', token.username);
    expect(revoked.stdout).toBe(`${token.username} revoked\n`);
    expect(JSON.parse((await local('token', 'show', token.username, '--json')).stdout).status).toBe('revoked');
  });

  it('errors come back as the local CLI gives them: exit codes and one line', async () => {
    expectCliError(await remote('--remote', 'prod', 'token', 'show', 'ctok_aaaaaaaaaaaaaaaa'), 1, /token ctok_aaaaaaaaaaaaaaaa not found/);
    expectCliError(await remote('--remote', 'prod', 'token', 'create', '--type', 'robot', '--name', 'x'), 2, /unknown token type "robot"/);
    expectCliError(await remote('--remote', 'prod', 'customer', 'create', '--name', 'globex'), 1, /already exists/);
    expectCliError(await remote('--remote', 'nope', 'token', 'list'), 1, /no remote named nope/);
    expectCliError(await remote('--remote', 'prod', '--vendor', 'acme', 'token', 'list'), 2, /--vendor applies to the local data dir/);
    expectCliError(await remote('--remote', 'prod', 'keys', 'list'), 2, /local data dir only/);
    expectCliError(await remote('--remote', 'prod', 'gc'), 2, /local data dir only/);
  });

  it('a token without admin scopes is refused by the instance; an unreachable instance is a clear failure', async () => {
    const reader = JSON.parse((await local('token', 'create', '--type', 'vendor', '--name', 'reader', '--scopes', 'pull', '--json')).stdout);
    expect((await remote('remotes', 'add', 'weak', url)).status).toBe(0);
    expect((await remote('remotes', 'set-token', 'weak', reader.full_token)).status).toBe(0);
    expectCliError(await remote('--remote', 'weak', 'token', 'list'), 1, /lacks the admin:tokens:read scope/);

    expect((await remote('remotes', 'add', 'gone', 'http://127.0.0.1:9')).status).toBe(0);
    expect((await remote('remotes', 'set-token', 'gone', reader.full_token)).status).toBe(0);
    expectCliError(await remote('--remote', 'gone', 'customer', 'list'), 1, /cannot reach http:\/\/127\.0\.0\.1:9/);

    expect((await remote('remotes', 'add', 'bare', url)).status).toBe(0);
    expectCliError(await remote('--remote', 'bare', 'customer', 'list'), 2, /remote bare has no token/);
  });

  it('a token given on the command line is stored, with a warning that ps shows it', async () => {
    expect((await remote('remotes', 'add', 'argv', url)).status).toBe(0);
    const set = await remote('remotes', 'set-token', 'argv', `${banner.username}.${banner.secret}`);
    expect(set.status).toBe(0);
    expect(set.stderr).toBe(
      'portcullis: warning: a token on the command line is visible to every user of this machine (ps, /proc) and stays in your shell history; give - instead and pass it on stdin: portcullis remotes set-token argv - < FILE\n',
    );
    expect(set.stderr).not.toContain(banner.secret);
  });

  it('plain http:// is refused off this machine unless --insecure-http, which warns', async () => {
    expectCliError(await remote('remotes', 'add', 'far', 'http://example.com'), 2, /refusing http:\/\/example\.com: over plain http:\/\/ the remote's vendor token would cross the network in clear text; use https:\/\/, or add --insecure-http/);
    expectCliError(await remote('remotes', 'add', 'far', 'http://10.1.2.3:5000'), 2, /clear text/);
    for (const [name, local] of [['lo4', `${url}/`], ['lo8', 'http://127.8.9.10:5000'], ['lo6', 'http://[::1]:5000'], ['lohost', 'http://localhost:5000'], ['tls', 'https://example.com']]) {
      const r = await remote('remotes', 'add', name!, local!);
      expect(r.status, `${local}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe('');
    }
    const forced = await remote('remotes', 'add', 'far', 'http://example.com', '--insecure-http');
    expect(forced.status).toBe(0);
    expect(forced.stderr).toBe('portcullis: warning: far is plain http:// to another machine (--insecure-http): its token crosses the network in clear text on every command\n');
    const listed = JSON.parse((await remote('remotes', 'list', '--json')).stdout) as { name: string; url: string }[];
    expect(listed.find((r) => r.name === 'far')).toEqual({ name: 'far', url: 'http://example.com', token: null });
  });

  it('a plain-http remote written by an older version is refused when used', async () => {
    const oldHome = mkdtempSync(join(tmpdir(), 'portcullis-remotes-old-'));
    try {
      mkdirSync(join(oldHome, 'portcullis'), { mode: 0o700 });
      writeFileSync(join(oldHome, 'portcullis', 'remotes.json'), JSON.stringify({ remotes: { old: { url: 'http://example.com', token: `${banner.username}.${banner.secret}` } } }), { mode: 0o600 });
      const r = await runCliWithAsync(null, { env: { XDG_CONFIG_HOME: oldHome } }, '--remote', 'old', 'token', 'list');
      expectCliError(r, 2, /refusing http:\/\/example\.com: .* \(remotes remove old, then remotes add old again\)/);
    } finally {
      rmSync(oldHome, { recursive: true, force: true });
    }
  });

  it('a looser config directory becomes 0700, with a note', async () => {
    const looseHome = mkdtempSync(join(tmpdir(), 'portcullis-remotes-loose-'));
    try {
      mkdirSync(join(looseHome, 'portcullis'));
      chmodSync(join(looseHome, 'portcullis'), 0o755);
      const r = await runCliWithAsync(null, { env: { XDG_CONFIG_HOME: looseHome } }, 'remotes', 'add', 'x', url);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe(`portcullis: warning: ${join(looseHome, 'portcullis')} was mode 0755; made it 0700, as it holds tokens\n`);
      expect(statSync(join(looseHome, 'portcullis')).mode & 0o777).toBe(0o700);
      expect(statSync(join(looseHome, 'portcullis', 'remotes.json')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(looseHome, { recursive: true, force: true });
    }
  });

  it('remotes refuses bad names, URLs and tokens', async () => {
    expectCliError(await remote('remotes', 'add', '-bad', url), 2);
    expectCliError(await remote('remotes', 'add', 'x', 'ftp://example.com'), 2, /http or https/);
    expectCliError(await remote('remotes', 'add', 'y', 'https://user:pw@example.com'), 2, /credentials/);
    expectCliError(await remote('remotes', 'add', 'prod', url), 2, /exists already/);
    expectCliError(await remote('remotes', 'set-token', 'prod', 'not-a-token'), 2, /full vendor token/);
    expectCliError(await remote('remotes', 'set-token', 'missing', `${banner.username}.${banner.secret}`), 1, /no remote named missing/);
  });
});
