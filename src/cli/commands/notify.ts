import type { Command } from 'commander';
import { invalid, PortcullisError } from '../../core/errors.js';
import { expiryPayload } from '../../notify/notifier.js';
import { notifierFromConfig, runExpiryRound, type ExpiryRoundResult } from '../../notify/expiry-round.js';
import { json, table } from '../output.js';
import { print, withLocal, type GlobalOptions } from '../context.js';

function presentRound(r: ExpiryRoundResult, now: Date) {
  return {
    dry_run: r.dryRun,
    warnings: r.entries.map(({ notice, outcome, error }) => ({ ...expiryPayload(notice, now), outcome, error: error ?? null })),
  };
}

function roundTable(r: ExpiryRoundResult): string {
  return table(
    ['event', 'object', 'name', 'vendor', 'customer', 'ends', 'days left', 'outcome'],
    r.entries.map(({ notice: n, outcome, error }) => [
      n.warning.event,
      n.warning.objectId,
      n.warning.name,
      n.vendor.name,
      n.customer?.name,
      n.warning.endsAt,
      n.warning.daysLeft,
      error ? `${outcome}: ${error}` : outcome,
    ]),
  );
}

export function registerNotifyCommands(program: Command): void {
  const notify = program.command('notify').description('notifications: expiry warnings');

  notify
    .command('expiring')
    .description('send the expiry warnings that are due now, for every vendor (what `serve` does every notifications.check_interval)')
    .option('--dry-run', 'list the warnings that are due; send and record nothing')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      if (cmd.optsWithGlobals<GlobalOptions>().vendor) {
        throw invalid('notify expiring covers every vendor of the instance; drop --vendor', 'vendor');
      }
      await withLocal(cmd, async (rt) => {
        const result = await runExpiryRound(rt, notifierFromConfig(rt.config), { dryRun: Boolean(opts.dryRun) });
        const failed = result.entries.filter((e) => e.outcome === 'failed');
        if (failed.length > 0) {
          // For cron: a failure is the exit code and one line on stderr; the failed ones go out on the next run.
          const first = failed[0]!;
          throw new PortcullisError(
            'unavailable',
            `${failed.length} of ${result.entries.length} expiry warning(s) not sent (${first.notice.warning.objectId}: ${first.error}); they are retried on the next run`,
          );
        }
        print(opts.json ? json(presentRound(result, rt.now())) : roundTable(result));
      });
    });
}
