import type { Command } from 'commander';
import { parseWholeNumber } from '../../core/text.js';
import type { presentAudit } from '../../present.js';
import { json, table } from '../output.js';
import { print, withApi } from '../context.js';

type AuditJson = ReturnType<typeof presentAudit>;

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('who did what, when and from where')
    .option('--since <when>', 'a duration back from now (7d) or a date (2026-11-01)')
    .option('--object <id>', 'only events about this object')
    .option('--limit <n>', 'at most this many events, the latest (default 1000)')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      const limit = opts.limit === undefined ? 1000 : parseWholeNumber(opts.limit, '--limit', { min: 1, max: 100_000 }, 'limit');
      await withApi(cmd, async (api) => {
        // The API pages newest first; like tail, the latest events are printed oldest first.
        const events = (await api.all<AuditJson>('/api/v1/audit', { since: opts.since, object: opts.object }, limit)).reverse();
        if (opts.json) return print(json(events));
        print(table(['time', 'actor', 'source', 'action', 'object'], events.map((e) => [e.at, e.actor, e.source, e.action, e.object_id])));
      });
    });
}
