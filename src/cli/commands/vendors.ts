import type { Command } from 'commander';
import type { presentVendor } from '../../present.js';
import { details, json, table } from '../output.js';
import { print, withApi } from '../context.js';

type VendorJson = ReturnType<typeof presentVendor>;

const vendorDetails = (v: VendorJson) =>
  details([
    ['id', v.id],
    ['name', v.name],
    ['namespaces', v.namespaces],
    ['operator', v.operator],
    ['created', v.created_at],
  ]);

export function registerVendorCommands(program: Command): void {
  const vendor = program.command('vendor').description('tenants of this instance (operator only)');

  vendor
    .command('create')
    .requiredOption('--name <name>', 'vendor name, lower case (acme)')
    .option('--namespaces <patterns>', 'repository patterns it owns (default <name>/**)')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const v = await api.request<VendorJson>('POST', '/api/v1/vendors', { body: { name: opts.name, namespaces: opts.namespaces } });
        print(opts.json ? json(v) : vendorDetails(v));
      });
    });

  vendor
    .command('list')
    .description('every vendor (another vendor than the operator sees itself only)')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const list = await api.all<VendorJson>('/api/v1/vendors');
        if (opts.json) return print(json(list));
        print(table(['id', 'name', 'namespaces', 'operator'], list.map((v) => [v.id, v.name, v.namespaces, v.operator ? 'yes' : ''])));
      });
    });

  vendor
    .command('show <vendor>')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const v = await api.get<VendorJson>(`/api/v1/vendors/${encodeURIComponent(ref)}`);
        print(opts.json ? json(v) : vendorDetails(v));
      });
    });
}
