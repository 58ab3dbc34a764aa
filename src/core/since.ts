import { addDuration, parseDuration, type Duration } from './duration.js';
import { invalid } from './errors.js';
import { looksLikeDate, parseDate } from './expiry.js';

/** `--since 7d` (that long before now) or `--since 2026-11-01` (a date or timestamp). */
export function parseSince(input: string, now: Date, field = 'since'): Date {
  const text = input.trim();
  if (looksLikeDate(text)) return parseDate(text, field);
  const d = parseDuration(text, field);
  if (d === null) throw invalid(`${field} needs a duration like 7d or a date like 2026-11-01, got "${input}"`, field);
  const back = Object.fromEntries(Object.entries(d).map(([k, v]) => [k, -v])) as unknown as Duration;
  return addDuration(now, back);
}
