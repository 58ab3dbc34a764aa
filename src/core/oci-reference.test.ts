import { describe, it, expect } from 'vitest';
import { linkHeader, paginate, parsePageParams, parseReference, parseV2Path, type V2Route } from './oci-reference.js';
import { errorOf } from '../../test/helpers/errors.js';

const D = `sha256:${'a'.repeat(64)}`;


describe('parseReference', () => {
  it.each([
    ['latest', { kind: 'tag', tag: 'latest' }],
    ['1.2.3-rc.1', { kind: 'tag', tag: '1.2.3-rc.1' }],
    ['_x', { kind: 'tag', tag: '_x' }],
    ['x'.repeat(128), { kind: 'tag', tag: 'x'.repeat(128) }],
    [D, { kind: 'digest', digest: D }],
  ])('%s', (ref, expected) => {
    expect(parseReference(ref)).toEqual(expected);
  });

  it.each([
    ['', 'tag'],
    ['.hidden', 'tag'],
    ['-x', 'tag'],
    ['a b', 'tag'],
    ['1.0+build', 'tag'],
    ['x'.repeat(129), 'tag'],
    ['sha256:abc', 'digest'],
    [`sha256:${'A'.repeat(64)}`, 'digest'],
    [`sha512:${'a'.repeat(128)}`, 'digest'],
    [`${D}:extra`, 'digest'],
    [':', 'digest'],
  ])('%j is a bad %s', (ref, field) => {
    const e = errorOf(() => parseReference(ref));
    expect(e.code).toBe('invalid_input');
    expect(e.field).toBe(field);
    expect(e.message).toMatch(new RegExp(`^bad ${field} `));
  });
});

describe('parseV2Path', () => {
  const cases: [path: string, route: V2Route | undefined][] = [
    ['', { route: 'base' }],
    ['_catalog', { route: 'catalog' }],
    ['acme/app/tags/list', { route: 'tags', name: 'acme/app' }],
    ['app/tags/list', { route: 'tags', name: 'app' }],
    ['acme/team/app/manifests/1.0', { route: 'manifest', name: 'acme/team/app', reference: '1.0' }],
    [`acme/app/manifests/${D}`, { route: 'manifest', name: 'acme/app', reference: D }],
    // The reference is checked by parseReference, not here.
    ['acme/app/manifests/Bad Tag', { route: 'manifest', name: 'acme/app', reference: 'Bad Tag' }],
    [`acme/app/blobs/${D}`, { route: 'blob', name: 'acme/app', digest: D }],
    ['acme/app/blobs/not-a-digest', { route: 'blob', name: 'acme/app', digest: 'not-a-digest' }],
    ['acme/app/blobs/uploads/', { route: 'uploads', name: 'acme/app' }],
    ['acme/app/blobs/uploads', { route: 'uploads', name: 'acme/app' }],
    ['acme/app/blobs/uploads/3f2a-77', { route: 'upload', name: 'acme/app', id: '3f2a-77' }],
    [`acme/app/referrers/${D}`, { route: 'referrers', name: 'acme/app', digest: D }],
    // Names may hold route words; the route is read from the right.
    ['acme/manifests/manifests/1.0', { route: 'manifest', name: 'acme/manifests', reference: '1.0' }],
    ['acme/blobs/tags/list', { route: 'tags', name: 'acme/blobs' }],
    ['x/blobs/uploads/blobs/uploads/', { route: 'uploads', name: 'x/blobs/uploads' }],
    ['acme/tags/list/tags/list', { route: 'tags', name: 'acme/tags/list' }],
    // Bad names are routed, so the caller can answer NAME_INVALID.
    ['Acme/App/manifests/1.0', { route: 'invalid-name', name: 'Acme/App' }],
    ['acme/-app/tags/list', { route: 'invalid-name', name: 'acme/-app' }],
    [`acme/app_/blobs/${D}`, { route: 'invalid-name', name: 'acme/app_' }],
    [`${'a'.repeat(256)}/tags/list`, { route: 'invalid-name', name: 'a'.repeat(256) }],
    // No route.
    ['acme/app', undefined],
    ['acme/app/manifests', undefined],
    ['acme/app/tags', undefined],
    ['acme/app/tags/list/', undefined],
    ['acme/app/manifests/', undefined],
    ['tags/list', undefined],
    ['manifests/1.0', undefined],
    ['blobs/uploads/', undefined],
    ['/acme/app/tags/list', undefined],
    ['acme//app/tags/list', undefined],
    ['acme/../app/tags/list', undefined],
    ['acme/./app/tags/list', undefined],
    ['acme/app/manifests/..', undefined],
    ['acme/app/blobs/uploads//', undefined],
    ['_catalog/', undefined],
    ['/', undefined],
  ];
  it.each(cases)('%j', (path, expected) => {
    expect(parseV2Path(path)).toEqual(expected);
  });
});

describe('parsePageParams', () => {
  it.each([
    [{}, { n: undefined, last: undefined }],
    [{ n: '10' }, { n: 10, last: undefined }],
    [{ n: '0' }, { n: 0, last: undefined }],
    [{ n: '007' }, { n: 7, last: undefined }],
    [{ n: '1000' }, { n: 1000, last: undefined }],
    [{ n: '1001' }, { n: 1000, last: undefined }],
    [{ n: '99999999999999999999999' }, { n: 1000, last: undefined }],
    [{ last: '1.2' }, { n: undefined, last: '1.2' }],
    [{ last: '' }, { n: undefined, last: undefined }],
    [{ n: '5', last: 'acme/app' }, { n: 5, last: 'acme/app' }],
  ])('%j', (query, expected) => {
    expect(parsePageParams(query)).toEqual(expected);
  });

  it('lowers n to a custom maximum', () => {
    expect(parsePageParams({ n: '50' }, 20)).toEqual({ n: 20, last: undefined });
  });

  it.each(['-1', '1.5', 'ten', '', ' 5', '1e3', '0x10'])('n=%j is refused', (n) => {
    const e = errorOf(() => parsePageParams({ n }));
    expect(e.code).toBe('invalid_input');
    expect(e.field).toBe('n');
  });
});

describe('paginate', () => {
  const tags = ['1.0', '1.1', '1.2', '2.0', 'latest'];
  it.each([
    [{ n: undefined, last: undefined }, { items: tags }],
    [{ n: 2, last: undefined }, { items: ['1.0', '1.1'], next: { n: 2, last: '1.1' } }],
    [{ n: 2, last: '1.1' }, { items: ['1.2', '2.0'], next: { n: 2, last: '2.0' } }],
    [{ n: 2, last: '2.0' }, { items: ['latest'] }],
    [{ n: 5, last: undefined }, { items: tags }],
    [{ n: 4, last: undefined }, { items: ['1.0', '1.1', '1.2', '2.0'], next: { n: 4, last: '2.0' } }],
    [{ n: 0, last: undefined }, { items: [] }],
    [{ n: 0, last: '1.0' }, { items: [] }],
    [{ n: undefined, last: '1.2' }, { items: ['2.0', 'latest'] }],
    // `last` need not be in the list: items strictly after it, lexically.
    [{ n: 2, last: '1.15' }, { items: ['1.2', '2.0'], next: { n: 2, last: '2.0' } }],
    [{ n: 3, last: 'latest' }, { items: [] }],
    [{ n: 3, last: 'zzz' }, { items: [] }],
  ])('%j', (page, expected) => {
    expect(paginate(tags, page)).toEqual(expected);
  });

  it('pages through everything exactly once', () => {
    const seen: string[] = [];
    let page = { n: 2 as number | undefined, last: undefined as string | undefined };
    for (let i = 0; i < 10; i++) {
      const p = paginate(tags, page);
      seen.push(...p.items);
      if (!p.next) break;
      page = p.next;
    }
    expect(seen).toEqual(tags);
  });

  it('on an empty list', () => {
    expect(paginate([], { n: 10, last: undefined })).toEqual({ items: [] });
  });
});

describe('linkHeader', () => {
  it.each([
    ['/v2/acme/app/tags/list', { n: 10, last: 'foo' }, '</v2/acme/app/tags/list?n=10&last=foo>; rel="next"'],
    ['/v2/_catalog', { n: 2, last: 'acme/team/app' }, '</v2/_catalog?n=2&last=acme%2Fteam%2Fapp>; rel="next"'],
    ['/v2/a/tags/list', { n: 1, last: 'x&y=z' }, '</v2/a/tags/list?n=1&last=x%26y%3Dz>; rel="next"'],
  ])('%s %j', (path, next, expected) => {
    expect(linkHeader(path, next)).toBe(expected);
  });
});
