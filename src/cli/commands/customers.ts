import type { Command } from 'commander';
import { invalid } from '../../core/errors.js';
import type { presentCustomer, presentCustomerAction } from '../../present.js';
import type { CustomerAction } from '../../service/customer-actions.js';
import { details, json, table } from '../output.js';
import { print, withApi } from '../context.js';

type CustomerJson = ReturnType<typeof presentCustomer>;
type CustomerActionSummary = ReturnType<typeof presentCustomerAction> & { action: CustomerAction };

const customerDetails = (c: CustomerJson) =>
  details([
    ['id', c.id],
    ['name', c.name],
    ['contact', c.contact],
    ['created', c.created_at],
  ]);

const RESULT_STATUS: Record<CustomerAction, { token: string; license: string }> = {
  suspend: { token: 'disabled', license: 'suspended' },
  resume: { token: 'active', license: 'active' },
  revoke: { token: 'revoked', license: 'revoked' },
};

function actionReport(s: CustomerActionSummary): string {
  const who = `${s.customer.name} (${s.customer.id})`;
  if (s.tokens.length + s.licenses.length === 0) return `${s.action} ${who}: nothing to change\n`;
  const status = RESULT_STATUS[s.action];
  const rows = [...s.tokens.map((id) => ['token', id, status.token]), ...s.licenses.map((id) => ['license', id, status.license])];
  return `${s.action} ${who}: ${s.tokens.length} token(s), ${s.licenses.length} license(s)\n` + table(['object', 'id', 'status'], rows);
}

/** Revocation is final, so the command says what it would revoke and stops unless --yes. */
function revokeRefusal(s: CustomerActionSummary): Error {
  const list = (ids: string[]) => (ids.length ? ` (${ids.join(', ')})` : '');
  return invalid(
    `customer revoke is final: it would revoke ${s.tokens.length} token(s)${list(s.tokens)} and ${s.licenses.length} license(s)${list(s.licenses)} of ${s.customer.name}; run it again with --yes`,
    'yes',
  );
}

export function registerCustomerCommands(program: Command): void {
  const customer = program.command('customer').description("manage the vendor's customers");

  customer
    .command('create')
    .requiredOption('--name <name>', 'unique name')
    .option('--contact <contact>', 'contact person or e-mail')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const c = await api.request<CustomerJson>('POST', '/api/v1/customers', { body: { name: opts.name, contact: opts.contact } });
        print(opts.json ? json(c) : customerDetails(c));
      });
    });

  customer
    .command('list')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const list = await api.all<CustomerJson>('/api/v1/customers');
        if (opts.json) return print(json(list));
        print(table(['id', 'name', 'contact', 'created'], list.map((c) => [c.id, c.name, c.contact, c.created_at])));
      });
    });

  customer
    .command('show <customer>')
    .description('show a customer (id or name)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const c = await api.get<CustomerJson>(`/api/v1/customers/${encodeURIComponent(ref)}`);
        print(opts.json ? json(c) : customerDetails(c));
      });
    });

  customer
    .command('update <customer>')
    .option('--name <name>', 'new name')
    .option('--contact <contact>', 'new contact (empty to clear)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      if (opts.name === undefined && opts.contact === undefined) throw invalid('give --name or --contact (or both) to change', 'name');
      await withApi(cmd, async (api) => {
        const c = await api.request<CustomerJson>('PATCH', `/api/v1/customers/${encodeURIComponent(ref)}`, { body: { name: opts.name, contact: opts.contact } });
        print(opts.json ? json(c) : customerDetails(c));
      });
    });

  const actions: [CustomerAction, string][] = [
    ['suspend', 'disable every active token and suspend every active license of a customer'],
    ['resume', 'undo customer suspend: re-enable exactly the tokens and licenses it disabled'],
    ['revoke', 'revoke every token and license of a customer, for good (needs --yes)'],
  ];
  for (const [action, description] of actions) {
    const command = customer.command(`${action} <customer>`).description(description);
    if (action === 'revoke') command.option('--yes', 'really revoke; without it, say what would be revoked and change nothing');
    command.option('--json', 'print JSON').action(async (ref: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const url = `/api/v1/customers/${encodeURIComponent(ref)}/${action}`;
        if (action === 'revoke' && !opts.yes) throw revokeRefusal(await api.request<CustomerActionSummary>('POST', url, { query: { dry_run: true } }));
        const summary = await api.request<CustomerActionSummary>('POST', url);
        print(opts.json ? json(summary) : actionReport(summary));
      });
    });
  }

  customer
    .command('delete <customer>')
    .description('delete a customer; with tokens or licenses it needs --force, which revokes them')
    .option('--force', 'revoke its tokens and licenses and delete it')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts, cmd: Command) => {
      await withApi(cmd, async (api) => {
        const r = await api.request<CustomerJson & { revoked_tokens: string[]; revoked_licenses: string[] }>('DELETE', `/api/v1/customers/${encodeURIComponent(ref)}`, {
          query: { force: opts.force ? true : undefined },
        });
        if (opts.json) return print(json(r));
        print(`deleted ${r.id} (${r.name}); revoked ${r.revoked_tokens.length} token(s) and ${r.revoked_licenses.length} license(s)\n`);
      });
    });
}
