import { invalid } from './errors.js';
import { addDuration, daysInMonth, parseDuration } from './duration.js';
import { quote } from './text.js';

/**
 * Expiry input as people type it: a duration from now (`30d`), a calendar day
 * (`2026-12-31`, midnight UTC) or an exact RFC 3339 time.
 */

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;

const EXPECTED_DATE = 'expected YYYY-MM-DD (like 2026-12-31) or an RFC 3339 time with Z or an offset (like 2026-12-31T23:59:59Z)';
const EXPECTED_EXPIRY =
  'expected a duration (like 30d or 2w3d), a date (like 2026-12-31), an RFC 3339 time (like 2026-12-31T23:59:59Z) or never';

/** Parses an absolute date or time; used for expiry and license validity bounds. */
export function parseDate(input: string, field: string): Date {
  const t = input.trim();
  const bad = (why: string) => invalid(`bad date ${quote(t)}: ${why}`, field);
  const dateOnly = DATE_RE.exec(t);
  const stamp = dateOnly ? null : TIMESTAMP_RE.exec(t);
  const m = dateOnly ?? stamp;
  if (!m) throw bad(EXPECTED_DATE);

  const [, ys = '', mos = '', ds = '', hs = '0', mins = '0', ss = '0', frac = '', zulu, sign, ohs = '0', omins = '0'] = m;
  if (stamp && !zulu && !sign) throw bad('add Z or an offset like +02:00 so the time zone is clear');
  const [year, month, day, hour, minute, second] = [ys, mos, ds, hs, mins, ss].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) throw bad(`month ${mos} does not exist`);
  if (day < 1 || day > daysInMonth(year, month - 1)) throw bad(`day ${ds} does not exist in ${ys}-${mos}`);
  if (hour > 23 || minute > 59 || second > 59) throw bad(`time ${hs}:${mins}:${ss} does not exist`);
  const offsetHours = Number(ohs);
  const offsetMinutes = Number(omins);
  if (offsetHours > 23 || offsetMinutes > 59) throw bad(`offset ${sign}${ohs}:${omins} does not exist`);

  // setUTCFullYear rather than Date.UTC: the latter maps years 0-99 to 19xx.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(frac.padEnd(3, '0').slice(0, 3)));
  const offsetMs = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return new Date(date.getTime() - offsetMs);
}

/** Input that starts like a calendar date is parsed as one, never as a duration. */
export function looksLikeDate(input: string): boolean {
  return /^\d{4}-/.test(input.trim());
}

/**
 * Parses the end of something: a date or time, or a duration counted from
 * `base`; empty, `0` or `never` mean no end (null). Token expiry counts from
 * now, a license's end from its start.
 */
export function parseEnd(input: string, base: Date, field: string): Date | null {
  const t = input.trim();
  if (t === '' || t === '0' || t.toLowerCase() === 'never') return null;
  if (looksLikeDate(t)) return parseDate(t, field);
  if (/^[+-]?\d[\d\sa-zA-Z.,]*$/.test(t)) {
    // Looks like a duration, so its more specific complaint is the useful one.
    const d = parseDuration(t, field);
    return d === null ? null : addDuration(base, d);
  }
  throw invalid(`bad expiry ${quote(t)}: ${EXPECTED_EXPIRY}`, field);
}

/**
 * Parses an expiry; null means the thing never expires. Anything that does
 * not end strictly after `now` is rejected so nobody creates a dead token.
 */
export function parseExpiry(input: string, now: Date, field = 'expires'): Date | null {
  const at = parseEnd(input, now, field);
  if (at === null) return null;
  const t = input.trim();
  if (at.getTime() <= now.getTime()) {
    throw invalid(`expiry ${quote(t)} is in the past (now is ${now.toISOString()})`, field);
  }
  return at;
}
