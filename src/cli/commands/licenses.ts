import type { Command } from 'commander';
import { LICENSE_STATUSES } from '../../core/model.js';
import type { LicenseAction } from '../../core/status.js';
import type { presentLicense } from '../../present.js';
import { details, json, table } from '../output.js';
import { print, withApi } from '../context.js';

type LicenseJson = ReturnType<typeof presentLicense>;

const licenseDetails = (l: LicenseJson) =>
  details([
    ['id', l.id],
    ['customer', l.customer_id],
    ['name', l.name],
    ['repositories', l.repositories],
    ['plan', l.plan_id],
    ['tags', l.tags.length ? l.tags : ['(all)']],
    ['valid from', l.valid_from],
    ['valid until', l.valid_until ?? 'no end'],
    ['status', l.status],
  ]);

export function registerLicenseCommands(program: Command): void {
  const license = program.command('license').description('grant customers repositories and tags for a period');

  license
    .command('create')
    .requiredOption('--customer <customer>', 'customer id or name')
    .option('--repos <patterns>', 'repository patterns, comma separated (acme/app, acme/*, acme/**)')
    .option('--plan <plan>', 'plan id or name, instead of --repos')
    .option('--tags <patterns>', 'tag patterns, comma separated (1.*, stable, semver:>=1.2 <2); default every tag')
    .option('--from <date>', 'start date or timestamp (default now)')
    .option('--until <when>', 'end date, timestamp or duration from the start (1y); default no end')
    .option('--name <name>', 'a label')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const l = await api.request<LicenseJson>('POST', '/api/v1/licenses', {
          body: { customer: opts.customer, repositories: opts.repos, plan: opts.plan, tags: opts.tags, valid_from: opts.from, valid_until: opts.until, name: opts.name },
        });
        print(opts.json ? json(l) : licenseDetails(l));
      });
    });

  license
    .command('list')
    .option('--customer <customer>', 'customer id or name')
    .option('--status <status>', LICENSE_STATUSES.join(', '))
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const list = await api.all<LicenseJson>('/api/v1/licenses', { customer: opts.customer, status: opts.status });
        if (opts.json) return print(json(list));
        print(
          table(
            ['id', 'customer', 'repositories', 'plan', 'tags', 'valid until', 'status'],
            list.map((l) => [l.id, l.customer_id, l.repositories, l.plan_id, l.tags.length ? l.tags : ['(all)'], l.valid_until ?? 'no end', l.status]),
          ),
        );
      });
    });

  license
    .command('show <id>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const l = await api.get<LicenseJson>(`/api/v1/licenses/${encodeURIComponent(id)}`);
        print(opts.json ? json(l) : licenseDetails(l));
      });
    });

  const actions: [LicenseAction, string][] = [
    ['suspend', 'stop a license from opening anything until it is resumed'],
    ['resume', 'let a suspended license work again'],
    ['revoke', 'end a license for good; it stays listed for audit'],
  ];
  for (const [action, description] of actions) {
    license
      .command(`${action} <id>`)
      .description(description)
      .option('--json', 'print JSON')
      .action(async (id: string, opts, cmd: Command) => {
        await withApi(cmd, async (api) => {
          const l = await api.request<LicenseJson>('POST', `/api/v1/licenses/${encodeURIComponent(id)}/${action}`);
          print(opts.json ? json(l) : `${l.id} ${l.status}\n`);
        });
      });
  }
}
