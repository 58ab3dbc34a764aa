import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, initDataDir, removeDataDir, runCliWithAsync, startServe, type Banner, type ServeProcess } from '../helpers/cli.js';

interface UserJson {
  id: string;
  email: string;
  role: string;
  status: string;
  must_change_password: boolean;
  created_at: string;
  last_login_at: string | null;
}

interface InvitedJson {
  user: UserJson;
  invitation: { expires_at: string | null; emailed: boolean; url: string | null; temporary_password: string | null };
}

const PASSWORD = 'correct horse battery staple';

/**
 * `portcullis user …` through the admin API: locally in-process against the
 * data dir, and remotely with the bootstrap token, which can give a new
 * vendor its first owner.
 */
describe('user commands', () => {
  let dataDir: string;
  let banner: Banner;
  const local = (...args: string[]) => runCliWithAsync(dataDir, {}, ...args);
  const localJson = async <T>(...args: string[]): Promise<T> => {
    const r = await local(...args, '--json');
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(() => {
    ({ dataDir, banner } = initDataDir());
  });
  afterAll(() => removeDataDir(dataDir));

  it('user create reads the password from stdin, or gives a temporary one', async () => {
    const made = await runCliWithAsync(dataDir, { input: `${PASSWORD}\nnot part of it\n` }, 'user', 'create', '--email', 'Owner@Example.com', '--role', 'owner', '--password-stdin', '--json');
    expect(made.status, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ email: 'owner@example.com', role: 'owner', status: 'active', must_change_password: false });
    expect(made.stdout).not.toContain(PASSWORD);

    const temp = await local('user', 'create', '--email', 'temp@example.com', '--role', 'viewer');
    expect(temp.status, temp.stderr).toBe(0);
    expect(temp.stdout).toMatch(/^temporary password: +[A-Za-z0-9]{32}$/m);
    expect(temp.stdout).toMatch(/must change password: +yes/);
    expect(temp.stdout).toContain('must choose a new password at the first login');
  });

  it('user invite prints the link when no mail goes out, or the temporary password', async () => {
    const link = await localJson<InvitedJson>('user', 'invite', '--email', 'invited@example.com', '--role', 'admin');
    expect(link.user).toMatchObject({ status: 'invited', role: 'admin' });
    expect(link.invitation).toMatchObject({ emailed: false, temporary_password: null, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:5000\/accept#token=[A-Za-z0-9_-]{43}$/) });
    const human = await local('user', 'invite', '--email', 'human@example.com', '--role', 'viewer');
    expect(human.stdout).toMatch(/^invitation link: http:\/\/127\.0\.0\.1:5000\/accept#token=/m);
    expect(human.stdout).toContain('pass the link on to human@example.com');
    const temp = await localJson<InvitedJson>('user', 'invite', '--email', 'temp2@example.com', '--role', 'viewer', '--temporary-password');
    expect(temp.user).toMatchObject({ status: 'active', must_change_password: true });
    expect(temp.invitation.temporary_password).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('user list, show, set-role, disable, enable and delete', async () => {
    const list = await localJson<UserJson[]>('user', 'list');
    expect(list.map((u) => u.email)).toEqual(['owner@example.com', 'temp@example.com', 'invited@example.com', 'human@example.com', 'temp2@example.com']);
    const table = await local('user', 'list');
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +EMAIL +ROLE +STATUS +LAST LOGIN$/);
    const shown = await localJson<UserJson>('user', 'show', 'temp@example.com');
    expect((await localJson<UserJson>('user', 'show', shown.id)).email).toBe('temp@example.com');

    expect((await local('user', 'set-role', 'temp@example.com', 'admin')).stdout).toBe('temp@example.com is now admin\n');
    expect((await local('user', 'disable', shown.id)).stdout).toBe('temp@example.com disabled\n');
    expect((await local('user', 'enable', 'temp@example.com')).stdout).toBe('temp@example.com active\n');
    expect((await local('user', 'delete', 'temp@example.com')).stdout).toBe('deleted temp@example.com\n');
    expectCliError(await local('user', 'show', 'temp@example.com'), 1, /user temp@example\.com not found/);

    const audit = await localJson<{ action: string; actor: string }[]>('audit', '--object', shown.id);
    expect(audit.map((e) => e.action).sort()).toEqual(['user.delete', 'user.invite', 'user.update', 'user.update', 'user.update'].sort());
    expect(audit.every((e) => e.actor.startsWith('cli:'))).toBe(true);
  });

  it('refuses bad input with exit 2 and clashes with exit 1, in one line', async () => {
    const cases: [Promise<Awaited<ReturnType<typeof local>>>, number, RegExp][] = [
      [local('user', 'create', '--email', 'x@example.com', '--role', 'root'), 2, /unknown role "root": expected owner, admin, viewer/],
      [local('user', 'create', '--email', 'not-an-address', '--role', 'viewer'), 2, /email does not look like an e-mail address/],
      [runCliWithAsync(dataDir, { input: 'short\n' }, 'user', 'create', '--email', 'x@example.com', '--role', 'viewer', '--password-stdin'), 2, /password must be at least 10 characters/],
      [runCliWithAsync(dataDir, { input: '' }, 'user', 'create', '--email', 'x@example.com', '--role', 'viewer', '--password-stdin'), 2, /--password-stdin read no password/],
      [local('user', 'invite', '--email', 'OWNER@example.com', '--role', 'viewer'), 1, /already exists/],
      [local('user', 'delete', 'owner@example.com'), 1, /last active owner/],
      [local('user', 'set-role', 'owner@example.com', 'boss'), 2, /unknown role "boss"/],
    ];
    for (const [run, status, message] of cases) expectCliError(await run, status, message);
  });

  describe('remotely, with the bootstrap token', () => {
    let serve: ServeProcess;
    let url: string;
    let home: string;
    let env: Record<string, string>;
    const remote = (...args: string[]) => runCliWithAsync(null, { env }, ...args);

    beforeAll(async () => {
      serve = startServe(dataDir, '--port', '0');
      const listening = JSON.parse(await serve.waitForLine(/"msg":"portcullis listening"/)) as { port: number };
      url = `http://127.0.0.1:${listening.port}`;
      home = mkdtempSync(join(tmpdir(), 'portcullis-users-'));
      env = { XDG_CONFIG_HOME: home };
      expect((await remote('remotes', 'add', 'prod', url)).status).toBe(0);
      expect((await remote('remotes', 'set-token', 'prod', `${banner.username}.${banner.secret}`)).status).toBe(0);
    });
    afterAll(async () => {
      if (serve) await serve.stop();
      if (home) rmSync(home, { recursive: true, force: true });
    });

    it('creates the first owner of a new vendor, who can then log in to that vendor', async () => {
      expect((await remote('--remote', 'prod', 'vendor', 'create', '--name', 'acme')).status).toBe(0);
      const made = await runCliWithAsync(null, { env, input: `${PASSWORD}\n` }, '--remote', 'prod', '--vendor', 'acme', 'user', 'create', '--email', 'boss@acme.test', '--role', 'owner', '--password-stdin', '--json');
      expect(made.status, made.stderr).toBe(0);
      const login = await fetch(`${url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'boss@acme.test', password: PASSWORD }) });
      expect(login.status).toBe(200);
      expect(((await login.json()) as { vendor: { name: string } }).vendor.name).toBe('acme');
      // The operator's own list does not show acme's user; acme's, read locally, does.
      const theirs = JSON.parse((await local('--vendor', 'acme', 'user', 'list', '--json')).stdout) as UserJson[];
      expect(theirs.map((u) => u.email)).toEqual(['boss@acme.test']);
      const ours = JSON.parse((await remote('--remote', 'prod', 'user', 'list', '--json')).stdout) as UserJson[];
      expect(ours.map((u) => u.email)).not.toContain('boss@acme.test');
      // An address the operator vendor has is no clash in acme: addresses are unique per vendor.
      const same = await remote('--remote', 'prod', '--vendor', 'acme', 'user', 'invite', '--email', 'owner@example.com', '--role', 'viewer', '--json');
      expect(same.status, same.stderr).toBe(0);
      expect((JSON.parse(same.stdout) as InvitedJson).user).toMatchObject({ email: 'owner@example.com', status: 'invited' });
      // --vendor goes with --remote only where the request names the vendor.
      expectCliError(await remote('--remote', 'prod', '--vendor', 'acme', 'user', 'list'), 2, /--vendor applies to the local data dir/);
    });
  });
});
