import { invalid } from './errors.js';
import { quote } from './text.js';

/**
 * Scopes on vendor tokens: registry access (`pull`, `push`) and admin API
 * access per area (`admin:<area>:<read|write|*>`, `*` for every area).
 */

export const ADMIN_AREAS = [
  'tokens',
  'customers',
  'licenses',
  'plans',
  'users',
  'vendors',
  'audit',
  'usage',
  'config',
  'status',
  'metrics',
] as const;

export type AdminArea = (typeof ADMIN_AREAS)[number];
export type AdminAccess = 'read' | 'write';
export type Scope = string;

export const DEFAULT_VENDOR_SCOPES: readonly Scope[] = ['pull', 'push'];
export const CUSTOMER_SCOPES: readonly Scope[] = ['pull'];

const ACCESS_LEVELS = ['read', 'write', '*'] as const;
const VALID_FORMS = `pull, push or admin:<area>:<read|write|*> with area one of ${ADMIN_AREAS.join(', ')} or *`;

function isAdminArea(s: string): boolean {
  return s === '*' || (ADMIN_AREAS as readonly string[]).includes(s);
}

function isAccessLevel(s: string): boolean {
  return (ACCESS_LEVELS as readonly string[]).includes(s);
}

/** Canonical (lower-case) scope, or throws naming the valid forms. */
function canonicalScope(raw: string, field: string): Scope {
  const s = raw.toLowerCase();
  if (s === 'pull' || s === 'push') return s;
  const parts = s.split(':');
  if (parts.length === 3 && parts[0] === 'admin') {
    const [, area = '', access = ''] = parts;
    if (!isAdminArea(area)) {
      throw invalid(`unknown admin area ${quote(area)} in scope ${quote(raw)}: expected one of ${ADMIN_AREAS.join(', ')} or *`, field);
    }
    if (!isAccessLevel(access)) {
      throw invalid(`unknown access ${quote(access)} in scope ${quote(raw)}: expected read, write or *`, field);
    }
    return s;
  }
  throw invalid(`unknown scope ${quote(raw)}: expected ${VALID_FORMS}`, field);
}

function scopeRank(s: Scope): number {
  return s === 'pull' ? 0 : s === 'push' ? 1 : 2;
}

function compareScopes(a: Scope, b: Scope): number {
  return scopeRank(a) - scopeRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function splitEntries(text: string, field: string): string[] {
  if (text.trim() === '') return [];
  return text.split(',').flatMap((chunk) => {
    const words = chunk.trim().split(/\s+/);
    if (words.length === 1 && words[0] === '') {
      throw invalid(`empty entry in scopes ${quote(text)}: remove the extra comma`, field);
    }
    return words;
  });
}

/**
 * Parses scopes from text (`pull, push admin:tokens:read`) or a list whose
 * items may themselves hold several scopes. Empty input gives an empty list,
 * so the caller decides the default.
 */
export function parseScopeList(input: string | readonly string[], field = 'scopes'): Scope[] {
  const entries =
    typeof input === 'string'
      ? splitEntries(input, field)
      : input.flatMap((item) => {
          if (item.trim() === '') throw invalid('empty entry in scopes: every item must name a scope', field);
          return splitEntries(item, field);
        });
  const unique = new Set(entries.map((e) => canonicalScope(e, field)));
  return [...unique].sort(compareScopes);
}

function covers(grantedPart: string, wantedPart: string): boolean {
  return grantedPart === '*' || grantedPart === wantedPart;
}

function accessCovers(granted: string, wanted: string): boolean {
  // Write implies read: whoever may change an area may also look at it.
  return covers(granted, wanted) || (granted === 'write' && wanted === 'read');
}

/**
 * True if the granted scopes allow `wanted` (`pull`, `push` or
 * `admin:<area>:<read|write>`). Throws Error for a malformed `wanted`, which
 * is always a programming mistake.
 */
export function hasScope(granted: readonly Scope[], wanted: Scope): boolean {
  if (wanted === 'pull' || wanted === 'push') return granted.includes(wanted);
  const want = wanted.split(':');
  const [prefix, area = '', access = ''] = want;
  if (want.length !== 3 || prefix !== 'admin' || !isAdminArea(area) || !isAccessLevel(access)) {
    throw new Error(`hasScope: malformed wanted scope ${quote(wanted)}`);
  }
  return granted.some((g) => {
    const have = g.split(':');
    if (have.length !== 3 || have[0] !== 'admin') return false;
    return covers(have[1] ?? '', area) && accessCovers(have[2] ?? '', access);
  });
}
