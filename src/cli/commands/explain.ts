import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import type { presentExplanation } from '../../present.js';
import { print, withApi } from '../context.js';
import { details, json, table } from '../output.js';

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('which license, plan, window and status allow or deny a token each action of a scope, and why')
    .option('--token <username>', 'the token, e.g. ctok_7f3k2q9x1m4p8z6c')
    .option('--scope <scope>', 'repository:NAME:ACTIONS, e.g. repository:acme/app:pull')
    .option('--tag <tag>', 'a tag, to apply the licenses’ tag patterns')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      if (!opts.token) throw invalid('--token is required', 'token');
      if (!opts.scope) throw invalid('--scope is required, e.g. --scope repository:acme/app:pull', 'scope');
      await withApi(cmd, async (api) => {
        const e = await api.get<ReturnType<typeof presentExplanation>>('/api/v1/explain', { token: opts.token, scope: opts.scope, tag: opts.tag });
        if (opts.json) return print(json(e));
        const who = e.customer ? `customer ${e.customer.name}` : `vendor ${e.vendor?.name ?? '-'}`;
        print(details([['token', `${e.token.username} (${e.token.type}, ${e.token.state}, ${who})`], ['repository', e.tag ? `${e.repository}:${e.tag}` : e.repository], ['at', e.at]]));
        print('\n' + table(['action', 'verdict', 'license', 'reason'], e.actions.map((a) => [a.action, a.allowed ? 'allowed' : 'denied', a.license_id, a.reason])));
        if (e.licenses.length > 0) {
          const rows = e.licenses.flatMap((l) =>
            l.checks.map((c) => [l.id, l.plan?.name ?? null, l.status, `${l.valid_from?.slice(0, 10)}..${l.valid_until?.slice(0, 10) ?? 'never'}`, c.action, c.outcome, c.reason]),
          );
          print('\n' + table(['license', 'plan', 'status', 'window', 'action', 'outcome', 'reason'], rows));
        }
      });
    });
}
