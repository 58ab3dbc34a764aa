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
