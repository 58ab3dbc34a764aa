import { FormActions } from '../components/form-actions';
import { CustomerFilter } from '../components/customer-filter';
import { SelectFilter, plainOptions } from '../components/select-filter';
import { PageHead } from '../components/page-head';
import { useEffect, useState } from 'preact/hooks';
import { api, errorText, listAll } from '../api';
import { Dialog } from '../components/dialog';
import { ErrorText, Status, ListState } from '../components/feedback';
import { Field } from '../components/field';
import { PreviewList } from '../components/preview-list';
import { day, splitList } from '../format';
import { useSession } from '../session';
import { useLoad } from '../hooks';
import type { Customer, License, LicensePreview, Plan } from '../types';

export function LicensesPage() {
  const { canWrite } = useSession();
  const [customer, setCustomer] = useState('');
  const [status, setStatus] = useState('');
  const [creating, setCreating] = useState(false);
  const customers = useLoad(() => listAll<Customer>('/api/v1/customers'), []);
  const plans = useLoad(() => listAll<Plan>('/api/v1/plans'), []);
  const licenses = useLoad(() => listAll<License>('/api/v1/licenses', { customer, status }), [customer, status]);
  const filtered = Boolean(customer || status);
  return (
    <section>
      <PageHead title={'Licenses'} action="New license" onAction={canWrite && (() => setCreating(true))} />
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <CustomerFilter value={customer} onChange={setCustomer} customers={customers.data} />
        <SelectFilter label="State" value={status} onChange={setStatus} any="all states" options={plainOptions(['active', 'suspended', 'revoked'])} />
      </form>
      <ErrorText error={licenses.error} />
      <LicenseTable
        licenses={licenses.data}
        customers={customers.data ?? []}
        plans={plans.data ?? []}
        empty={filtered ? 'No licenses match these filters.' : canWrite ? 'No licenses yet. Grant one with New license.' : 'No licenses yet.'}
      />
      {creating && (
        <LicenseDialog
          customers={customers.data ?? []}
          plans={plans.data ?? []}
          onClose={() => setCreating(false)}
          onCreated={(license) => {
            licenses.setData((old) => [...(old ?? []), license]);
            setCreating(false);
          }}
        />
      )}
    </section>
  );
}

/** The window a license is valid in, in words. */
export function validity(l: License): string {
  return `${day(l.valid_from)} → ${l.valid_until ? day(l.valid_until) : 'no end'}`;
}

export function LicenseTable({ licenses, customers, plans, empty, hideCustomer }: { licenses: License[] | undefined; customers: Customer[]; plans: Plan[]; empty: string; hideCustomer?: boolean }) {
  const customerNames = new Map(customers.map((c) => [c.id, c.name]));
  const planNames = new Map(plans.map((p) => [p.id, p.name]));
  const columns = hideCustomer ? 6 : 7;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>License</th>
            {!hideCustomer && <th>Customer</th>}
            <th>Repositories</th>
            <th>Tags</th>
            <th>Valid from</th>
            <th>Valid until</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          <ListState items={licenses} columns={columns} empty={empty} />
          {licenses?.map((l) => (
            <tr key={l.id} class={l.status === 'revoked' ? 'revoked' : undefined}>
              <td>
                <a href={`/licenses/${l.id}`}>{l.name ?? <code>{l.id}</code>}</a>
              </td>
              {!hideCustomer && (
                <td>
                  <a href={`/customers/${l.customer_id}`}>{customerNames.get(l.customer_id) ?? l.customer_id}</a>
                </td>
              )}
              <td>{l.plan_id ? `plan ${planNames.get(l.plan_id) ?? l.plan_id}` : l.repositories.join(', ')}</td>
              <td>{l.tags.length ? l.tags.join(', ') : 'every tag'}</td>
              <td>{day(l.valid_from)}</td>
              <td>{l.valid_until ? day(l.valid_until) : 'no end'}</td>
              <td>
                <Status value={l.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface LicenseDialogProps {
  customers: Customer[];
  plans: Plan[];
  onClose(): void;
  onCreated(license: License): void;
}

function LicenseDialog({ customers, plans, onClose, onCreated }: LicenseDialogProps) {
  const live = customers.filter((c) => !c.deleted_at);
  const [customer, setCustomer] = useState(live[0]?.id ?? '');
  const [name, setName] = useState('');
  const [source, setSource] = useState<'repositories' | 'plan'>('repositories');
  const [repositories, setRepositories] = useState('');
  const [plan, setPlan] = useState(plans[0]?.id ?? '');
  const [tags, setTags] = useState('');
  const [validFrom, setValidFrom] = useState('');
  const [validUntil, setValidUntil] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const patterns = source === 'plan' ? { plan } : { repositories: splitList(repositories.replace(/\s+/g, ',')) };
  const tagList = splitList(tags);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!customer) {
      setError('Choose the customer this license is for.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body = {
        customer,
        ...(name.trim() ? { name: name.trim() } : {}),
        ...patterns,
        ...(tagList.length ? { tags: tagList } : {}),
        ...(validFrom ? { valid_from: validFrom } : {}),
        ...(validUntil ? { valid_until: validUntil } : {}),
      };
      onCreated(await api<License>('POST', '/api/v1/licenses', body));
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <Dialog title="New license" onClose={onClose} wide>
      <form onSubmit={submit} class="license-form">
        <div class="license-fields">
          {live.length === 0 ? (
            <p class="notice">
              There is no customer yet: <a href="/customers">create one</a> first.
            </p>
          ) : (
            <Field
              label="Customer"
              control={(p) => (
                <select {...p} value={customer} required onChange={(e) => setCustomer(e.currentTarget.value)}>
                  {live.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
              )}
            />
          )}
          <Field label="Name" hint="optional, e.g. enterprise 2027" control={(p) => <input {...p} maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />} />
          {plans.length > 0 && (
            <fieldset class="choice">
              <legend>Opens</legend>
              <label class="check">
                <input type="radio" name="source" checked={source === 'repositories'} onChange={() => setSource('repositories')} /> repository patterns
              </label>
              <label class="check">
                <input type="radio" name="source" checked={source === 'plan'} onChange={() => setSource('plan')} /> a plan
              </label>
            </fieldset>
          )}
          {source === 'repositories' ? (
            <Field
              label="Repositories"
              hint="one pattern per line or comma-separated, e.g. acme/web, acme/*, acme/**"
              control={(p) => <textarea {...p} rows={3} required value={repositories} onInput={(e) => setRepositories(e.currentTarget.value)} />}
            />
          ) : (
            <Field
              label="Plan"
              control={(p) => (
                <select {...p} value={plan} onChange={(e) => setPlan(e.currentTarget.value)}>
                  {plans.map((pl) => (
                    <option key={pl.id} value={pl.id}>
                      {pl.name} ({pl.repositories.join(', ')})
                    </option>
                  ))}
                </select>
              )}
            />
          )}
          <Field
            label="Tags"
            hint="comma-separated globs or semver ranges: 1.*, stable, semver:>=1.2.0 <2.0.0; empty: every tag"
            control={(p) => <input {...p} value={tags} onInput={(e) => setTags(e.currentTarget.value)} />}
          />
          <div class="field-row">
            <Field label="Valid from" hint="empty: now" control={(p) => <input {...p} type="date" value={validFrom} onInput={(e) => setValidFrom(e.currentTarget.value)} />} />
            <Field label="Valid until" hint="empty: no end" control={(p) => <input {...p} type="date" value={validUntil} onInput={(e) => setValidUntil(e.currentTarget.value)} />} />
          </div>
          <ErrorText error={error} />
          <FormActions submit="Create" busy={busy} onCancel={onClose} disabled={live.length === 0} />
        </div>
        <LivePreview patterns={patterns} tags={tagList} />
      </form>
    </Dialog>
  );
}

/** What the patterns being typed would open among the existing repositories, asked again shortly after each change. */
function LivePreview({ patterns, tags }: { patterns: { plan: string } | { repositories: string[] }; tags: string[] }) {
  const key = JSON.stringify([patterns, tags]);
  const [preview, setPreview] = useState<LicensePreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const empty = 'repositories' in patterns ? patterns.repositories.length === 0 : !patterns.plan;
  useEffect(() => {
    setError(null);
    if (empty) {
      setPreview(null);
      return;
    }
    let stale = false;
    const timer = setTimeout(() => {
      setBusy(true);
      api<LicensePreview>('POST', '/api/v1/licenses/preview', { ...patterns, tags }).then(
        (answer) => {
          if (stale) return;
          setPreview(answer);
          setBusy(false);
        },
        (err: unknown) => {
          if (stale) return;
          setPreview(null);
          setError(`Preview unavailable: ${errorText(err)}`);
          setBusy(false);
        },
      );
    }, 350);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
    // key stands for patterns and tags, which are new arrays on every render.
  }, [key]);
  return (
    <aside class="preview" aria-live="polite">
      <h3>Preview</h3>
      {empty && <p class="muted">Enter repository patterns to see which repositories and tags this license would open.</p>}
      {!empty && error && <p class="error">{error}</p>}
      {!empty && !error && !preview && <p class="muted">{busy ? 'Looking…' : '…'}</p>}
      {!empty && !error && preview && <PreviewList preview={preview} />}
    </aside>
  );
}
