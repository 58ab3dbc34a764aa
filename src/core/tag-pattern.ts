import semver from 'semver';
import { invalid } from './errors.js';
import { stringGlob } from './glob.js';
import { quote } from './text.js';

/**
 * Tag patterns on licenses: globs over tag characters (`1.*`, `v2.?`) or
 * semver ranges (`semver:^1.4`) for vendors whose tags are versions.
 */

const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const GLOB_CHAR_RE = /^[a-zA-Z0-9._*?-]+$/;
const SEMVER_PREFIX = 'semver:';
const MAX_PATTERN_LENGTH = 256;
const CACHE_LIMIT = 1000;
// Prereleases count as inside a range: 1.5.0-rc.1 is within >=1.2.0 <2.0.0.
const RANGE_OPTIONS = { includePrerelease: true } as const;

export function isValidTag(tag: string): boolean {
  return typeof tag === 'string' && TAG_RE.test(tag);
}

function parseRange(range: string, pattern: string, field: string): semver.Range {
  const bad = (why: string) => invalid(`bad semver range ${quote(range)} in tag pattern ${quote(pattern)}: ${why}`, field);
  if (range === '') throw bad('the range is empty, expected something like semver:^1.4 or semver:>=1.2.0 <2.0.0');
  // semver reads ">=x" as "any version"; that is almost surely a typo, so refuse it.
  if (/(?:[<>=~^]|~>)\s*[xX*](?:$|[\s.])/.test(range)) throw bad('a wildcard after an operator matches every version');
  if (semver.validRange(range, RANGE_OPTIONS) === null) {
    throw bad('expected a range like ^1.4, ~2.0 or >=1.2.0 <2.0.0');
  }
  return new semver.Range(range, RANGE_OPTIONS);
}

type Matcher = (tag: string) => boolean;

function compile(p: string, field: string): { normalized: string; matcher: Matcher } {
  const t = p.trim();
  const bad = (why: string) => invalid(`bad tag pattern ${quote(t)}: ${why}`, field);
  if (t === '') throw bad('empty pattern, expected a glob like 1.* or a range like semver:^1.4');
  if (t.length > MAX_PATTERN_LENGTH) throw bad(`longer than ${MAX_PATTERN_LENGTH} characters`);

  if (t.toLowerCase().startsWith(SEMVER_PREFIX)) {
    const rangeText = t.slice(SEMVER_PREFIX.length).trim();
    const range = parseRange(rangeText, t, field);
    const normalized = SEMVER_PREFIX + rangeText;
    return {
      normalized,
      matcher: (tag) => {
        // semver.parse already accepts a leading "v", as in v1.2.3.
        const version = semver.parse(tag);
        return version !== null && range.test(version);
      },
    };
  }

  if (!GLOB_CHAR_RE.test(t)) {
    throw bad('only letters, digits, ".", "_", "-" and the wildcards * and ? are allowed (or semver:<range>)');
  }
  // Not a RegExp: `1*1*1*1*1*1*x` would backtrack exponentially against a long tag of ones.
  return { normalized: t, matcher: stringGlob(t, '?') };
}

const cache = new Map<string, Matcher>();

function compiled(p: string): Matcher {
  const hit = cache.get(p);
  if (hit) return hit;
  const { matcher } = compile(p, 'tag pattern');
  // Oldest-first eviction is enough: the working set of patterns is small and stable.
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(p, matcher);
  return matcher;
}

/** Returns the normalized (trimmed) pattern, or throws saying what is wrong with it. */
export function validateTagPattern(p: string, field = 'tag pattern'): string {
  return compile(p, field).normalized;
}

/** Throws invalid() for a bad pattern; a tag that is not a valid tag never matches. */
export function matchesTagPattern(p: string, tag: string): boolean {
  const matcher = compiled(p);
  return isValidTag(tag) && matcher(tag);
}

/** An empty list allows every tag: a license without tag patterns covers the whole repository. */
export function matchesAnyTagPattern(patterns: readonly string[], tag: string): boolean {
  return patterns.length === 0 || patterns.some((p) => matchesTagPattern(p, tag));
}

/** Human text for deny reasons, as in "tag 2.0 is outside 1.*, semver:^2". */
export function describeTagPatterns(patterns: readonly string[]): string {
  return patterns.length === 0 ? 'any tag' : patterns.map((p) => p.trim()).join(', ');
}
