import type { Command } from 'commander';
import type { Token } from '../../core/model.js';
import { presentCreatedToken, presentToken } from '../../present.js';
import { changeTokenStatus, createToken, getToken, listTokens, tokenState } from '../../service/tokens.js';
import type { TokenAction } from '../../core/status.js';
import { details, json, table } from '../output.js';
import { print, withLocal } from '../context.js';

function tokenDetails(token: Token, now: Date): string {
  return details([
    ['username', token.id],
    ['type', token.type],
    ['name', token.name],
    ['customer', token.customerId],
    ['scopes', token.scopes],
    ['status', tokenState(token, now)],
    ['expires', token.expiresAt ?? 'never'],
    ['rate limit', token.rateLimit === null ? 'default' : `${token.rateLimit}/h`],
    ['last used', token.lastUsedAt],
    ['last used from', token.lastUsedIp],
    ['created by', token.createdBy],
    ['created', token.createdAt],
  ]);
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('create and manage vendor and customer tokens');

  token
    .command('create')
    .description('create a token; its secret is printed once and never again')
    .requiredOption('--type <type>', 'vendor or customer')
    .requiredOption('--name <name>', 'a name to recognise it by')
    .option('--customer <id>', 'customer id or name (customer tokens)')
    .option('--scopes <scopes>', 'vendor tokens: pull,push,admin:<area>:<read|write>,admin:*:* (default pull,push)')
    .option('--expires <when>', 'duration (30d, 1y6M), date (2027-01-31) or timestamp; default never')
    .option('--rate-limit <n>', 'requests per hour (default: the configured default)')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const created = await createToken(rt, caller, {
          type: opts.type,
          name: opts.name,
          customer: opts.customer,
          scopes: opts.scopes,
          expires: opts.expires,
          rateLimit: opts.rateLimit,
        });
        if (opts.json) return print(json(presentCreatedToken(created, rt.now())));
        print(tokenDetails(created.token, rt.now()));
        print(`secret:         ${created.secret}\n\nThe secret is shown only now; store it safely. Log in with:\n`);
        print(`  docker login <registry> -u ${created.token.id}   (password: the secret)\n`);
      });
    });

  token
    .command('list')
    .description('list tokens, revoked ones included')
    .option('--type <type>', 'vendor or customer')
    .option('--customer <id>', 'customer id or name')
    .option('--status <status>', 'active, disabled, revoked or expired')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const tokens = await listTokens(rt, caller, { type: opts.type, customer: opts.customer, status: opts.status });
        const now = rt.now();
        if (opts.json) return print(json(tokens.map((t) => presentToken(t, now))));
        print(
          table(
            ['username', 'type', 'name', 'customer', 'status', 'expires', 'last used'],
            tokens.map((t) => [t.id, t.type, t.name, t.customerId, tokenState(t, now), t.expiresAt ?? 'never', t.lastUsedAt]),
          ),
        );
      });
    });

  token
    .command('show <username>')
    .description('show one token (never its secret)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const t = await getToken(rt, caller, id);
        print(opts.json ? json(presentToken(t, rt.now())) : tokenDetails(t, rt.now()));
      });
    });

  const actions: [TokenAction, string][] = [
    ['disable', 'stop a token from working until it is enabled again'],
    ['enable', 'let a disabled token work again'],
    ['revoke', 'end a token for good; it stays listed for audit'],
  ];
  for (const [action, description] of actions) {
    token
      .command(`${action} <username>`)
      .description(description)
      .option('--json', 'print JSON')
      .action(async (id: string, opts, cmd: Command) => {
        await withLocal(cmd, async (rt, caller) => {
          const t = await changeTokenStatus(rt, caller, id, action);
          print(opts.json ? json(presentToken(t, rt.now())) : `${t.id} ${tokenState(t, rt.now())}\n`);
        });
      });
  }
}
