import { CustomerFilter } from '../components/customer-filter';
import { PageHead } from '../components/page-head';
import { useState } from 'preact/hooks';
import { listAll } from '../api';
import { ErrorText, Status, ListState } from '../components/feedback';
import { SelectFilter, plainOptions } from '../components/select-filter';
import { TokenDialog } from '../components/token-dialog';
import { time } from '../format';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import type { Customer, Token } from '../types';

export function TokensPage() {
  const { canWrite } = useSession();
  const [type, setType] = useState('');
  const [status, setStatus] = useState('');
  const [customer, setCustomer] = useState('');
  const [creating, setCreating] = useState(false);
  const customers = useLoad(() => listAll<Customer>('/api/v1/customers'), []);
  const tokens = useLoad(() => listAll<Token>('/api/v1/tokens', { type, status, customer }), [type, status, customer]);
  const filtered = Boolean(type || status || customer);

  return (
    <section>
      <PageHead title={'Tokens'} action="New token" onAction={canWrite && (() => setCreating(true))} />
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <SelectFilter label="Kind" value={type} onChange={setType} any="all kinds" options={plainOptions(['vendor', 'customer'])} />
        <SelectFilter label="State" value={status} onChange={setStatus} any="all states" options={plainOptions(['active', 'disabled', 'expired', 'revoked'])} />
        <CustomerFilter value={customer} onChange={setCustomer} customers={customers.data} />
      </form>
      <ErrorText error={tokens.error} />
      <TokenTable
        tokens={tokens.data}
        customers={customers.data ?? []}
        empty={filtered ? 'No tokens match these filters.' : canWrite ? 'No tokens yet. Create one with New token.' : 'No tokens yet.'}
      />
      {creating && (
        <TokenDialog
          customers={customers.data ?? []}
          onClose={() => setCreating(false)}
          onCreated={(token) => {
            const { secret: _secret, full_token: _full, ...listed } = token;
            tokens.setData((old) => [...(old ?? []), listed]);
          }}
        />
      )}
    </section>
  );
}

/** Tokens as a table; revoked ones stay listed, greyed. */
export function TokenTable({ tokens, customers, empty, hideCustomer }: { tokens: Token[] | undefined; customers: Customer[]; empty: string; hideCustomer?: boolean }) {
  const names = new Map(customers.map((c) => [c.id, c.name]));
  const columns = hideCustomer ? 6 : 7;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Username</th>
            <th>Name</th>
            <th>Type</th>
            {!hideCustomer && <th>Customer</th>}
            <th>Status</th>
            <th>Expires</th>
            <th>Last used</th>
          </tr>
        </thead>
        <tbody>
          <ListState items={tokens} columns={columns} empty={empty} />
          {tokens?.map((t) => (
            <tr key={t.username} class={t.status === 'revoked' ? 'revoked' : undefined}>
              <td>
                <a href={`/tokens/${t.username}`}>
                  <code>{t.username}</code>
                </a>
              </td>
              <td>{t.name}</td>
              <td>{t.type}</td>
              {!hideCustomer && <td>{t.customer_id ? <a href={`/customers/${t.customer_id}`}>{names.get(t.customer_id) ?? t.customer_id}</a> : '—'}</td>}
              <td>
                <Status value={t.state} />
              </td>
              <td>{t.expires_at ? time(t.expires_at) : 'never'}</td>
              <td>{t.last_used_at ? `${time(t.last_used_at)}${t.last_used_ip ? ` from ${t.last_used_ip}` : ''}` : 'never'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
