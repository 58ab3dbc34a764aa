import type { Command } from 'commander';
import { presentVendor } from '../../present.js';
import { createVendor, requireOperator, resolveVendor } from '../../service/vendors.js';
import { details, json, table } from '../output.js';
import { print, withLocal } from '../context.js';
import type { Vendor } from '../../core/model.js';

const vendorDetails = (v: Vendor) =>
  details([
    ['id', v.id],
    ['name', v.name],
    ['namespaces', v.namespaces],
    ['operator', v.isOperator],
    ['created', v.createdAt],
  ]);

export function registerVendorCommands(program: Command): void {
  const vendor = program.command('vendor').description('tenants of this instance (operator only)');

  vendor
    .command('create')
    .requiredOption('--name <name>', 'vendor name, lower case (acme)')
    .option('--namespaces <patterns>', 'repository patterns it owns (default <name>/**)')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const v = await createVendor(rt, caller, { name: opts.name, namespaces: opts.namespaces });
        print(opts.json ? json(presentVendor(v)) : vendorDetails(v));
      });
    });

  vendor
    .command('list')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        await requireOperator(rt, caller);
        const list = await rt.store.listVendors();
        if (opts.json) return print(json(list.map(presentVendor)));
        print(table(['id', 'name', 'namespaces', 'operator'], list.map((v) => [v.id, v.name, v.namespaces, v.isOperator ? 'yes' : ''])));
      });
    });

  vendor
    .command('show <vendor>')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        await requireOperator(rt, caller);
        const v = await resolveVendor(rt, ref);
        print(opts.json ? json(presentVendor(v)) : vendorDetails(v));
      });
    });
}
