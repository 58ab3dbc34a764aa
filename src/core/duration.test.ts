import { describe, it, expect } from 'vitest';
import { addDuration, durationToSeconds, formatDuration, parseDuration, zeroDuration, type Duration } from './duration.js';

const d = (parts: Partial<Duration>): Duration => ({ ...zeroDuration(), ...parts });

describe('parseDuration', () => {
  it.each([
    ['15m', d({ minutes: 15 })],
    ['12h', d({ hours: 12 })],
    ['30d', d({ days: 30 })],
    ['2w3d', d({ weeks: 2, days: 3 })],
    ['1y6M', d({ years: 1, months: 6 })],
    ['90s', d({ seconds: 90 })],
    ['1y2M3w4d5h6m7s', d({ years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7 })],
    ['  30d  ', d({ days: 30 })],
    ['007d', d({ days: 7 })],
    ['1000y', d({ years: 1000 })],
    ['365000d', d({ days: 365_000 })],
  ])('parses %j', (text, expected) => {
    expect(parseDuration(text)).toEqual(expected);
  });

  it.each(['0', '', '   ', ' 0 '])('%j means never', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it.each([
    ['3x', /bad duration "3x": unknown unit "x", expected a number followed by a unit \(s m h d w M y\), like 30d or 2w3d/],
    ['d', /bad duration "d": expected a number followed by a unit/],
    ['30', /bad duration "30": missing unit after 30/],
    ['1d2', /missing unit after 2/],
    ['1D', /unknown unit "D"/],
    ['1d1d', /unit "d" appears more than once/],
    ['3d2w', /units must go from largest to smallest/],
    ['1m1M', /units must go from largest to smallest/],
    ['-1d', /bad duration "-1d": durations cannot be negative/],
    ['+1d', /no sign allowed/],
    ['1.5d', /use whole numbers/],
    ['1,5d', /use whole numbers/],
    ['1d 2h', /no spaces allowed inside a duration/],
    ['1 d', /no spaces allowed/],
    ['0d', /0d is zero; use 0 alone for "never"/],
    ['1d0h', /0h is zero/],
    ['1001y', /longer than 1000 years/],
    ['12001M', /longer than 1000 years/],
    ['99999999999999999999999s', /longer than 1000 years/],
    ['never', /bad duration "never"/],
    ['1dd', /bad duration "1dd": expected a number/],
    ['P1D', /bad duration "P1D"/],
  ])('rejects %j', (text, message) => {
    expect(() => parseDuration(text)).toThrow(message);
  });

  it('tags the error with the field it is given', () => {
    try {
      parseDuration('3x', 'ttl');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'invalid_input', field: 'ttl' });
    }
  });
});

describe('formatDuration', () => {
  it.each([
    ['2w3d', '2w3d'],
    ['1y6M', '1y6M'],
    ['1y2M3w4d5h6m7s', '1y2M3w4d5h6m7s'],
    ['90s', '90s'],
    ['007d', '7d'],
  ])('round-trips %j as %j', (text, expected) => {
    const parsed = parseDuration(text);
    expect(parsed).not.toBeNull();
    expect(formatDuration(parsed as Duration)).toBe(expected);
  });

  it('writes the zero duration as 0', () => {
    expect(formatDuration(zeroDuration())).toBe('0');
  });
});

describe('addDuration', () => {
  it.each([
    ['2026-01-31T10:00:00.000Z', d({ months: 1 }), '2026-02-28T10:00:00.000Z'],
    ['2024-01-31T10:00:00.000Z', d({ months: 1 }), '2024-02-29T10:00:00.000Z'],
    ['2024-02-29T00:00:00.000Z', d({ years: 1 }), '2025-02-28T00:00:00.000Z'],
    ['2024-02-29T00:00:00.000Z', d({ years: 4 }), '2028-02-29T00:00:00.000Z'],
    ['2026-03-31T00:00:00.000Z', d({ months: 1 }), '2026-04-30T00:00:00.000Z'],
    ['2026-11-15T00:00:00.000Z', d({ months: 3 }), '2027-02-15T00:00:00.000Z'],
    ['2026-01-15T12:34:56.789Z', d({ years: 1, months: 6 }), '2027-07-15T12:34:56.789Z'],
    ['2026-01-31T00:00:00.000Z', d({ months: 1, days: 1 }), '2026-03-01T00:00:00.000Z'],
    ['2026-03-28T00:00:00.000Z', d({ days: 3 }), '2026-03-31T00:00:00.000Z'],
    ['2026-01-01T00:00:00.000Z', d({ weeks: 2, days: 3 }), '2026-01-18T00:00:00.000Z'],
    ['2026-01-01T23:59:00.000Z', d({ minutes: 1, seconds: 30 }), '2026-01-02T00:00:30.000Z'],
    ['2026-01-01T00:00:00.000Z', d({ hours: 12 }), '2026-01-01T12:00:00.000Z'],
    ['2026-01-01T00:00:00.000Z', zeroDuration(), '2026-01-01T00:00:00.000Z'],
  ])('%s + %j = %s', (from, duration, expected) => {
    expect(addDuration(new Date(from), duration).toISOString()).toBe(expected);
  });

  it('does not change its input', () => {
    const from = new Date('2026-01-31T00:00:00Z');
    addDuration(from, d({ months: 1, days: 2 }));
    expect(from.toISOString()).toBe('2026-01-31T00:00:00.000Z');
  });

  it('handles the longest allowed duration', () => {
    const parsed = parseDuration('1000y') as Duration;
    expect(addDuration(new Date('2026-01-01T00:00:00Z'), parsed).toISOString()).toBe('3026-01-01T00:00:00.000Z');
  });
});

describe('durationToSeconds', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['12h', 43_200],
    ['1d', 86_400],
    ['2w3d', 17 * 86_400],
    ['1d2h3m4s', 86_400 + 7_200 + 180 + 4],
  ])('%s = %i seconds', (text, seconds) => {
    expect(durationToSeconds(parseDuration(text) as Duration)).toBe(seconds);
  });

  it.each(['1y', '1M', '1M1d'])('refuses calendar units in %s', (text) => {
    expect(() => durationToSeconds(parseDuration(text) as Duration)).toThrow(/years or months/);
  });
});
