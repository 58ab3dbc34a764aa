import { describe, it, expect } from 'vitest';
import {
  compileRepoPattern,
  isValidRepositoryName,
  matchesAnyRepoPattern,
  matchesRepoPattern,
  validateRepoPattern,
  validateRepositoryName,
} from './repo-pattern.js';

describe('repository names', () => {
  it.each([
    'acme',
    'acme/app',
    'acme/app/sub/deep',
    'a',
    '0',
    'acme-labs/app_1',
    'acme/app.v2',
    'acme/app__x',
    'acme/app---x',
    'a.b_c__d-e--f',
    `a/${'b'.repeat(253)}`,
  ])('accepts %j', (name) => {
    expect(isValidRepositoryName(name)).toBe(true);
    expect(validateRepositoryName(name)).toBe(name);
  });

  it.each([
    ['', /bad repository name "": empty/],
    [`a/${'b'.repeat(254)}`, /longer than 255 characters/],
    ['Acme/app', /repository names are lower case/],
    ['acme app', /only a-z, 0-9/],
    ['acme/app:1', /only a-z, 0-9/],
    ['acme//app', /empty path component/],
    ['/acme', /empty path component/],
    ['acme/', /empty path component/],
    ['acme/-app', /path component "-app" must start and end with a letter or digit/],
    ['acme/app_', /must start and end with a letter or digit/],
    ['.acme', /must start and end with a letter or digit/],
    ['acme/app..x', /path component "app..x" has a bad separator/],
    ['acme/app___x', /bad separator/],
    ['acme/app._x', /bad separator/],
    ['acme/app-.x', /bad separator/],
  ])('rejects %j', (name, message) => {
    expect(isValidRepositoryName(name)).toBe(false);
    expect(() => validateRepositoryName(name)).toThrow(message);
  });

  it('trims in validate, but not in the strict check', () => {
    expect(validateRepositoryName(' acme/app ')).toBe('acme/app');
    expect(isValidRepositoryName(' acme/app ')).toBe(false);
  });

  it('reports the field', () => {
    expect(() => validateRepositoryName('A', 'name')).toThrow(expect.objectContaining({ code: 'invalid_input', field: 'name' }));
  });
});

describe('repository patterns: matching', () => {
  const cases: [pattern: string, repo: string, matches: boolean][] = [
    ['acme/app', 'acme/app', true],
    ['acme/app', 'acme/app2', false],
    ['acme/app', 'acme/app/x', false],
    ['acme/app', 'acme', false],
    ['acme/*', 'acme/app', true],
    ['acme/*', 'acme/app/x', false],
    ['acme/*', 'acme', false],
    ['acme/*', 'acmex/app', false],
    ['acme/app-*', 'acme/app-x', true],
    ['acme/app-*', 'acme/app-x-y', true],
    ['acme/app-*', 'acme/app', false],
    ['acme/app-*', 'acme/app-x/y', false],
    ['acme/*-app', 'acme/x-app', true],
    ['acme/*/base', 'acme/x/base', true],
    ['acme/*/base', 'acme/x/y/base', false],
    ['acme/a.b', 'acme/a.b', true],
    ['acme/a.b', 'acme/axb', false],
    ['acme/**', 'acme', true],
    ['acme/**', 'acme/a', true],
    ['acme/**', 'acme/a/b', true],
    ['acme/**', 'acmex', false],
    ['acme/**', 'acmex/a', false],
    ['acme/**', 'other/acme', false],
    ['**', 'acme', true],
    ['**', 'a/b/c/d', true],
    ['**/base', 'base', true],
    ['**/base', 'x/y/base', true],
    ['**/base', 'xbase', false],
    ['**/base', 'x/ybase', false],
    ['**/base', 'base/x', false],
    ['acme/**/base', 'acme/base', true],
    ['acme/**/base', 'acme/x/base', true],
    ['acme/**/base', 'acme/x/y/base', true],
    ['acme/**/base', 'acme/xbase', false],
    ['acme/**/base', 'acmex/base', false],
    ['acme/**/**/base', 'acme/base', true],
    ['acme/**/**/base', 'acme/x/y/base', true],
    ['**/app-*/**', 'acme/app-1/x', true],
    ['**/app-*/**', 'app-1', true],
    ['**/app-*/**', 'acme/app/x', false],
    ['*', 'acme', true],
    ['*', 'acme/app', false],
    [' acme/* ', 'acme/app', true],
  ];

  it.each(cases)('%j vs %j → %s', (pattern, repo, expected) => {
    expect(matchesRepoPattern(pattern, repo)).toBe(expected);
    expect(compileRepoPattern(pattern)(repo)).toBe(expected);
  });

  it('returns the same compiled function for the same pattern', () => {
    expect(compileRepoPattern('acme/cache-*')).toBe(compileRepoPattern('acme/cache-*'));
  });

  it('keeps working after the cache fills up', () => {
    for (let i = 0; i < 1500; i++) expect(matchesRepoPattern(`fill/p${i}-*`, `fill/p${i}-x`)).toBe(true);
    expect(matchesRepoPattern('fill/p0-*', 'fill/p0-x')).toBe(true);
  });

  it.each([
    [[], 'acme/app', false],
    [['other/*'], 'acme/app', false],
    [['other/*', 'acme/*'], 'acme/app', true],
    [['**'], 'acme/app', true],
  ] as [string[], string, boolean][])('any of %j vs %j → %s', (patterns, repo, expected) => {
    expect(matchesAnyRepoPattern(patterns, repo)).toBe(expected);
  });
});

describe('repository patterns: validation', () => {
  it.each([
    ['acme/*', 'acme/*'],
    ['  acme/**  ', 'acme/**'],
    ['**', '**'],
    ['**/base', '**/base'],
    ['a.b_c-d/*x*', 'a.b_c-d/*x*'],
  ])('accepts %j as %j', (pattern, normalized) => {
    expect(validateRepoPattern(pattern)).toBe(normalized);
  });

  it.each([
    ['', /bad repository pattern "": empty pattern/],
    ['   ', /empty pattern/],
    ['acme//x', /bad repository pattern "acme\/\/x": empty segment/],
    ['/acme', /empty segment/],
    ['acme/', /empty segment/],
    ['Acme/*', /repository patterns are lower case/],
    ['acme/App', /repository patterns are lower case/],
    ['acme/a b', /only a-z, 0-9, ".", "_", "-", "\/" and the wildcards/],
    ['acme/a?', /only a-z, 0-9/],
    ['acme/[ab]', /only a-z, 0-9/],
    ['acme/a:1', /only a-z, 0-9/],
    ['acme/a**', /"\*\*" must be a whole segment/],
    ['acme/**x', /"\*\*" must be a whole segment/],
    ['acme/***', /"\*\*" must be a whole segment/],
    ['***', /"\*\*" must be a whole segment/],
  ])('rejects %j', (pattern, message) => {
    expect(() => validateRepoPattern(pattern)).toThrow(message);
    expect(() => matchesRepoPattern(pattern, 'acme/app')).toThrow(message);
  });

  it('reports the field', () => {
    expect(() => validateRepoPattern('', 'plans.repositories')).toThrow(
      expect.objectContaining({ code: 'invalid_input', field: 'plans.repositories' }),
    );
  });
});
