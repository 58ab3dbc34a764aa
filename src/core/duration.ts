import { invalid } from './errors.js';
import { quote } from './text.js';

/**
 * Human durations such as `30d`, `2w3d`, `1y6M`. Years and months are kept
 * apart from the fixed units because their length depends on the start date.
 */
export interface Duration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

type Unit = 'y' | 'M' | 'w' | 'd' | 'h' | 'm' | 's';

// Descending order; parse insists on it so every duration has one spelling.
const UNITS: readonly { unit: Unit; key: keyof Duration; name: string }[] = [
  { unit: 'y', key: 'years', name: 'years' },
  { unit: 'M', key: 'months', name: 'months' },
  { unit: 'w', key: 'weeks', name: 'weeks' },
  { unit: 'd', key: 'days', name: 'days' },
  { unit: 'h', key: 'hours', name: 'hours' },
  { unit: 'm', key: 'minutes', name: 'minutes' },
  { unit: 's', key: 'seconds', name: 'seconds' },
];

const SECONDS: Record<Exclude<keyof Duration, 'years' | 'months'>, number> = {
  weeks: 7 * 86_400,
  days: 86_400,
  hours: 3_600,
  minutes: 60,
  seconds: 1,
};

// Upper bound that keeps every result a valid Date and catches typos like 30000d.
const MAX_YEARS = 1000;
const MAX_SECONDS_APPROX = MAX_YEARS * 365.25 * 86_400;

const EXPECTED = 'expected a number followed by a unit (s m h d w M y), like 30d or 2w3d';
const PART_RE = /^(\d+)([a-zA-Z]?)/;

export function zeroDuration(): Duration {
  return { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 };
}

/** Parses a duration; returns null for `0` or empty text, which mean "never". */
export function parseDuration(text: string, field?: string): Duration | null {
  const t = text.trim();
  if (t === '' || t === '0') return null;
  const bad = (why: string) => invalid(`bad duration ${quote(t)}: ${why}`, field);

  if (/\s/.test(t)) throw bad('no spaces allowed inside a duration, write it like 2w3d');
  if (t.startsWith('-')) throw bad('durations cannot be negative');
  if (t.startsWith('+')) throw bad(`no sign allowed, ${EXPECTED}`);
  if (/\d[.,]\d/.test(t)) throw bad('use whole numbers, like 36h instead of 1.5d');

  const d = zeroDuration();
  let rest = t;
  let lastIndex = -1;
  while (rest !== '') {
    const m = PART_RE.exec(rest);
    if (!m) throw bad(EXPECTED);
    const [part, digits = '', unit = ''] = m;
    if (unit === '') throw bad(`missing unit after ${digits}, ${EXPECTED}`);
    const index = UNITS.findIndex((u) => u.unit === unit);
    const spec = UNITS[index];
    if (!spec) throw bad(`unknown unit "${unit}", ${EXPECTED}`);
    if (index === lastIndex) throw bad(`unit "${unit}" appears more than once`);
    if (index < lastIndex) throw bad('units must go from largest to smallest (y M w d h m s), like 1y6M or 2w3d');
    const n = Number(digits);
    if (n === 0) throw bad(`${digits}${unit} is zero; use 0 alone for "never"`);
    d[spec.key] = n;
    lastIndex = index;
    rest = rest.slice(part.length);
  }
  if (approxSeconds(d) > MAX_SECONDS_APPROX) throw bad(`longer than ${MAX_YEARS} years`);
  return d;
}

function approxSeconds(d: Duration): number {
  return d.years * 365.25 * 86_400 + d.months * 30.44 * 86_400 + fixedSeconds(d);
}

function fixedSeconds(d: Duration): number {
  return d.weeks * SECONDS.weeks + d.days * SECONDS.days + d.hours * SECONDS.hours + d.minutes * SECONDS.minutes + d.seconds;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month0: number): number {
  return month0 === 1 && isLeapYear(year) ? 29 : (MONTH_DAYS[month0] ?? 31);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Adds a duration in UTC. Months move the calendar date and clamp to the end
 * of a shorter month (Jan 31 + 1M = Feb 28/29) instead of spilling into the next.
 */
export function addDuration(from: Date, d: Duration): Date {
  const result = new Date(from.getTime());
  const totalMonths = d.years * 12 + d.months;
  if (totalMonths !== 0) {
    const monthIndex = from.getUTCFullYear() * 12 + from.getUTCMonth() + totalMonths;
    const year = Math.floor(monthIndex / 12);
    const month0 = monthIndex - year * 12;
    const day = Math.min(from.getUTCDate(), daysInMonth(year, month0));
    result.setUTCFullYear(year, month0, day);
  }
  return new Date(result.getTime() + fixedSeconds(d) * 1000);
}

export function formatDuration(d: Duration): string {
  const parts = UNITS.filter((u) => d[u.key] !== 0).map((u) => `${d[u.key]}${u.unit}`);
  return parts.length === 0 ? '0' : parts.join('');
}

/** For TTL settings, which need a fixed length; calendar units have none. */
export function durationToSeconds(d: Duration): number {
  if (d.years !== 0 || d.months !== 0) {
    throw new Error(`duration ${formatDuration(d)} uses years or months, which have no fixed length in seconds`);
  }
  return fixedSeconds(d);
}
