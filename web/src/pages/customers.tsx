import { FormActions } from '../components/form-actions';
import { PageHead } from '../components/page-head';
import { useState } from 'preact/hooks';
import { api, errorText, listAll } from '../api';
import { Dialog } from '../components/dialog';
import { ErrorText, Status, ListState } from '../components/feedback';
import { Field } from '../components/field';
import { day } from '../format';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import type { Customer } from '../types';

export function CustomersPage() {
  const { canWrite } = useSession();
  const [creating, setCreating] = useState(false);
  const customers = useLoad(() => listAll<Customer>('/api/v1/customers'), []);
  const list = customers.data;
  return (
    <section>
      <PageHead title={'Customers'} action="New customer" onAction={canWrite && (() => setCreating(true))} />
      <ErrorText error={customers.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Contact</th>
              <th>Created</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            <ListState items={list} columns={4} empty={canWrite ? 'No customers yet. Add one with New customer.' : 'No customers yet.'} />
            {list?.map((c) => (
              <tr key={c.id} class={c.deleted_at ? 'revoked' : undefined}>
                <td>
                  <a href={`/customers/${c.id}`}>{c.name}</a>
                </td>
                <td>{c.contact ?? '—'}</td>
                <td>{day(c.created_at)}</td>
                <td>
                  <Status value={c.deleted_at ? 'deleted' : 'active'} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {creating && (
        <CustomerDialog
          onClose={() => setCreating(false)}
          onCreated={(c) => {
            customers.setData((old) => [...(old ?? []), c].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
            setCreating(false);
          }}
        />
      )}
    </section>
  );
}

function CustomerDialog({ onClose, onCreated }: { onClose(): void; onCreated(customer: Customer): void }) {
  const [name, setName] = useState('');
  const [contact, setContact] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onCreated(await api<Customer>('POST', '/api/v1/customers', { name: name.trim(), ...(contact.trim() ? { contact: contact.trim() } : {}) }));
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title="New customer" onClose={onClose}>
      <form onSubmit={submit}>
        <Field label="Name" hint="unique among your customers, e.g. globex" control={(p) => <input {...p} required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />} />
        <Field label="Contact" hint="optional: a person or an e-mail address" control={(p) => <input {...p} maxLength={200} value={contact} onInput={(e) => setContact(e.currentTarget.value)} />} />
        <ErrorText error={error} />
        <FormActions submit="Create" busy={busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
