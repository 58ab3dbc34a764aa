import { statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, initDataDir, removeDataDir, runCliWithAsync, startServe, type Banner, type ServeProcess } from '../helpers/cli.js';

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
    const set = await remote('remotes', 'set-token', 'prod', `${banner.username}.${banner.secret}`);
    expect(set.status, set.stderr).toBe(0);
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

  it('remotes refuses bad names, URLs and tokens', async () => {
    expectCliError(await remote('remotes', 'add', '-bad', url), 2);
    expectCliError(await remote('remotes', 'add', 'x', 'ftp://example.com'), 2, /http or https/);
    expectCliError(await remote('remotes', 'add', 'y', 'https://user:pw@example.com'), 2, /credentials/);
    expectCliError(await remote('remotes', 'add', 'prod', url), 2, /exists already/);
    expectCliError(await remote('remotes', 'set-token', 'prod', 'not-a-token'), 2, /full vendor token/);
    expectCliError(await remote('remotes', 'set-token', 'missing', `${banner.username}.${banner.secret}`), 1, /no remote named missing/);
  });
});
