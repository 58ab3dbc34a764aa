import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import type { presentCustomer } from '../../present.js';
import type { presentUsage, presentUsageCount } from '../../usage/usage-report.js';
import { json, table } from '../output.js';
import { print, withApi } from '../context.js';

type UsageJson = ReturnType<typeof presentUsage>;
type CountJson = ReturnType<typeof presentUsageCount>;

export function registerUsageCommand(program: Command): void {
  program
    .command('usage')
    .description('pulls and pushes per repository and tag, from the usage log')
    .option('--customer <customer>', 'only this customer (id or name)')
    .option('--repo <repository>', 'only this repository')
    .option('--since <when>', 'a duration back from now (30d) or a date (2026-11-01)', '7d')
    .option('--events', 'list the raw events too')
    .option('--json', 'print JSON: { counts, events }')
    .option('--csv', 'print the raw events as CSV')
    .action(async (opts, cmd: Command) => {
      if (opts.json && opts.csv) throw invalid('--json and --csv cannot be used together', 'json');
      await withApi(cmd, async (api) => {
        const filter = { customer: opts.customer, repo: opts.repo, since: opts.since };
        if (opts.csv) return print(await api.text('/api/v1/usage/events', { ...filter, format: 'csv' }));
        const usage = await api.get<{ since: string; truncated: boolean; counts: CountJson[] }>('/api/v1/usage', filter);
        if (usage.truncated) {
          process.stderr.write(`portcullis: warning: counted only the first 100000 events since ${usage.since}; narrow with --since, --repo or --customer\n`);
        }
        // The API lists events newest first; the log reads oldest first.
        const events = opts.json || opts.events ? (await api.all<UsageJson>('/api/v1/usage/events', filter)).reverse() : [];
        if (opts.json) return print(json({ counts: usage.counts, events }));
        print(table(['repository', 'tag', 'pulls', 'pushes', 'last'], usage.counts.map((c) => [c.repository, c.tag, c.pulls, c.pushes, c.last_at])));
        if (!opts.events) return;
        // Names read better than ids here; a customer no longer listed keeps its id.
        const names = new Map((await api.all<ReturnType<typeof presentCustomer>>('/api/v1/customers')).map((c) => [c.id, c.name]));
        print('\n');
        print(
          table(
            ['time', 'action', 'repository', 'tag', 'digest', 'token', 'customer', 'ip'],
            events.map((e) => [e.at, e.action, e.repository, e.tag, e.digest, e.token, e.customer_id && (names.get(e.customer_id) ?? e.customer_id), e.ip]),
          ),
        );
      });
    });
}
