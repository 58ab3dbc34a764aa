import { describe, expect, it } from 'vitest';
import { globMatch, stringGlob } from './glob.js';

describe('stringGlob', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['1.*', '1.4.2', true],
    ['1.*', '2.1', false],
    ['v2.?', 'v2.1', true],
    ['v2.?', 'v2.10', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(128), false],
    ['**', 'x', true],
    ['', '', true],
    ['', 'x', false],
  ])('%s against %s → %s', (pattern, text, expected) => {
    expect(stringGlob(pattern, '?')(text)).toBe(expected);
  });

  it('treats ? literally unless it is the any-one character', () => {
    expect(stringGlob('a?')('ab')).toBe(false);
    expect(stringGlob('a?')('a?')).toBe(true);
  });
});

describe('globMatch over segments', () => {
  const STAR = '**';
  const match = (pattern: string[], text: string[]) => globMatch(pattern, text, (p) => p === STAR, (p, t) => p === t);
  it.each([
    [['a', STAR], ['a'], true],
    [['a', STAR], ['a', 'b', 'c'], true],
    [[STAR, 'c'], ['a', 'b', 'c'], true],
    [['a', STAR, 'c'], ['a', 'c'], true],
    [['a', STAR, 'c'], ['a', 'b', 'd'], false],
    [[STAR, 'a', STAR, 'a', STAR, 'b'], Array(40).fill('a'), false],
  ])('%j against %j → %s', (pattern, text, expected) => {
    expect(match(pattern, text)).toBe(expected);
  });
});
