import type { UsageEvent } from '../core/model.js';

/** Pulls and pushes of one repository and tag; tag null counts the pulls/pushes by digest alone. */
export interface UsageCount {
  repository: string;
  tag: string | null;
  pulls: number;
  pushes: number;
  lastAt: Date;
}

// Code-unit order, not locale order: the same rows come out in the same order on every machine.
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Sorted by repository, then tag; the digest-only row (tag null) last within its repository. */
export function countUsage(events: readonly UsageEvent[]): UsageCount[] {
  const rows = new Map<string, UsageCount>();
  for (const e of events) {
    // JSON of the pair: no separator character can make two different pairs collide.
    const key = JSON.stringify([e.repository, e.tag]);
    let row = rows.get(key);
    if (!row) {
      row = { repository: e.repository, tag: e.tag, pulls: 0, pushes: 0, lastAt: e.at };
      rows.set(key, row);
    }
    if (e.action === 'push') row.pushes++;
    else row.pulls++;
    if (e.at > row.lastAt) row.lastAt = e.at;
  }
  return [...rows.values()].sort((a, b) => {
    if (a.repository !== b.repository) return byText(a.repository, b.repository);
    if (a.tag === null || b.tag === null) return a.tag === b.tag ? 0 : a.tag === null ? 1 : -1;
    return byText(a.tag, b.tag);
  });
}

export function presentUsageCount(c: UsageCount) {
  return { repository: c.repository, tag: c.tag, pulls: c.pulls, pushes: c.pushes, last_at: c.lastAt.toISOString() };
}

/** The JSON shape of one event: snake_case, ISO time; vendor_id left out, the caller is that vendor. */
export function presentUsage(e: UsageEvent) {
  return {
    id: e.id,
    at: e.at.toISOString(),
    action: e.action,
    repository: e.repository,
    tag: e.tag,
    digest: e.digest,
    token: e.tokenId,
    customer_id: e.customerId,
    ip: e.ip,
    user_agent: e.userAgent,
  };
}

export const USAGE_CSV_HEADER = ['at', 'action', 'repository', 'tag', 'digest', 'token', 'customer', 'ip', 'user_agent'] as const;

/**
 * One CSV field (RFC 4180). User agents and tags come from clients, and the
 * file is meant for spreadsheets: a value a spreadsheet would run as a formula
 * gets a leading `'` (the OWASP CSV-injection set: = + - @, tab, CR).
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Raw events as CSV with a header row; CRLF line ends, as RFC 4180 has them. */
export function usageCsv(events: readonly UsageEvent[]): string {
  const rows = events.map((e) => [e.at.toISOString(), e.action, e.repository, e.tag, e.digest, e.tokenId, e.customerId, e.ip, e.userAgent]);
  return [USAGE_CSV_HEADER, ...rows].map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}
