import type { Command } from 'commander';
import type { presentCreatedToken, presentToken } from '../../present.js';
import type { TokenAction } from '../../core/status.js';
import { parseWholeNumber } from '../../core/text.js';
import { parseRateLimit } from '../../service/tokens.js';
import { details, json, table } from '../output.js';
import { print, withApi } from '../context.js';

type TokenJson = ReturnType<typeof presentToken>;
type CreatedJson = ReturnType<typeof presentCreatedToken>;

function tokenDetails(t: TokenJson): string {
  return details([
    ['username', t.username],
    ['type', t.type],
    ['name', t.name],
    ['customer', t.customer_id],
    ['scopes', t.scopes],
    ['status', t.state],
    ['expires', t.expires_at ?? 'never'],
    ['rate limit', t.rate_limit === null ? 'default' : `${t.rate_limit}/h`],
    ['last used', t.last_used_at],
    ['last used from', t.last_used_ip],
    ['created by', t.created_by],
    ['created', t.created_at],
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
      await withApi(cmd, async (api) => {
        const created = await api.request<CreatedJson>('POST', '/api/v1/tokens', {
          body: { type: opts.type, name: opts.name, customer: opts.customer, scopes: opts.scopes, expires: opts.expires, rate_limit: opts.rateLimit === undefined ? undefined : parseRateLimit(parseWholeNumber(opts.rateLimit, '--rate-limit', {}, 'rate_limit')) },
        });
        if (opts.json) return print(json(created));
        print(tokenDetails(created));
        print(`secret:         ${created.secret}\n\nThe secret is shown only now; store it safely. Log in with:\n`);
        print(`  docker login <registry> -u ${created.username}   (password: the secret)\n`);
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
      await withApi(cmd, async (api) => {
        const tokens = await api.all<TokenJson>('/api/v1/tokens', { type: opts.type, customer: opts.customer, status: opts.status });
        if (opts.json) return print(json(tokens));
        print(
          table(
            ['username', 'type', 'name', 'customer', 'status', 'expires', 'last used'],
            tokens.map((t) => [t.username, t.type, t.name, t.customer_id, t.state, t.expires_at ?? 'never', t.last_used_at]),
          ),
        );
      });
    });

  token
    .command('show <username>')
    .description('show one token (never its secret)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const t = await api.get<TokenJson>(`/api/v1/tokens/${encodeURIComponent(id)}`);
        print(opts.json ? json(t) : tokenDetails(t));
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
        await withApi(cmd, async (api) => {
          const t = await api.request<TokenJson>('POST', `/api/v1/tokens/${encodeURIComponent(id)}/${action}`);
          print(opts.json ? json(t) : `${t.username} ${t.state}\n`);
        });
      });
  }
}
