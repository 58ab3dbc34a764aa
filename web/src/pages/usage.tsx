import { useState } from 'preact/hooks';
import { api, listAll, query } from '../api';
import { ErrorText, Loading, ListState } from '../components/feedback';
import { PullChart } from '../components/pull-chart';
import { time } from '../format';
import { useLoad } from '../hooks';
import type { Customer, Page, UsageCount, UsageEvent, UsageSeries } from '../types';

const RANGES = ['7d', '30d', '90d'] as const;

export function UsagePage() {
  const [by, setBy] = useState<'customer' | 'repository'>('customer');
  const [since, setSince] = useState<(typeof RANGES)[number]>('30d');
  const customers = useLoad(() => listAll<Customer>('/api/v1/customers'), []);
  const series = useLoad(() => api<UsageSeries>('GET', `/api/v1/usage/series${query({ by, since })}`), [by, since]);
  const counts = useLoad(() => api<{ counts: UsageCount[] }>('GET', `/api/v1/usage${query({ since })}`), [since]);
  const events = useLoad(() => api<Page<UsageEvent>>('GET', `/api/v1/usage/events${query({ since, limit: 50 })}`), [since]);
  const names = new Map((customers.data ?? []).map((c) => [c.id, c.name]));
  const top = (counts.data?.counts ?? [])
    .filter((c) => c.pulls > 0)
    .sort((a, b) => b.pulls - a.pulls)
    .slice(0, 10);
  const hasPulls = series.data?.series.some((s) => s.counts.some((n) => n > 0));

  return (
    <section>
      <div class="page-head">
        <h1>Usage</h1>
        <a class="button secondary" href={`/api/v1/usage/events${query({ format: 'csv', since })}`} download="usage.csv">
          Export CSV
        </a>
      </div>
      <div class="filters">
        <fieldset class="segmented">
          <legend>Chart</legend>
          <label class="check">
            <input type="radio" name="by" checked={by === 'customer'} onChange={() => setBy('customer')} /> per customer
          </label>
          <label class="check">
            <input type="radio" name="by" checked={by === 'repository'} onChange={() => setBy('repository')} /> per repository
          </label>
        </fieldset>
        <fieldset class="segmented">
          <legend>Range</legend>
          {RANGES.map((r) => (
            <label class="check" key={r}>
              <input type="radio" name="since" checked={since === r} onChange={() => setSince(r)} /> last {r.replace('d', ' days')}
            </label>
          ))}
        </fieldset>
      </div>

      <h2>Pulls per day</h2>
      {series.error ? (
        <ErrorText error={`The chart could not be loaded: ${series.error}`} />
      ) : !series.data ? (
        <Loading />
      ) : hasPulls ? (
        <PullChart data={series.data} />
      ) : (
        <p class="empty-note">No pulls in this range yet.</p>
      )}

      <h2>Top tags</h2>
      <ErrorText error={counts.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Repository</th>
              <th>Tag</th>
              <th>Pulls</th>
              <th>Last pull or push</th>
            </tr>
          </thead>
          <tbody>
            <ListState items={counts.data ? top : undefined} failed={counts.error} columns={4} empty="No pulls in this range yet." />
            {top.map((c) => (
              <tr key={`${c.repository}:${c.tag ?? ''}`}>
                <td>
                  <code>{c.repository}</code>
                </td>
                <td>{c.tag ?? <span class="muted">by digest</span>}</td>
                <td class="num">{c.pulls}</td>
                <td>{time(c.last_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2>Last pulls</h2>
      <ErrorText error={events.error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Time</th>
              <th>Action</th>
              <th>Customer</th>
              <th>Token</th>
              <th>Repository</th>
              <th>Tag</th>
              <th>Address</th>
              <th>Client</th>
            </tr>
          </thead>
          <tbody>
            <ListState items={events.data?.items} failed={events.error} columns={8} empty="No pulls in this range yet." />
            {events.data?.items.map((e) => (
              <tr key={e.id}>
                <td>{time(e.at)}</td>
                <td>{e.action}</td>
                <td>{e.customer_id ? <a href={`/customers/${e.customer_id}`}>{names.get(e.customer_id) ?? e.customer_id}</a> : <span class="muted">vendor</span>}</td>
                <td>
                  <a href={`/tokens/${e.token}`}>
                    <code>{e.token}</code>
                  </a>
                </td>
                <td>
                  <code>{e.repository}</code>
                </td>
                <td>{e.tag ?? <code title={e.digest}>{e.digest.slice(0, 19)}…</code>}</td>
                <td>{e.ip}</td>
                <td class="agent" title={e.user_agent}>
                  {e.user_agent || '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
