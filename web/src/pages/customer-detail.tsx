import { PageHead } from '../components/page-head';
import { useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { api, listAll } from '../api';
import { ConfirmAction } from '../components/confirm-action';
import { ErrorText, Loading, Status } from '../components/feedback';
import { TokenDialog } from '../components/token-dialog';
import { day } from '../format';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import type { Customer, CustomerActionSummary, License, Plan, Token } from '../types';
import { LicenseTable } from './licenses';
import { TokenTable } from './tokens';

type CustomerAction = 'suspend' | 'resume' | 'revoke';

const ACTION_TEXT: Record<CustomerAction, { label: string; title: string; what: string }> = {
  suspend: { label: 'Suspend', title: 'Suspend this customer?', what: 'Every active token is disabled and every active license suspended, until you resume.' },
  resume: { label: 'Resume', title: 'Resume this customer?', what: 'The tokens and licenses that the last suspend changed work again.' },
  revoke: { label: 'Revoke everything', title: 'Revoke everything of this customer?', what: 'Every token and license of the customer ends for good. This cannot be undone.' },
};

export function CustomerDetailPage() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const { canWrite } = useSession();
  const [creatingToken, setCreatingToken] = useState(false);
  const customer = useLoad(() => api<Customer>('GET', `/api/v1/customers/${encodeURIComponent(id)}`), [id]);
  const tokens = useLoad(() => listAll<Token>('/api/v1/tokens', { customer: id }), [id]);
  const licenses = useLoad(() => listAll<License>('/api/v1/licenses', { customer: id }), [id]);
  const plans = useLoad(() => listAll<Plan>('/api/v1/plans'), []);

  const run = (action: CustomerAction) => async () => {
    await api<CustomerActionSummary>('POST', `/api/v1/customers/${encodeURIComponent(id)}/${action}`);
    tokens.reload();
    licenses.reload();
  };

  const c = customer.data;
  return (
    <section>
      <p class="crumbs">
        <a href="/customers">← Customer list</a>
      </p>
      <PageHead title={c ? `Customer ${c.name}` : 'Customer'} action="New token" onAction={canWrite && c && !c.deleted_at && (() => setCreatingToken(true))} />
      <ErrorText error={customer.error} />
      {!c && !customer.error && <Loading />}
      {c && (
        <>
          <dl class="fields">
            <dt>Id</dt>
            <dd>
              <code>{c.id}</code>
            </dd>
            <dt>Contact</dt>
            <dd>{c.contact ?? '—'}</dd>
            <dt>Created</dt>
            <dd>{day(c.created_at)}</dd>
            <dt>Status</dt>
            <dd>
              <Status value={c.deleted_at ? 'deleted' : 'active'} />
            </dd>
          </dl>
          {canWrite && !c.deleted_at && (
            <div class="actions">
              {(['suspend', 'resume', 'revoke'] as const).map((action) => (
                <ConfirmAction key={action} label={ACTION_TEXT[action].label} title={ACTION_TEXT[action].title} danger={action === 'revoke'} action={run(action)}>
                  <p>{ACTION_TEXT[action].what}</p>
                  <DryRun customer={c.id} action={action} />
                </ConfirmAction>
              ))}
            </div>
          )}
          <h2>Licenses</h2>
          <ErrorText error={licenses.error} />
          <LicenseTable licenses={licenses.data} customers={[c]} plans={plans.data ?? []} hideCustomer empty="No licenses for this customer yet." />
          <h2>Tokens</h2>
          <ErrorText error={tokens.error} />
          <TokenTable tokens={tokens.data} customers={[c]} hideCustomer empty={canWrite ? 'No tokens for this customer yet. Create one with New token.' : 'No tokens for this customer yet.'} />
        </>
      )}
      {creatingToken && c && (
        <TokenDialog
          customers={[c]}
          customerId={c.id}
          onClose={() => setCreatingToken(false)}
          onCreated={(token) => {
            const { secret: _secret, full_token: _full, ...listed } = token;
            tokens.setData((old) => [...(old ?? []), listed]);
          }}
        />
      )}
    </section>
  );
}

/** What a customer action would change, asked of the server (dry_run) while the confirmation is open. */
function DryRun({ customer, action }: { customer: string; action: CustomerAction }) {
  const preview = useLoad(() => api<CustomerActionSummary>('POST', `/api/v1/customers/${encodeURIComponent(customer)}/${action}?dry_run=true`), [customer, action]);
  if (preview.error) return <p class="muted">Could not tell what would change: {preview.error}</p>;
  if (!preview.data) return <p class="muted">Checking what would change…</p>;
  const { tokens, licenses } = preview.data;
  if (tokens.length === 0 && licenses.length === 0) return <p class="muted">Nothing would change right now.</p>;
  return (
    <p class="muted">
      This changes {tokens.length} token{tokens.length === 1 ? '' : 's'} and {licenses.length} license{licenses.length === 1 ? '' : 's'}.
    </p>
  );
}
