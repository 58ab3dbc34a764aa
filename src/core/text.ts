import { invalid } from './errors.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A display name: trimmed, 1..max characters, no control characters. */
export function validateName(value: unknown, field: string, max = 100): string {
  if (typeof value !== 'string') throw invalid(`${field} must be text`, field);
  const v = value.trim();
  if (v === '') throw invalid(`${field} must not be empty`, field);
  if (v.length > max) throw invalid(`${field} is longer than ${max} characters`, field);
  if (CONTROL.test(v)) throw invalid(`${field} must not contain control characters`, field);
  return v;
}

export function optionalName(value: unknown, field: string, max = 200): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return null;
  return validateName(value, field, max);
}

/**
 * Accepts a list or separated text; trims and drops empty entries. Tag patterns
 * split on commas only, because a semver range holds spaces (`>=1.2 <2`).
 */
export function splitList(value: string | readonly string[] | undefined, separator: RegExp = /[\s,]+/): string[] {
  if (value === undefined) return [];
  const parts = typeof value === 'string' ? [value] : value;
  return parts.flatMap((p) => p.split(separator)).map((p) => p.trim()).filter((p) => p !== '');
}

export const COMMAS = /,/;

/** User input inside an error message: quoted, and cut short so a huge value cannot flood a log line. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

const DECIMAL = /^-?[0-9]+$/;

/**
 * A whole number typed as plain decimal digits, for counts, ports and limits
 * from flags and the environment. Number() and parseInt() read much more
 * (`0x3e9c`, `1e3`, ` 12 `, `Infinity`; parseInt `12abc` as 12), and each
 * would quietly turn a typo into another setting. A leading `-` is accepted
 * only when `min` is negative. Throws invalid_input naming `name`.
 */
export function parseWholeNumber(text: string, name: string, range: { min?: number; max?: number } = {}, field = name): number {
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const n = DECIMAL.test(text) && (min < 0 || !text.startsWith('-')) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const expected = range.max === undefined ? `a whole number of ${min} or more` : `a whole number from ${min} to ${max}`;
    throw invalid(`${name} must be ${expected} in decimal digits, got ${quote(text)}`, field);
  }
  return n === 0 ? 0 : n;
}
