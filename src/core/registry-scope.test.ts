import { describe, it, expect } from 'vitest';
import { PortcullisError } from './errors.js';
import { formatScope, parseScope, parseScopeParams } from './registry-scope.js';

describe('parseScope', () => {
  it.each([
    ['repository:acme/app:pull', { type: 'repository', name: 'acme/app', actions: ['pull'] }],
    ['repository:acme/app:pull,push', { type: 'repository', name: 'acme/app', actions: ['pull', 'push'] }],
    ['repository:acme/app:pull,pull,push', { type: 'repository', name: 'acme/app', actions: ['pull', 'push'] }],
    ['repository:acme/app:*', { type: 'repository', name: 'acme/app', actions: ['*'] }],
    ['repository:acme/app:delete', { type: 'repository', name: 'acme/app', actions: ['delete'] }],
    ['repository:app:pull', { type: 'repository', name: 'app', actions: ['pull'] }],
    [
      'repository(plugin):acme/x:pull',
      { type: 'repository', resourceClass: 'plugin', name: 'acme/x', actions: ['pull'] },
    ],
    ['registry:catalog:*', { type: 'registry', name: 'catalog', actions: ['*'] }],
    ['thing:a:b:pull', { type: 'thing', name: 'a:b', actions: ['pull'] }],
    ['foo2:whatever/Name:read', { type: 'foo2', name: 'whatever/Name', actions: ['read'] }],
  ])('%s', (text, expected) => {
    expect(parseScope(text)).toEqual(expected);
  });

  it.each([
    ['', 'bad scope "": expected type:name:actions'],
    ['repository', 'bad scope "repository": expected type:name:actions'],
    ['repository:acme/app', 'bad scope "repository:acme/app": expected type:name:actions'],
    ['repository::pull', 'bad scope "repository::pull": empty name'],
    ['repository:acme/app:', 'bad scope "repository:acme/app:": no actions, expected e.g. pull or pull,push'],
    ['repository:acme/app:pu ll', 'bad scope "repository:acme/app:pu ll": bad action "pu ll"'],
    ['repository:acme/app:Pull', 'bad scope "repository:acme/app:Pull": bad action "Pull"'],
    ['repository:acme/app:pull,,push', 'bad scope "repository:acme/app:pull,,push": empty action in "pull,,push"'],
    ['repository:acme/app:**', 'bad scope "repository:acme/app:**": bad action "**"'],
    ['Repository:acme/app:pull', 'bad scope "Repository:acme/app:pull": bad type "Repository": expected lower-case letters and digits'],
    [':acme/app:pull', 'bad scope ":acme/app:pull": bad type "": expected lower-case letters and digits'],
    [
      'repository(plu-gin):acme/app:pull',
      'bad scope "repository(plu-gin):acme/app:pull": bad resource class in "repository(plu-gin)": expected type(class) with letters and digits',
    ],
    [
      'repository():acme/app:pull',
      'bad scope "repository():acme/app:pull": bad resource class in "repository()": expected type(class) with letters and digits',
    ],
    ['repository:acme /app:pull', 'bad scope "repository:acme /app:pull": name "acme /app" contains whitespace'],
    [
      'repository:Acme/App:pull',
      'bad scope "repository:Acme/App:pull": bad repository name "Acme/App": repository names are lower case',
    ],
    [
      'repository:acme//app:pull',
      'bad scope "repository:acme//app:pull": bad repository name "acme//app": empty path component (leading, trailing or double "/")',
    ],
    [
      'repository:acme/-app:pull',
      'bad scope "repository:acme/-app:pull": bad repository name "acme/-app": path component "-app" must start and end with a letter or digit',
    ],
    ['registry:other:*', 'bad scope "registry:other:*": registry name "other" must be catalog'],
    ['registry:catalog:pull', 'bad scope "registry:catalog:pull": registry:catalog only takes the action "*", not "pull"'],
    ['registry:catalog:*,pull', 'bad scope "registry:catalog:*,pull": registry:catalog only takes the action "*", not "pull"'],
  ])('%j is refused: %s', (text, message) => {
    let caught: unknown;
    try {
      parseScope(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PortcullisError);
    expect((caught as PortcullisError).code).toBe('invalid_input');
    expect((caught as PortcullisError).field).toBe('scope');
    expect((caught as PortcullisError).message).toBe(message);
  });

  it('caps the input at 1024 characters', () => {
    const name = `acme/${'a'.repeat(1024 - 'repository:acme/:pull'.length)}`;
    // 1024 characters exactly still parses up to the repository name rule (255).
    expect(() => parseScope(`repository:${name}:pull`)).toThrow(/longer than 255 characters/);
    expect(() => parseScope(`repository:${name}a:pull`)).toThrow(/longer than 1024 characters/);
    expect(parseScope(`thing:${'x'.repeat(1024 - 'thing::pull'.length)}:pull`).type).toBe('thing');
  });
});

describe('parseScopeParams', () => {
  it('merges repeated scopes with the union of actions in first-seen order', () => {
    expect(
      parseScopeParams(['repository:a/x:pull,push', 'repository:b/y:pull', 'repository:a/x:delete,pull']),
    ).toEqual([
      { type: 'repository', name: 'a/x', actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: 'b/y', actions: ['pull'] },
    ]);
  });

  it('splits space-separated scopes in one value (OAuth2 form) and ignores empty values', () => {
    expect(parseScopeParams(['', 'repository:a/x:pull  registry:catalog:*', ' ', 'repository:a/x:*'])).toEqual([
      { type: 'repository', name: 'a/x', actions: ['pull', '*'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('keeps scopes with a different class or type apart', () => {
    expect(parseScopeParams(['repository:a/x:pull', 'repository(plugin):a/x:push'])).toEqual([
      { type: 'repository', name: 'a/x', actions: ['pull'] },
      { type: 'repository', resourceClass: 'plugin', name: 'a/x', actions: ['push'] },
    ]);
  });

  it('gives nothing for no values', () => {
    expect(parseScopeParams([])).toEqual([]);
  });

  it('throws for a malformed scope among good ones', () => {
    expect(() => parseScopeParams(['repository:a/x:pull repository:A/x:pull'])).toThrow(
      'bad scope "repository:A/x:pull": bad repository name "A/x": repository names are lower case',
    );
  });
});

describe('formatScope', () => {
  it.each(['repository:acme/app:pull,push', 'repository(plugin):acme/x:pull', 'registry:catalog:*', 'thing:a:b:pull'])(
    'round-trips %s',
    (text) => {
      expect(formatScope(parseScope(text))).toBe(text);
    },
  );
});
