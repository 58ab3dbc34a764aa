import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import type { presentUser } from '../../present.js';
import { details, json, table } from '../output.js';
import { print, withApi, type GlobalOptions } from '../context.js';

type UserJson = ReturnType<typeof presentUser>;

interface InvitedJson {
  user: UserJson;
  invitation: { expires_at: string | null; emailed: boolean; url: string | null; temporary_password: string | null };
}

function userDetails(u: UserJson): string {
  return details([
    ['id', u.id],
    ['email', u.email],
    ['role', u.role],
    ['status', u.status],
    ['must change password', u.must_change_password ? 'yes' : 'no'],
    ['created', u.created_at],
    ['last login', u.last_login_at],
  ]);
}

/** The password on stdin, as `docker login --password-stdin` reads it: its first line, without the line end. */
async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const password = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (password === '') throw invalid('--password-stdin read no password: pipe it in, e.g. `pass show portcullis/me | portcullis user create …`', 'password');
  return password;
}

/** Printed once for a temporary password or a link that was not mailed: the only time either is shown. */
function invitationNotice(invited: InvitedJson): string {
  const { invitation: i, user } = invited;
  if (i.temporary_password) {
    return `temporary password: ${i.temporary_password}\n\nShown only now. ${user.email} must choose a new password at the first login.\n`;
  }
  if (i.emailed) return `An invitation link was e-mailed to ${user.email}; it works until ${i.expires_at}.\n`;
  return `invitation link: ${i.url}\n\nNo mail was sent: pass the link on to ${user.email}. It works once, until ${i.expires_at}.\n`;
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage dashboard users: create, invite, roles, disable, delete');
  const vendorOf = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>().vendor;

  user
    .command('create')
    .description('create an active user; without --password-stdin it gets a temporary password to change at first login')
    .requiredOption('--email <email>', 'the login e-mail address')
    .requiredOption('--role <role>', 'owner, admin or viewer')
    .option('--password-stdin', 'read the password from stdin (first line)')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      const password = opts.passwordStdin ? await readPasswordFromStdin() : undefined;
      await withApi(
        cmd,
        async (api) => {
          const vendor = vendorOf(cmd);
          if (password !== undefined) {
            const made = await api.request<UserJson>('POST', '/api/v1/users', { body: { email: opts.email, role: opts.role, password, vendor } });
            print(opts.json ? json(made) : userDetails(made));
            return;
          }
          const invited = await api.request<InvitedJson>('POST', '/api/v1/invitations', { body: { email: opts.email, role: opts.role, mode: 'password', vendor } });
          if (opts.json) return print(json(invited));
          print(userDetails(invited.user));
          print(invitationNotice(invited));
        },
        { vendorInBody: true },
      );
    });

  user
    .command('invite')
    .description('invite a user by link (e-mailed when SMTP is configured, else printed) or with a temporary password')
    .requiredOption('--email <email>', 'the login e-mail address')
    .requiredOption('--role <role>', 'owner, admin or viewer')
    .option('--temporary-password', 'no link: an active user with a temporary password, printed once')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(
        cmd,
        async (api) => {
          const invited = await api.request<InvitedJson>('POST', '/api/v1/invitations', {
            body: { email: opts.email, role: opts.role, mode: opts.temporaryPassword ? 'password' : 'link', vendor: vendorOf(cmd) },
          });
          if (opts.json) return print(json(invited));
          print(userDetails(invited.user));
          print(invitationNotice(invited));
        },
        { vendorInBody: true },
      );
    });

  user
    .command('list')
    .description('list the dashboard users of the vendor')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const users = await api.all<UserJson>('/api/v1/users');
        if (opts.json) return print(json(users));
        print(table(['id', 'email', 'role', 'status', 'last login'], users.map((u) => [u.id, u.email, u.role, u.status, u.last_login_at])));
      });
    });

  user
    .command('show <user>')
    .description('show one user (id or e-mail address)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const u = await api.get<UserJson>(`/api/v1/users/${encodeURIComponent(ref)}`);
        print(opts.json ? json(u) : userDetails(u));
      });
    });

  user
    .command('set-role <user> <role>')
    .description('give a user another role (owner, admin, viewer); its sessions end')
    .option('--json', 'print JSON')
    .action(async (ref: string, role: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const u = await api.request<UserJson>('PATCH', `/api/v1/users/${encodeURIComponent(ref)}`, { body: { role } });
        print(opts.json ? json(u) : `${u.email} is now ${u.role}\n`);
      });
    });

  for (const [action, status, description] of [
    ['disable', 'disabled', 'stop a user from logging in; its sessions end'],
    ['enable', 'active', 'let a disabled user log in again'],
  ] as const) {
    user
      .command(`${action} <user>`)
      .description(description)
      .option('--json', 'print JSON')
      .action(async (ref: string, opts, cmd: Command) => {
        await withApi(cmd, async (api) => {
          const u = await api.request<UserJson>('PATCH', `/api/v1/users/${encodeURIComponent(ref)}`, { body: { status } });
          print(opts.json ? json(u) : `${u.email} ${u.status}\n`);
        });
      });
  }

  user
    .command('delete <user>')
    .description('delete a user with its sessions and invitations; its audit events stay')
    .action(async (ref: string, _opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        await api.request('DELETE', `/api/v1/users/${encodeURIComponent(ref)}`);
        print(`deleted ${ref}\n`);
      });
    });
}
