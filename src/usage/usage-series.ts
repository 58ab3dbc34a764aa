import type { UsageEvent } from '../core/model.js';

export type SeriesBy = 'customer' | 'repository';

export interface PullSeries {
  /** UTC days, oldest first, from the day of `since` to the day of `now`. */
  days: string[];
  /** Busiest first; beyond `maxSeries`, the rest is summed into one `other` series. */
  series: { key: string; label: string; counts: number[] }[];
}

/** Pulls by vendor tokens have no customer; they are charted as their own line. */
export const VENDOR_TOKENS_KEY = 'vendor';
export const OTHER_KEY = 'other';
const DAY_MS = 86_400_000;

const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Pulls per UTC day for each customer or repository, for the dashboard's
 * chart. Pushes are left out: the chart shows what customers take. `labels`
 * names customer ids; an id without a label is shown as itself.
 */
export function pullSeries(
  events: readonly UsageEvent[],
  by: SeriesBy,
  since: Date,
  now: Date,
  labels: ReadonlyMap<string, string>,
  maxSeries = 8,
): PullSeries {
  const first = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate());
  const days: string[] = [];
  for (let t = first; t <= now.getTime(); t += DAY_MS) days.push(dayOf(new Date(t)));
  const index = new Map(days.map((d, i) => [d, i]));
  const counts = new Map<string, number[]>();
  for (const e of events) {
    if (e.action !== 'pull') continue;
    const i = index.get(dayOf(e.at));
    if (i === undefined) continue;
    const key = by === 'repository' ? e.repository : (e.customerId ?? VENDOR_TOKENS_KEY);
    let row = counts.get(key);
    if (!row) counts.set(key, (row = new Array<number>(days.length).fill(0)));
    row[i]!++;
  }
  const total = (row: number[]) => row.reduce((a, b) => a + b, 0);
  const ranked = [...counts.entries()].sort((a, b) => total(b[1]) - total(a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const label = (key: string) => (by === 'repository' ? key : key === VENDOR_TOKENS_KEY ? 'vendor tokens' : (labels.get(key) ?? key));
  const shown = ranked.slice(0, ranked.length > maxSeries ? maxSeries - 1 : maxSeries);
  const series = shown.map(([key, row]) => ({ key, label: label(key), counts: row }));
  const rest = ranked.slice(shown.length);
  if (rest.length > 0) {
    const other = new Array<number>(days.length).fill(0);
    for (const [, row] of rest) row.forEach((n, i) => (other[i]! += n));
    series.push({ key: OTHER_KEY, label: `${rest.length} others`, counts: other });
  }
  return { days, series };
}
