import { invalid } from './errors.js';
import { globMatch, stringGlob } from './glob.js';
import { quote } from './text.js';

/**
 * OCI repository names and the glob patterns licenses and plans use to name
 * sets of them. `*` stays inside one path segment; `**` spans whole segments.
 */

const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 255;
const PATTERN_CHAR_RE = /^[a-z0-9._*-]*$/;
const CACHE_LIMIT = 1000;

/** Why a name is not a valid repository name, or null when it is. */
function repositoryNameProblem(name: string): string | null {
  if (name === '') return 'empty';
  if (name.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`;
  if (/[A-Z]/.test(name)) return 'repository names are lower case';
  if (!/^[a-z0-9._/-]+$/.test(name)) return 'only a-z, 0-9, ".", "_", "-" and "/" are allowed';
  for (const component of name.split('/')) {
    if (component === '') return 'empty path component (leading, trailing or double "/")';
    if (!COMPONENT_RE.test(component)) {
      return /^[a-z0-9].*[a-z0-9]$|^[a-z0-9]$/.test(component)
        ? `path component ${quote(component)} has a bad separator: use ".", "_", "__" or dashes between letters and digits`
        : `path component ${quote(component)} must start and end with a letter or digit`;
    }
  }
  return null;
}

export function isValidRepositoryName(name: string): boolean {
  return typeof name === 'string' && repositoryNameProblem(name) === null;
}

/** Returns the trimmed name, or throws saying what is wrong with it. */
export function validateRepositoryName(name: string, field = 'repository'): string {
  const t = name.trim();
  const problem = repositoryNameProblem(t);
  if (problem !== null) throw invalid(`bad repository name ${quote(t)}: ${problem}`, field);
  return t;
}

function patternProblem(p: string): string | null {
  if (p === '') return 'empty pattern, expected something like acme/* or acme/**';
  if (/[A-Z]/.test(p)) return 'repository patterns are lower case';
  for (const segment of p.split('/')) {
    if (segment === '') return 'empty segment (leading, trailing or double "/")';
    if (segment === '**') continue;
    if (segment.includes('**')) return '"**" must be a whole segment, like acme/** or **/base';
    if (!PATTERN_CHAR_RE.test(segment)) {
      return 'only a-z, 0-9, ".", "_", "-", "/" and the wildcards * and ** are allowed';
    }
  }
  return null;
}

/** Returns the trimmed pattern, or throws saying what is wrong with it. */
export function validateRepoPattern(p: string, field = 'repository pattern'): string {
  const t = p.trim();
  const problem = patternProblem(t);
  if (problem !== null) throw invalid(`bad repository pattern ${quote(t)}: ${problem}`, field);
  return t;
}

/** `**`: any number of whole segments, none included. */
const GLOBSTAR = Symbol('**');
type Segment = typeof GLOBSTAR | ((segment: string) => boolean);

const cache = new Map<string, (repo: string) => boolean>();

function remember<T>(map: Map<string, T>, key: string, value: T): T {
  // Oldest-first eviction is enough: the working set of patterns is small and stable.
  if (map.size >= CACHE_LIMIT) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
  return value;
}

/** Compiles a pattern once; throws invalid() for a bad pattern. */
export function compileRepoPattern(p: string): (repo: string) => boolean {
  const cached = cache.get(p);
  if (cached) return cached;
  // Segment by segment with globMatch rather than one RegExp, which backtracks exponentially on `a*a*a*…` or `**/a/**/a/…`.
  const segments: Segment[] = validateRepoPattern(p)
    .split('/')
    .map((s) => (s === '**' ? GLOBSTAR : stringGlob(s)));
  return remember(cache, p, (repo: string) =>
    globMatch(
      segments,
      repo.split('/'),
      (s) => s === GLOBSTAR,
      (s, segment) => s !== GLOBSTAR && s(segment),
    ),
  );
}

export function matchesRepoPattern(p: string, repo: string): boolean {
  return compileRepoPattern(p)(repo);
}

export function matchesAnyRepoPattern(patterns: readonly string[], repo: string): boolean {
  return patterns.some((p) => matchesRepoPattern(p, repo));
}
