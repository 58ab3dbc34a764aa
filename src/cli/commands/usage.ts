import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { parseSince } from '../../core/since.js';
import { resolveCustomer } from '../../service/customers.js';
import { countUsage, presentUsage, presentUsageCount, usageCsv } from '../../usage/usage-report.js';
import { json, table } from '../output.js';
import { print, withLocal } from '../context.js';

// listUsage reads oldest first; past this many the counts would miss the newest events.
const MAX_EVENTS = 100_000;

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
      await withLocal(cmd, async (rt, caller) => {
        const since = parseSince(opts.since, rt.now());
        const customer = opts.customer === undefined ? undefined : await resolveCustomer(rt.store, caller.vendorId, opts.customer, true);
        const events = await rt.store.listUsage(caller.vendorId, { since, customerId: customer?.id, repository: opts.repo, limit: MAX_EVENTS });
        if (events.length === MAX_EVENTS) {
          process.stderr.write(`portcullis: warning: read only the first ${MAX_EVENTS} events since ${since.toISOString()}; narrow with --since, --repo or --customer\n`);
        }
        if (opts.csv) return print(usageCsv(events));
        const counts = countUsage(events);
        if (opts.json) return print(json({ counts: counts.map(presentUsageCount), events: events.map(presentUsage) }));
        print(table(['repository', 'tag', 'pulls', 'pushes', 'last'], counts.map((c) => [c.repository, c.tag, c.pulls, c.pushes, c.lastAt])));
        if (!opts.events) return;
        // Names read better than ids here; a customer no longer listed keeps its id.
        const names = new Map((await rt.store.listCustomers(caller.vendorId)).map((c) => [c.id, c.name]));
        print('\n');
        print(
          table(
            ['time', 'action', 'repository', 'tag', 'digest', 'token', 'customer', 'ip'],
            events.map((e) => [e.at, e.action, e.repository, e.tag, e.digest, e.tokenId, e.customerId && (names.get(e.customerId) ?? e.customerId), e.ip]),
          ),
        );
      });
    });
}
