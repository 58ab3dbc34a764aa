import { describe, it, expect } from 'vitest';
import { parseDate, parseExpiry } from './expiry.js';

const NOW = new Date('2026-01-31T12:00:00.000Z');

describe('parseExpiry', () => {
  it.each([
    ['30d', '2026-03-02T12:00:00.000Z'],
    ['1M', '2026-02-28T12:00:00.000Z'],
    ['2w3d', '2026-02-17T12:00:00.000Z'],
    ['15m', '2026-01-31T12:15:00.000Z'],
    ['1s', '2026-01-31T12:00:01.000Z'],
    ['2026-02-01', '2026-02-01T00:00:00.000Z'],
    ['2028-02-29', '2028-02-29T00:00:00.000Z'],
    ['2026-12-31T23:59:59Z', '2026-12-31T23:59:59.000Z'],
    ['2026-12-31t23:59:59z', '2026-12-31T23:59:59.000Z'],
    ['2026-12-31 23:59:59Z', '2026-12-31T23:59:59.000Z'],
    ['2026-06-01T10:00:00+02:00', '2026-06-01T08:00:00.000Z'],
    ['2026-06-01T10:00:00-05:30', '2026-06-01T15:30:00.000Z'],
    ['2026-06-01T10:00:00.5Z', '2026-06-01T10:00:00.500Z'],
    ['2026-06-01T10:00:00.123456789Z', '2026-06-01T10:00:00.123Z'],
    ['  2026-06-01  ', '2026-06-01T00:00:00.000Z'],
  ])('%j gives %s', (input, expected) => {
    expect(parseExpiry(input, NOW)?.toISOString()).toBe(expected);
  });

  it.each(['', '  ', '0', 'never', 'Never', ' NEVER '])('%j means never', (input) => {
    expect(parseExpiry(input, NOW)).toBeNull();
  });

  it.each([
    ['2026-01-31', /expiry "2026-01-31" is in the past \(now is 2026-01-31T12:00:00.000Z\)/],
    ['2020-01-01', /is in the past/],
    ['2026-01-31T12:00:00Z', /is in the past/],
    ['2026-01-31T14:00:00+02:00', /is in the past/],
    ['2026-02-30', /bad date "2026-02-30": day 30 does not exist in 2026-02/],
    ['2027-02-29', /day 29 does not exist in 2027-02/],
    ['2026-13-01', /month 13 does not exist/],
    ['2026-00-10', /month 00 does not exist/],
    ['2026-06-00', /day 00 does not exist/],
    ['2026-06-01T24:00:00Z', /time 24:00:00 does not exist/],
    ['2026-06-01T10:60:00Z', /time 10:60:00 does not exist/],
    ['2026-06-01T10:00:60Z', /time 10:00:60 does not exist/],
    ['2026-06-01T10:00:00+24:00', /offset \+24:00 does not exist/],
    ['2026-06-01T10:00:00', /add Z or an offset like \+02:00/],
    ['2026-6-1', /bad date "2026-6-1": expected YYYY-MM-DD/],
    ['2026-06-01T10:00Z', /expected YYYY-MM-DD/],
    ['2026-06-01T10:00:00+0200', /expected YYYY-MM-DD/],
    ['tomorrow', /bad expiry "tomorrow": expected a duration \(like 30d or 2w3d\), a date/],
    ['31/12/2026', /bad expiry "31\/12\/2026": expected a duration/],
    ['12:00', /bad expiry "12:00"/],
    ['1.5d', /bad duration "1.5d": use whole numbers/],
    ['3x', /bad duration "3x": unknown unit "x"/],
    ['-1d', /durations cannot be negative/],
  ])('rejects %j', (input, message) => {
    expect(() => parseExpiry(input, NOW)).toThrow(message);
  });

  it('reports the field it was given', () => {
    for (const input of ['2020-01-01', 'tomorrow', '2026-02-30', '3x']) {
      expect(() => parseExpiry(input, NOW, 'valid_until')).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'valid_until' }));
    }
  });

  it('uses the given clock, not the real one', () => {
    const past = new Date('2000-01-01T00:00:00Z');
    expect(parseExpiry('2001-01-01', past)?.toISOString()).toBe('2001-01-01T00:00:00.000Z');
  });
});

describe('parseDate', () => {
  it.each([
    ['2026-01-01', '2026-01-01T00:00:00.000Z'],
    ['2020-01-01', '2020-01-01T00:00:00.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['0050-06-01', '0050-06-01T00:00:00.000Z'],
    ['2026-06-01T00:30:00+01:00', '2026-05-31T23:30:00.000Z'],
  ])('%j is %s', (input, expected) => {
    expect(parseDate(input, 'valid_from').toISOString()).toBe(expected);
  });

  it.each([
    ['30d', /bad date "30d": expected YYYY-MM-DD/],
    ['never', /bad date "never"/],
    ['', /bad date ""/],
    ['1900-02-29', /day 29 does not exist in 1900-02/],
  ])('rejects %j', (input, message) => {
    expect(() => parseDate(input, 'valid_from')).toThrow(message);
  });
});
