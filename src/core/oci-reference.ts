import { invalid } from './errors.js';
import { isValidDigest } from './oci-manifest.js';
import { isValidRepositoryName } from './repo-pattern.js';
import { isValidTag } from './tag-pattern.js';
import { quote } from './text.js';

/** References, `/v2/` routes and list pagination of the OCI Distribution Spec. */

export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string };

/** A tag never holds ':', a digest always does: that is how the spec tells them apart. */
export function parseReference(ref: string): Reference {
  if (ref.includes(':')) {
    if (!isValidDigest(ref)) {
      throw invalid(`bad digest ${quote(ref)}: expected sha256: followed by 64 lower-case hex digits`, 'digest');
    }
    return { kind: 'digest', digest: ref };
  }
  if (!isValidTag(ref)) {
    throw invalid(
      `bad tag ${quote(ref)}: up to 128 letters, digits, ".", "_" or "-", not starting with "." or "-"`,
      'tag',
    );
  }
  return { kind: 'tag', tag: ref };
}

export type V2Route =
  | { route: 'base' }
  | { route: 'catalog' }
  | { route: 'tags'; name: string }
  | { route: 'manifest'; name: string; reference: string }
  | { route: 'blob'; name: string; digest: string }
  | { route: 'uploads'; name: string }
  | { route: 'upload'; name: string; id: string }
  | { route: 'referrers'; name: string; digest: string }
  | { route: 'invalid-name'; name: string };

type Named = Exclude<V2Route, { route: 'base' | 'catalog' | 'invalid-name' }>;

/**
 * Names hold slashes and may even hold a component such as `blobs`, so the route
 * is read from the right; whatever is left is the name. Patterns are tried from
 * the most specific, so `x/blobs/uploads` is an upload start, not blob "uploads".
 */
function matchSuffix(s: readonly string[]): { nameLength: number; make: (name: string) => Named } | undefined {
  const n = s.length;
  const at = (i: number) => s[n - i];
  if (at(2) === 'tags' && at(1) === 'list') return { nameLength: n - 2, make: (name) => ({ route: 'tags', name }) };
  if (at(2) === 'manifests') {
    const reference = at(1) ?? '';
    return { nameLength: n - 2, make: (name) => ({ route: 'manifest', name, reference }) };
  }
  if (at(2) === 'blobs' && at(1) === 'uploads') return { nameLength: n - 2, make: (name) => ({ route: 'uploads', name }) };
  if (at(3) === 'blobs' && at(2) === 'uploads') {
    const id = at(1) ?? '';
    return { nameLength: n - 3, make: (name) => ({ route: 'upload', name, id }) };
  }
  if (at(2) === 'blobs') {
    const digest = at(1) ?? '';
    return { nameLength: n - 2, make: (name) => ({ route: 'blob', name, digest }) };
  }
  if (at(2) === 'referrers') {
    const digest = at(1) ?? '';
    return { nameLength: n - 2, make: (name) => ({ route: 'referrers', name, digest }) };
  }
  return undefined;
}

/**
 * Routes the path after `/v2/` (already percent-decoded, without the query).
 * undefined means no route: the caller answers 404. A name that is not a valid
 * repository name gives `invalid-name`, for NAME_INVALID.
 */
export function parseV2Path(path: string): V2Route | undefined {
  if (path === '') return { route: 'base' };
  if (path === '_catalog') return { route: 'catalog' };
  // The upload-start route is the one place a trailing slash is usual (`/blobs/uploads/`).
  const trimmed = path.endsWith('/blobs/uploads/') ? path.slice(0, -1) : path;
  const segments = trimmed.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;

  const match = matchSuffix(segments);
  if (!match || match.nameLength < 1) return undefined;
  const name = segments.slice(0, match.nameLength).join('/');
  if (!isValidRepositoryName(name)) return { route: 'invalid-name', name };
  return match.make(name);
}

export interface PageParams {
  n: number | undefined;
  last: string | undefined;
}

export interface Page {
  items: string[];
  next?: { n: number; last: string };
}

/**
 * Reads `?n=&last=`. An `n` above maxN is lowered to it rather than refused: the
 * spec lets a registry return fewer than asked, and the Link header carries on.
 */
export function parsePageParams(query: { n?: string; last?: string }, maxN = 1000): PageParams {
  let n: number | undefined;
  if (query.n !== undefined) {
    if (!/^[0-9]+$/.test(query.n)) throw invalid(`bad page size n=${quote(query.n)}: expected a whole number 0 or more`, 'n');
    n = Math.min(Number(query.n), maxN);
  }
  const last = query.last === undefined || query.last === '' ? undefined : query.last;
  return { n, last };
}

/**
 * One page of a sorted list: the items after `last`, at most `n`. `n = 0` gives an
 * empty list and no next link, so a client cannot loop on it.
 */
export function paginate(sortedItems: readonly string[], page: PageParams): Page {
  const { last } = page;
  const after = last === undefined ? [...sortedItems] : sortedItems.filter((item) => item > last);
  if (page.n === undefined) return { items: after };
  if (page.n === 0) return { items: [] };
  const items = after.slice(0, page.n);
  const lastItem = items[items.length - 1];
  if (after.length <= page.n || lastItem === undefined) return { items };
  return { items, next: { n: page.n, last: lastItem } };
}

/** `</v2/acme/app/tags/list?n=10&last=1.2>; rel="next"` for the given path. */
export function linkHeader(pathWithoutQuery: string, next: { n: number; last: string }): string {
  return `<${pathWithoutQuery}?n=${next.n}&last=${encodeURIComponent(next.last)}>; rel="next"`;
}
