import type { Command } from 'commander';
import { durationToSeconds, parseDuration } from '../../core/duration.js';
import { invalid } from '../../core/errors.js';
import { collectGarbage } from '../../registry/gc.js';
import { authorize } from '../../core/operations.js';
import { print, withLocal } from '../context.js';
import { details, json } from '../output.js';

export function registerGcCommand(program: Command): void {
  program
    .command('gc')
    .description('remove blobs of the built-in registry that nothing references any more (safe beside a running server)')
    .option('--dry-run', 'only report what would be removed')
    .option('--grace <duration>', 'keep unreferenced blobs younger than this (default 1h)', '1h')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      let graceSeconds: number;
      try {
        const d = parseDuration(opts.grace, 'grace');
        graceSeconds = d === null ? 0 : durationToSeconds(d);
      } catch (err) {
        throw invalid(`--grace: ${(err as Error).message}`, 'grace');
      }
      await withLocal(cmd, async (rt, caller) => {
        authorize(caller.authority, 'gc.run');
        if (rt.upstream) throw invalid("gateway mode keeps no blobs: run the upstream registry's own garbage collector", 'registry.upstream');
        const result = await collectGarbage(rt.store, rt.blobs, {
          now: rt.now(),
          graceMs: graceSeconds * 1000,
          uploadTimeoutMs: rt.config.registry.upload_timeout_s * 1000,
          dryRun: opts.dryRun === true,
        });
        const bytes = result.removed.reduce((n, b) => n + b.size, 0);
        if (opts.json) return print(json({ dry_run: opts.dryRun === true, removed: result.removed, removed_bytes: bytes, unlinked: result.unlinked, spared: result.spared, kept: result.kept, abandoned_uploads: result.abandonedUploads }));
        print(
          details([
            [opts.dryRun ? 'would remove' : 'removed', `${result.removed.length} blob(s), ${bytes} bytes`],
            [opts.dryRun ? 'would unlink' : 'unlinked', `${result.unlinked.length} blob link(s) no manifest of their repository references`],
            ['kept', result.kept],
            ['spared (younger than grace)', result.spared],
            ['abandoned uploads removed', result.abandonedUploads],
          ]),
        );
      });
    });
}
