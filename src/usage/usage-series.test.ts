import { describe, expect, it } from 'vitest';
import type { UsageEvent } from '../core/model.js';
import { pullSeries } from './usage-series.js';

let n = 0;
function event(at: string, repository: string, customerId: string | null, action: 'pull' | 'push' = 'pull'): UsageEvent {
  return { id: `e${n++}`, at: new Date(at), vendorId: 'ven_1', tokenId: 'ctok_1', customerId, action, repository, tag: '1.0', digest: 'sha256:0', ip: '127.0.0.1', userAgent: 'skopeo' };
}

const since = new Date('2026-11-01T15:00:00Z');
const now = new Date('2026-11-04T08:00:00Z');
const events = [
  event('2026-11-01T16:00:00Z', 'acme/app', 'cus_a'),
  event('2026-11-02T00:00:00Z', 'acme/app', 'cus_a'),
  event('2026-11-02T23:59:59Z', 'acme/db', 'cus_b'),
  event('2026-11-04T07:00:00Z', 'acme/db', null),
  event('2026-11-03T10:00:00Z', 'acme/db', 'cus_b', 'push'),
  event('2026-10-20T10:00:00Z', 'acme/db', 'cus_b'),
];
const labels = new Map([['cus_a', 'Globex'], ['cus_b', 'Initech']]);

describe('pullSeries', () => {
  it('counts pulls per UTC day for each customer, with names, busiest first, pushes and outside days left out', () => {
    const s = pullSeries(events, 'customer', since, now, labels);
    expect(s.days).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04']);
    expect(s.series).toEqual([
      { key: 'cus_a', label: 'Globex', counts: [1, 1, 0, 0] },
      { key: 'cus_b', label: 'Initech', counts: [0, 1, 0, 0] },
      { key: 'vendor', label: 'vendor tokens', counts: [0, 0, 0, 1] },
    ]);
  });

  it('counts per repository', () => {
    const s = pullSeries(events, 'repository', since, now, labels);
    expect(s.series).toEqual([
      { key: 'acme/app', label: 'acme/app', counts: [1, 1, 0, 0] },
      { key: 'acme/db', label: 'acme/db', counts: [0, 1, 0, 1] },
    ]);
  });

  it('folds the quiet ones into one series past the maximum', () => {
    const many = ['r1', 'r2', 'r3', 'r4'].flatMap((r, i) => Array.from({ length: 4 - i }, () => event('2026-11-02T12:00:00Z', `acme/${r}`, null)));
    const s = pullSeries(many, 'repository', since, now, labels, 3);
    expect(s.series.map((x) => [x.key, x.counts[1]])).toEqual([
      ['acme/r1', 4],
      ['acme/r2', 3],
      ['other', 3],
    ]);
    expect(s.series[2]?.label).toBe('2 others');
  });

  it('has no series without pulls, and still every day', () => {
    expect(pullSeries([], 'customer', since, now, labels)).toEqual({ days: ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'], series: [] });
  });
});
