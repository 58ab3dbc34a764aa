import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { parseSince } from '../../core/since.js';
import { presentAudit } from '../../present.js';
import { json, table } from '../output.js';
import { print, withLocal } from '../context.js';

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('who did what, when and from where')
    .option('--since <when>', 'a duration back from now (7d) or a date (2026-11-01)')
    .option('--object <id>', 'only events about this object')
    .option('--limit <n>', 'at most this many events (default 1000; the latest unless --since)')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      const limit = opts.limit === undefined ? 1000 : Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw invalid(`--limit must be a whole number from 1 to 100000, got "${opts.limit}"`, 'limit');
      await withLocal(cmd, async (rt, caller) => {
        const since = opts.since === undefined ? undefined : parseSince(opts.since, rt.now());
        // Without --since, the latest events, like tail.
        const events = await rt.store.listAudit(caller.vendorId, { since, objectId: opts.object, limit, newest: since === undefined });
        if (opts.json) return print(json(events.map(presentAudit)));
        print(table(['time', 'actor', 'source', 'action', 'object'], events.map((e) => [e.at, e.actor, e.source, e.action, e.objectId])));
      });
    });
}
