import { describe, expect, it } from 'vitest';
import { parseWholeNumber } from './text.js';

describe('parseWholeNumber', () => {
  it.each([
    ['0', {}, 0],
    ['5000', {}, 5000],
    ['007', {}, 7],
    ['65535', { min: 0, max: 65535 }, 65535],
    ['9007199254740991', {}, Number.MAX_SAFE_INTEGER],
    ['-3', { min: -10, max: 10 }, -3],
    ['-0', { min: -1, max: 1 }, 0],
  ] as [string, { min?: number; max?: number }, number][])('%j with %j → %d', (text, range, expected) => {
    expect(Object.is(parseWholeNumber(text, '--n', range), expected)).toBe(true);
  });

  it.each([
    // What Number() or parseInt() would have read as some number.
    '0x3e9c',
    '0o17',
    '0b101',
    '1e3',
    '12abc',
    ' 12 ',
    '12 ',
    '\t12',
    '1_000',
    '1,000',
    'Infinity',
    '-Infinity',
    'NaN',
    '+5',
    '1.0',
    '1.5',
    '.5',
    '',
    ' ',
    // Digits of other scripts are digits to \d with the u flag; not to this parser.
    '١٢',
    '１２',
    // A sign where the range has no negatives.
    '-1',
    '-0',
    // Beyond what a double holds exactly.
    '9007199254740993',
    '1'.repeat(400),
  ])('refuses %j', (text) => {
    expect(() => parseWholeNumber(text, '--port', { min: 0, max: Number.MAX_SAFE_INTEGER })).toThrow(/^--port must be a whole number from 0 to 9007199254740991 in decimal digits, got "/);
  });

  it('checks the range and names the flag, the range and the text', () => {
    expect(() => parseWholeNumber('70000', '--port', { min: 0, max: 65535 })).toThrow('--port must be a whole number from 0 to 65535 in decimal digits, got "70000"');
    expect(() => parseWholeNumber('0', '--limit', { min: 1, max: 100 })).toThrow('--limit must be a whole number from 1 to 100 in decimal digits, got "0"');
    expect(() => parseWholeNumber('-11', '--n', { min: -10, max: 10 })).toThrow(/from -10 to 10/);
    expect(() => parseWholeNumber('x', 'PORTCULLIS_SERVER_PORT')).toThrow('PORTCULLIS_SERVER_PORT must be a whole number of 0 or more in decimal digits, got "x"');
  });

  it('reports the field it is given, the name otherwise', () => {
    for (const [field, expected] of [
      [undefined, '--limit'],
      ['limit', 'limit'],
    ] as const) {
      try {
        parseWholeNumber('1e3', '--limit', {}, field);
        expect.unreachable();
      } catch (err) {
        expect((err as { field?: string }).field).toBe(expected);
      }
    }
  });
});
