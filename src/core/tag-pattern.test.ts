import { describe, it, expect } from 'vitest';
import { describeTagPatterns, isValidTag, matchesAnyTagPattern, matchesTagPattern, validateTagPattern } from './tag-pattern.js';

describe('isValidTag', () => {
  it.each([
    ['latest', true],
    ['1.2.3', true],
    ['v1.2.3-rc.1', true],
    ['_private', true],
    ['A-Z_a.z', true],
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['', false],
    ['.hidden', false],
    ['-dash', false],
    ['1.2.3+build', false],
    ['sha256:abc', false],
    ['a b', false],
  ])('isValidTag(%j) = %s', (tag, expected) => {
    expect(isValidTag(tag)).toBe(expected);
  });
});

describe('glob tag patterns', () => {
  const cases: [pattern: string, tag: string, matches: boolean][] = [
    ['stable', 'stable', true],
    ['stable', 'Stable', false],
    ['stable', 'stable2', false],
    ['*', 'anything', true],
    ['*', 'v1.2.3-rc.1', true],
    ['1.*', '1.0', true],
    ['1.*', '1.2.3', true],
    ['1.*', '1.', true],
    ['1.*', '10.0', false],
    ['1.*', '2.0', false],
    ['v2.?', 'v2.1', true],
    ['v2.?', 'v2.10', false],
    ['v2.?', 'v2.', false],
    ['1.2', '1x2', false],
    ['*-alpine', '3.19-alpine', true],
    ['*-alpine', '3.19-slim', false],
    ['**', 'x', true],
    ['  1.*  ', '1.5', true],
  ];

  it.each(cases)('%j vs %j → %s', (pattern, tag, expected) => {
    expect(matchesTagPattern(pattern, tag)).toBe(expected);
  });

  it('never matches an invalid tag, even with *', () => {
    expect(matchesTagPattern('*', '')).toBe(false);
    expect(matchesTagPattern('*', '.x')).toBe(false);
    expect(matchesTagPattern('*', 'sha256:abc')).toBe(false);
  });
});

describe('semver tag patterns', () => {
  const cases: [pattern: string, tag: string, matches: boolean][] = [
    ['semver:>=1.2.0 <2.0.0', '1.2.0', true],
    ['semver:>=1.2.0 <2.0.0', '1.9.9', true],
    ['semver:>=1.2.0 <2.0.0', 'v1.5.0', true],
    ['semver:>=1.2.0 <2.0.0', '1.5.0-rc.1', true],
    ['semver:>=1.2.0 <2.0.0', '1.1.9', false],
    ['semver:>=1.2.0 <2.0.0', '2.0.0', false],
    ['semver:>=1.2.0 <2.0.0', '1.5', false],
    ['semver:>=1.2.0 <2.0.0', 'latest', false],
    ['semver:>=1.2.0 <2.0.0', 'V1.5.0', false],
    ['semver:^1.4', '1.4.0', true],
    ['semver:^1.4', '1.99.0', true],
    ['semver:^1.4', '1.3.9', false],
    ['semver:^1.4', '2.0.0', false],
    ['semver:~2.0', '2.0.7', true],
    ['semver:~2.0', '2.1.0', false],
    ['semver:*', '0.0.1', true],
    ['semver:*', 'stable', false],
    ['semver: ^1.4 ', '1.5.0', true],
    ['SEMVER:^1.4', '1.5.0', true],
  ];

  it.each(cases)('%j vs %j → %s', (pattern, tag, expected) => {
    expect(matchesTagPattern(pattern, tag)).toBe(expected);
  });
});

describe('validateTagPattern', () => {
  it.each([
    ['1.*', '1.*'],
    [' stable ', 'stable'],
    ['v2.?', 'v2.?'],
    ['semver:>=1.2.0 <2.0.0', 'semver:>=1.2.0 <2.0.0'],
    ['semver: ^1.4', 'semver:^1.4'],
    ['Semver:~2.0', 'semver:~2.0'],
  ])('accepts %j as %j', (pattern, normalized) => {
    expect(validateTagPattern(pattern)).toBe(normalized);
  });

  it.each([
    ['', /bad tag pattern "": empty pattern/],
    ['  ', /empty pattern/],
    ['1 2', /bad tag pattern "1 2": only letters, digits/],
    ['a/b', /only letters, digits/],
    ['[ab]', /only letters, digits/],
    ['x'.repeat(257), /longer than 256 characters/],
    ['semver:>=x', /bad semver range ">=x" in tag pattern "semver:>=x"/],
    ['semver:^*', /bad semver range "\^\*"/],
    ['semver:', /bad semver range "" in tag pattern "semver:": the range is empty/],
    ['semver:foo', /bad semver range "foo" in tag pattern "semver:foo": expected a range like/],
    ['semver:>=1.2.0 <', /bad semver range ">=1.2.0 <"/],
  ])('rejects %j', (pattern, message) => {
    expect(() => validateTagPattern(pattern)).toThrow(message);
    expect(() => matchesTagPattern(pattern, '1.0.0')).toThrow(message);
  });

  it('reports the field', () => {
    expect(() => validateTagPattern('semver:foo', 'tags')).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'tags' }));
  });
});

describe('matchesAnyTagPattern', () => {
  it.each([
    [[], 'anything', true],
    [['1.*'], '1.0', true],
    [['1.*'], '2.0', false],
    [['1.*', 'semver:^2'], '2.3.4', true],
    [['1.*', 'semver:^2'], '3.0.0', false],
    [['stable', 'latest'], 'latest', true],
  ] as [string[], string, boolean][])('any of %j vs %j → %s', (patterns, tag, expected) => {
    expect(matchesAnyTagPattern(patterns, tag)).toBe(expected);
  });

  it('keeps working after the cache fills up', () => {
    for (let i = 0; i < 1500; i++) expect(matchesTagPattern(`fill${i}-*`, `fill${i}-x`)).toBe(true);
    expect(matchesTagPattern('fill0-*', 'fill0-x')).toBe(true);
  });
});

describe('describeTagPatterns', () => {
  it.each([
    [['1.*'], '1.*'],
    [['1.*', 'semver:^2'], '1.*, semver:^2'],
    [[' 1.* '], '1.*'],
    [[], 'any tag'],
  ] as [string[], string][])('%j → %j', (patterns, expected) => {
    expect(describeTagPatterns(patterns)).toBe(expected);
  });
});
