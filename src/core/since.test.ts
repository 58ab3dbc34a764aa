import { describe, expect, it } from 'vitest';
import { parseSince } from './since.js';

const now = new Date('2026-03-31T12:00:00Z');

describe('parseSince', () => {
  it.each([
    ['7d', '2026-03-24T12:00:00.000Z'],
    ['12h', '2026-03-31T00:00:00.000Z'],
    ['1M', '2026-02-28T12:00:00.000Z'],
    ['1y', '2025-03-31T12:00:00.000Z'],
    ['2026-03-01', '2026-03-01T00:00:00.000Z'],
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.000Z'],
  ])('%s → %s', (input, expected) => {
    expect(parseSince(input, now).toISOString()).toBe(expected);
  });

  it.each([
    ['', /needs a duration/],
    ['0', /needs a duration/],
    ['yesterday', /bad duration "yesterday"/],
    ['7x', /unknown unit "x"/],
    ['2026-13-01', /month 13 does not exist/],
  ])('rejects %j', (input, message) => {
    expect(() => parseSince(input, now)).toThrow(message);
    expect(() => parseSince(input, now)).toThrow(expect.objectContaining({ field: 'since' }));
  });
});
