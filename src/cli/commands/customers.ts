import type { Command } from 'commander';
import type { Customer } from '../../core/model.js';
import { presentCustomer } from '../../present.js';
import { createCustomer, deleteCustomer, resolveCustomer, updateCustomer } from '../../service/customers.js';
import { details, json, table } from '../output.js';
import { print, withLocal } from '../context.js';

const customerDetails = (c: Customer) =>
  details([
    ['id', c.id],
    ['name', c.name],
    ['contact', c.contact],
    ['created', c.createdAt],
  ]);

export function registerCustomerCommands(program: Command): void {
  const customer = program.command('customer').description("manage the vendor's customers");

  customer
    .command('create')
    .requiredOption('--name <name>', 'unique name')
    .option('--contact <contact>', 'contact person or e-mail')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const c = await createCustomer(rt, caller, { name: opts.name, contact: opts.contact });
        print(opts.json ? json(presentCustomer(c)) : customerDetails(c));
      });
    });

  customer
    .command('list')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const list = await rt.store.listCustomers(caller.vendorId);
        if (opts.json) return print(json(list.map(presentCustomer)));
        print(table(['id', 'name', 'contact', 'created'], list.map((c) => [c.id, c.name, c.contact, c.createdAt])));
      });
    });

  customer
    .command('show <customer>')
    .description('show a customer (id or name)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const c = await resolveCustomer(rt.store, caller.vendorId, ref);
        print(opts.json ? json(presentCustomer(c)) : customerDetails(c));
      });
    });

  customer
    .command('update <customer>')
    .option('--name <name>', 'new name')
    .option('--contact <contact>', 'new contact (empty to clear)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const c = await updateCustomer(rt, caller, ref, { name: opts.name, contact: opts.contact });
        print(opts.json ? json(presentCustomer(c)) : customerDetails(c));
      });
    });

  customer
    .command('delete <customer>')
    .description('delete a customer; with tokens or licenses it needs --force, which revokes them')
    .option('--force', 'revoke its tokens and licenses and delete it')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const r = await deleteCustomer(rt, caller, ref, Boolean(opts.force));
        if (opts.json) {
          return print(json({ ...presentCustomer(r.customer), revoked_tokens: r.revokedTokens, revoked_licenses: r.revokedLicenses }));
        }
        print(`deleted ${r.customer.id} (${r.customer.name}); revoked ${r.revokedTokens.length} token(s) and ${r.revokedLicenses.length} license(s)\n`);
      });
    });
}
