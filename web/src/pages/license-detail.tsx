import { useRoute } from 'preact-iso';
import { api } from '../api';
import { ConfirmAction } from '../components/confirm-action';
import { ErrorText, Loading, Status } from '../components/feedback';
import { PreviewList } from '../components/preview-list';
import { day, time } from '../format';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import type { Customer, License, LicensePreview, Plan } from '../types';

export function LicenseDetailPage() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const { canWrite } = useSession();
  const license = useLoad(() => api<License>('GET', `/api/v1/licenses/${encodeURIComponent(id)}`), [id]);
  const l = license.data;
  const customer = useLoad(() => (l ? api<Customer>('GET', `/api/v1/customers/${encodeURIComponent(l.customer_id)}`) : Promise.resolve(null)), [l?.customer_id]);
  const plan = useLoad(() => (l?.plan_id ? api<Plan>('GET', `/api/v1/plans/${encodeURIComponent(l.plan_id)}`) : Promise.resolve(null)), [l?.plan_id]);
  const opens = useLoad(() => api<LicensePreview>('GET', `/api/v1/licenses/${encodeURIComponent(id)}/preview`), [id, l?.status]);

  const change = (action: 'suspend' | 'resume' | 'revoke') => async () => {
    license.setData(await api<License>('POST', `/api/v1/licenses/${encodeURIComponent(id)}/${action}`));
  };

  return (
    <section>
      <p class="crumbs">
        <a href="/licenses">← License list</a>
      </p>
      <h1>License {l?.name ?? id}</h1>
      <ErrorText error={license.error} />
      {!l && !license.error && <Loading />}
      {l && (
        <>
          <dl class="fields">
            <dt>Id</dt>
            <dd>
              <code>{l.id}</code>
            </dd>
            <dt>Customer</dt>
            <dd>
              <a href={`/customers/${l.customer_id}`}>{customer.data?.name ?? l.customer_id}</a>
            </dd>
            <dt>Repositories</dt>
            <dd>{l.plan_id ? `plan ${plan.data?.name ?? l.plan_id}: ${plan.data?.repositories.join(', ') ?? ''}` : l.repositories.join(', ')}</dd>
            <dt>Tags</dt>
            <dd>{l.tags.length ? l.tags.join(', ') : 'every tag'}</dd>
            <dt>Valid from</dt>
            <dd>{time(l.valid_from)}</dd>
            <dt>Valid until</dt>
            <dd>{l.valid_until ? time(l.valid_until) : 'no end'}</dd>
            <dt>Status</dt>
            <dd>
              <Status value={l.status} />
            </dd>
            <dt>Created</dt>
            <dd>{day(l.created_at)}</dd>
          </dl>
          {canWrite && l.status !== 'revoked' && (
            <div class="actions">
              {l.status === 'active' && (
                <ConfirmAction label="Suspend" title="Suspend this license?" action={change('suspend')}>
                  <p>The license opens nothing until it is resumed; the customer's pulls it covered are refused at once.</p>
                </ConfirmAction>
              )}
              {l.status === 'suspended' && (
                <ConfirmAction label="Resume" title="Resume this license?" action={change('resume')}>
                  <p>The license opens its repositories again, within its dates.</p>
                </ConfirmAction>
              )}
              <ConfirmAction label="Revoke" title="Revoke this license?" danger action={change('revoke')}>
                <p>The license ends for good. It stays listed, for the record; this cannot be undone.</p>
              </ConfirmAction>
            </div>
          )}
          <h2>What it opens</h2>
          {opens.error ? <p class="muted">Cannot tell: {opens.error}</p> : opens.data ? <PreviewList preview={opens.data} /> : <Loading />}
        </>
      )}
    </section>
  );
}
