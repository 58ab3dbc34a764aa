import { describe, expect, it } from 'vitest';
import { crossSiteRefusal, isJsonOrNoBody } from './cross-site.js';

const ORIGIN = 'https://registry.example.com';

describe('crossSiteRefusal', () => {
  it.each([
    [{}, undefined],
    [{ secFetchSite: 'same-origin' }, undefined],
    [{ secFetchSite: 'none' }, undefined],
    [{ origin: ORIGIN }, undefined],
    [{ origin: ORIGIN, secFetchSite: 'same-origin' }, undefined],
    [{ secFetchSite: 'cross-site' }, /cross-site request/],
    [{ secFetchSite: 'same-site' }, /same-site request/],
    [{ secFetchSite: 'Cross-Site', origin: ORIGIN }, /cross-site request/],
    [{ origin: 'https://evil.example' }, /origin "https:\/\/evil.example"/],
    [{ origin: 'null' }, /origin "null"/],
    [{ origin: 'http://registry.example.com' }, /only https:\/\/registry.example.com/],
    [{ origin: `${ORIGIN}:443` }, /refused/],
  ] as [{ origin?: string; secFetchSite?: string }, RegExp | undefined][])('%j → %s', (headers, expected) => {
    const why = crossSiteRefusal(headers, ORIGIN);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(expected);
  });
});

describe('isJsonOrNoBody', () => {
  it.each([
    ['application/json', true, true],
    ['application/json; charset=utf-8', true, true],
    ['Application/JSON', true, true],
    [undefined, false, true],
    ['', false, true],
    ['application/json', false, true],
    ['application/x-www-form-urlencoded', true, false],
    ['text/plain', true, false],
    ['multipart/form-data; boundary=x', true, false],
    ['application/jsonp', true, false],
    [undefined, true, false],
    ['text/plain', false, false],
  ] as [string | undefined, boolean, boolean][])('%s with body %s → %s', (type, hasBody, ok) => {
    expect(isJsonOrNoBody(type, hasBody)).toBe(ok);
  });
});
