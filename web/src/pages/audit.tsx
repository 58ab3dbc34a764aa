import { useState } from 'preact/hooks';
import { api, errorText, query } from '../api';
import { ErrorText, ListState } from '../components/feedback';
import { time } from '../format';
import { useLoad } from '../hooks';
import type { AuditEvent, Page } from '../types';

const PAGE = 50;

/** Where an audit event's object lives in the dashboard, if it has a page. */
function objectLink(e: AuditEvent): string | null {
  if (e.object_type === 'token') return `/tokens/${e.object_id}`;
  if (e.object_type === 'customer') return `/customers/${e.object_id}`;
  if (e.object_type === 'license') return `/licenses/${e.object_id}`;
  return null;
}

function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ');
}

export function AuditPage() {
  const first = useLoad(() => api<Page<AuditEvent>>('GET', `/api/v1/audit${query({ limit: PAGE })}`), []);
  const [more, setMore] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = cursor === undefined ? first.data?.next_cursor : cursor;
  const events = first.data ? [...first.data.items, ...more] : undefined;

  const loadMore = async () => {
    if (!next) return;
    setBusy(true);
    setError(null);
    try {
      const page = await api<Page<AuditEvent>>('GET', `/api/v1/audit${query({ limit: PAGE, cursor: next })}`);
      setMore((old) => [...old, ...page.items]);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>Audit</h1>
      <ErrorText error={first.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Object</th>
              <th>Source</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            <ListState items={events} failed={first.error} columns={6} empty="Nothing has happened yet: changes to tokens, customers, licenses and users will be listed here." />
            {events?.map((e) => {
              const link = objectLink(e);
              return (
                <tr key={e.id}>
                  <td>{time(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td>
                    {e.object_type}{' '}
                    {link ? (
                      <a href={link}>
                        <code>{e.object_id}</code>
                      </a>
                    ) : (
                      <code>{e.object_id}</code>
                    )}
                  </td>
                  <td>{e.source}</td>
                  <td class="detail">{detailText(e.detail)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <ErrorText error={error} />
      {next && (
        <div class="actions">
          <button type="button" class="secondary" disabled={busy} onClick={loadMore}>
            Load more
          </button>
        </div>
      )}
    </section>
  );
}
