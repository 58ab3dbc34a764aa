import { useRoute } from 'preact-iso';
import { api } from '../api';
import { ConfirmAction } from '../components/confirm-action';
import { ErrorText, Loading, Status } from '../components/feedback';
import { time } from '../format';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import type { Customer, Token } from '../types';

export function TokenDetailPage() {
  const { params } = useRoute();
  const username = params.username ?? '';
  const { canWrite } = useSession();
  const token = useLoad(() => api<Token>('GET', `/api/v1/tokens/${encodeURIComponent(username)}`), [username]);
  const customerId = token.data?.customer_id;
  const customer = useLoad(() => (customerId ? api<Customer>('GET', `/api/v1/customers/${encodeURIComponent(customerId)}`) : Promise.resolve(null)), [customerId]);

  const change = (action: 'disable' | 'enable' | 'revoke') => async () => {
    token.setData(await api<Token>('POST', `/api/v1/tokens/${encodeURIComponent(username)}/${action}`));
  };

  const t = token.data;
  return (
    <section>
      <p class="crumbs">
        <a href="/tokens">← Token list</a>
      </p>
      <h1>Token {username}</h1>
      <ErrorText error={token.error} />
      {!t && !token.error && <Loading />}
      {t && (
        <>
          <dl class="fields">
            <dt>Name</dt>
            <dd>{t.name}</dd>
            <dt>Type</dt>
            <dd>{t.type}</dd>
            <dt>Customer</dt>
            <dd>{t.customer_id ? <a href={`/customers/${t.customer_id}`}>{customer.data?.name ?? t.customer_id}</a> : '—'}</dd>
            <dt>Status</dt>
            <dd>
              <Status value={t.state} />
            </dd>
            <dt>Scopes</dt>
            <dd>{t.scopes.length ? t.scopes.join(', ') : '—'}</dd>
            <dt>Expires</dt>
            <dd>{t.expires_at ? time(t.expires_at) : 'never'}</dd>
            <dt>Rate limit</dt>
            <dd>{t.rate_limit === null ? 'instance default' : `${t.rate_limit} requests per hour`}</dd>
            <dt>Last used</dt>
            <dd>{t.last_used_at ? `${time(t.last_used_at)}${t.last_used_ip ? ` from ${t.last_used_ip}` : ''}` : 'never'}</dd>
            <dt>Created</dt>
            <dd>
              {time(t.created_at)} by {t.created_by}
            </dd>
          </dl>
          {canWrite && t.status !== 'revoked' && (
            <div class="actions">
              {t.status === 'active' && (
                <ConfirmAction label="Disable" title="Disable this token?" action={change('disable')}>
                  <p>
                    <code>{t.username}</code> stops working at once, until it is enabled again.
                  </p>
                </ConfirmAction>
              )}
              {t.status === 'disabled' && (
                <ConfirmAction label="Enable" title="Enable this token?" action={change('enable')}>
                  <p>
                    <code>{t.username}</code> works again at once.
                  </p>
                </ConfirmAction>
              )}
              <ConfirmAction label="Revoke" title="Revoke this token?" danger action={change('revoke')}>
                <p>
                  <code>{t.username}</code> stops working for good. It stays listed, for the record; this cannot be undone.
                </p>
              </ConfirmAction>
            </div>
          )}
        </>
      )}
    </section>
  );
}
