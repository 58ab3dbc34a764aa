import { invalid } from '../../../core/errors.js';
import type { EventCursor } from '../../../store/store.js';

export interface PageParams {
  limit?: number;
  cursor?: string;
}

export interface PageOf<T> {
  items: T[];
  next_cursor: string | null;
}

export const DEFAULT_PAGE = 100;

const CURSOR_TAG = 'c1 ';

/** Cursors are opaque to clients: base64url of a tag and the last item's sort key (`<time or name> <id>`). */
function encode(key: string): string {
  return Buffer.from(CURSOR_TAG + key, 'utf8').toString('base64url');
}

function decode(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const key = text.slice(CURSOR_TAG.length);
  if (!text.startsWith(CURSOR_TAG) || !key.includes(' ') || encode(key) !== cursor) {
    throw invalid('cursor is not one this API handed out: pass next_cursor from the previous page unchanged', 'cursor');
  }
  return key;
}

/**
 * Keyset pagination over a list read whole (a vendor's tokens, customers…):
 * sorted by a unique key, a page continues strictly after the cursor's key,
 * so inserts and deletes between pages never repeat or skip a survivor.
 */
export function pageByKey<T, R>(all: readonly T[], keyOf: (item: T) => string, params: PageParams, present: (item: T) => R): PageOf<R> {
  const limit = params.limit ?? DEFAULT_PAGE;
  const after = params.cursor === undefined ? undefined : decode(params.cursor);
  const keyed = all.map((item) => ({ item, key: keyOf(item) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rest = after === undefined ? keyed : keyed.filter((k) => k.key > after);
  const page = rest.slice(0, limit);
  const more = rest.length > limit;
  return { items: page.map((k) => present(k.item)), next_cursor: more ? encode(page[page.length - 1]!.key) : null };
}

/** Sort key of objects listed in creation order. */
export const byCreation = (x: { createdAt: Date; id: string }) => `${x.createdAt.toISOString()} ${x.id}`;
/** Sort key of objects listed by their unique name. */
export const byName = (x: { name: string; id: string }) => `${x.name} ${x.id}`;

/** Event listings page in the store itself: the cursor is the last event's (time, id). */
export function eventCursor(params: PageParams): EventCursor | undefined {
  if (params.cursor === undefined) return undefined;
  const key = decode(params.cursor);
  const space = key.indexOf(' ');
  const at = new Date(key.slice(0, space));
  if (space < 0 || Number.isNaN(at.getTime())) throw invalid('cursor is not one this API handed out: pass next_cursor from the previous page unchanged', 'cursor');
  return { at, id: key.slice(space + 1) };
}

/** Reads one more event than the page holds, to know whether another page follows. */
export function eventPage<T extends { at: Date; id: string }, R>(events: readonly T[], limit: number, present: (e: T) => R): PageOf<R> {
  const page = events.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(present), next_cursor: events.length > limit && last ? encode(`${last.at.toISOString()} ${last.id}`) : null };
}
