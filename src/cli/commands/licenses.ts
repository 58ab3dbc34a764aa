import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import { LICENSE_STATUSES, type License, type LicenseStatus } from '../../core/model.js';
import type { LicenseAction } from '../../core/status.js';
import { presentLicense } from '../../present.js';
import { changeLicenseStatus, createLicense, getLicense, listLicenses } from '../../service/licenses.js';
import { details, json, table } from '../output.js';
import { print, withLocal } from '../context.js';

const licenseDetails = (l: License) =>
  details([
    ['id', l.id],
    ['customer', l.customerId],
    ['name', l.name],
    ['repositories', l.repositories],
    ['plan', l.planId],
    ['tags', l.tags.length ? l.tags : ['(all)']],
    ['valid from', l.validFrom],
    ['valid until', l.validUntil ?? 'no end'],
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
      await withLocal(cmd, async (rt, caller) => {
        const l = await createLicense(rt, caller, {
          customer: opts.customer,
          repositories: opts.repos,
          plan: opts.plan,
          tags: opts.tags,
          validFrom: opts.from,
          validUntil: opts.until,
          name: opts.name,
        });
        print(opts.json ? json(presentLicense(l)) : licenseDetails(l));
      });
    });

  license
    .command('list')
    .option('--customer <customer>', 'customer id or name')
    .option('--status <status>', LICENSE_STATUSES.join(', '))
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      if (opts.status !== undefined && !(LICENSE_STATUSES as readonly string[]).includes(opts.status)) {
        throw invalid(`unknown license status "${opts.status}": expected ${LICENSE_STATUSES.join(', ')}`, 'status');
      }
      await withLocal(cmd, async (rt, caller) => {
        const list = await listLicenses(rt, caller, { customer: opts.customer, status: opts.status as LicenseStatus | undefined });
        if (opts.json) return print(json(list.map(presentLicense)));
        print(
          table(
            ['id', 'customer', 'repositories', 'plan', 'tags', 'valid until', 'status'],
            list.map((l) => [l.id, l.customerId, l.repositories, l.planId, l.tags.length ? l.tags : ['(all)'], l.validUntil ?? 'no end', l.status]),
          ),
        );
      });
    });

  license
    .command('show <id>')
    .option('--json', 'print JSON')
    .action(async (id: string, opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const l = await getLicense(rt, caller, id);
        print(opts.json ? json(presentLicense(l)) : licenseDetails(l));
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
        await withLocal(cmd, async (rt, caller) => {
          const l = await changeLicenseStatus(rt, caller, id, action);
          print(opts.json ? json(presentLicense(l)) : `${l.id} ${l.status}\n`);
        });
      });
  }
}
