import { describe, expect, it } from 'vitest';
import { clientLocation, FORWARDED_REQUEST_HEADERS, nextPageUrl, parseResponseHead, pickHeaders, RELAYED_RESPONSE_HEADERS, responseHeadFault, summarizeNotification } from './upstream-proxy.js';
import { errorOf } from '../../test/helpers/errors.js';

const UP = 'http://127.0.0.1:5001';

describe('clientLocation', () => {
  it.each([
    [`${UP}/v2/acme/app/blobs/uploads/u-1?_state=abc%3D`, '/v2/acme/app/blobs/uploads/u-1?_state=abc%3D'],
    ['/v2/acme/app/blobs/uploads/u-1?_state=x', '/v2/acme/app/blobs/uploads/u-1?_state=x'],
    [`${UP}/v2/acme/app/manifests/sha256:${'a'.repeat(64)}`, `/v2/acme/app/manifests/sha256:${'a'.repeat(64)}`],
    // Storage redirects leave the upstream's origin and pass unchanged.
    ['https://bucket.s3.amazonaws.com/docker/registry/v2/blobs/x?X-Amz-Signature=s', 'https://bucket.s3.amazonaws.com/docker/registry/v2/blobs/x?X-Amz-Signature=s'],
    ['http://127.0.0.1:5002/v2/other', 'http://127.0.0.1:5002/v2/other'],
    ['https://127.0.0.1:5001/v2/x', 'https://127.0.0.1:5001/v2/x'],
    ['HTTPS://Bucket.S3.Example/x?sig=a%2Fb', 'https://bucket.s3.example/x?sig=a%2Fb'],
    // A path on the upstream never becomes a protocol-relative reference to another host.
    [`${UP}//evil.example/x`, '/evil.example/x'],
    [`${UP}///evil.example/x?y=1`, '/evil.example/x?y=1'],
    [`${UP}/\\evil.example/x`, '/evil.example/x'],
    [`${UP}/.//evil.example/x`, '/evil.example/x'],
    ['//evil.example/x', '/evil.example/x'],
    ['///evil.example/x', '/evil.example/x'],
    ['\\\\evil.example/x', '/evil.example/x'],
    ['/\\evil.example/x', '/evil.example/x'],
    ['/./\\evil.example/x', '/evil.example/x'],
    ['/v2/a/../..//evil.example/x', '/evil.example/x'],
    ['v2/acme/app/blobs/uploads/u-1', '/v2/acme/app/blobs/uploads/u-1'],
  ])('%s → %s', (location, expected) => {
    const relative = clientLocation(location, UP);
    expect(relative).toBe(expected);
    // Whatever it is, resolved by a client against the gateway, it stays on the gateway unless it was an absolute URL elsewhere.
    if (!/^https?:\/\//i.test(location) || new URL(location).origin === UP) expect(new URL(relative!, 'https://gateway.example').host).toBe('gateway.example');
  });

  it.each(['http://[bad', 'javascript:alert(1)', 'http:evil.example/x', 'https:/evil.example', 'file:///etc/passwd', 'data:text/plain,x'])('refuses %j: no http(s) URL', (location) => {
    expect(clientLocation(location, UP)).toBeUndefined();
  });
});

describe('responseHeadFault', () => {
  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Length: 1', undefined],
    ['HTTP/1.1 200 OK\r\nX-Tab: a\tb\r\nX-Latin: caf\u00e9', undefined],
    // The start of a head: a CR at the very end may still get its LF.
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r', undefined],
    ['HTTP/1.1 200 OK\r\nContent-Type: a\nX-Injected: 1', 'a bare LF'],
    ['HTTP/1.1 200 OK\nContent-Length: 1', 'a bare LF'],
    ['HTTP/1.1 200 OK\r\nLocation: /x\rSet-Cookie: a=b', 'a bare CR'],
    ['HTTP/1.1 200 OK\r\r\nContent-Length: 1', 'a bare CR'],
    ['HTTP/1.1 200 OK\r\nX: a\u0000b', 'the control character U+0000'],
    ['HTTP/1.1 200 OK\r\nX: a\u001bb', 'the control character U+001B'],
    ['HTTP/1.1 200 OK\r\nX: a\u007fb', 'the control character U+007F'],
  ])('%j → %s', (text, fault) => {
    expect(responseHeadFault(text)).toBe(fault);
  });
});

describe('nextPageUrl', () => {
  it.each([
    ['</v2/_catalog?last=b&n=2>; rel="next"', '/v2/_catalog?last=b&n=2'],
    ['</v2/acme/app/tags/list?n=100&last=1.0>; rel=next', '/v2/acme/app/tags/list?n=100&last=1.0'],
    [['</v2/_catalog?last=z&n=1>; rel="next"'], '/v2/_catalog?last=z&n=1'],
    ['</v2/x>; rel="prev"', undefined],
    [undefined, undefined],
  ])('%s', (link, expected) => {
    expect(nextPageUrl(link)).toBe(expected);
  });
});

describe('pickHeaders', () => {
  it('keeps only the named headers and joins repeated ones', () => {
    const picked = pickHeaders({ accept: ['a/b', 'c/d'], authorization: 'Basic x', range: 'bytes=0-1', host: 'evil' }, FORWARDED_REQUEST_HEADERS);
    expect(picked).toEqual({ accept: 'a/b, c/d', range: 'bytes=0-1' });
  });

  it('never forwards credentials or the client-chosen host, never relays hop-by-hop headers', () => {
    for (const h of ['authorization', 'cookie', 'host', 'x-forwarded-host', 'x-forwarded-proto', 'proxy-authorization']) {
      expect(FORWARDED_REQUEST_HEADERS as readonly string[]).not.toContain(h);
    }
    for (const h of ['connection', 'transfer-encoding', 'keep-alive', 'www-authenticate', 'set-cookie']) {
      expect(RELAYED_RESPONSE_HEADERS as readonly string[]).not.toContain(h);
    }
  });
});

describe('summarizeNotification', () => {
  const event = (action: string, repository: string, extra: Record<string, unknown> = {}) => ({ id: 'e', action, target: { repository, ...extra } });

  it('names the repositories that pushes, deletes and mounts changed, once each, sorted', () => {
    const s = summarizeNotification({
      events: [event('push', 'acme/b', { tag: '1.0' }), event('pull', 'acme/c'), event('delete', 'acme/a'), event('push', 'acme/b'), event('mount', 'acme/d')],
    });
    expect(s).toEqual({ events: 5, changed: ['acme/a', 'acme/b', 'acme/d'] });
  });

  it('counts but ignores pulls and actions it does not know', () => {
    expect(summarizeNotification({ events: [event('pull', 'acme/a'), event('teleport', 'acme/b')] })).toEqual({ events: 2, changed: [] });
    expect(summarizeNotification({ events: [] })).toEqual({ events: 0, changed: [] });
  });

  it.each([
    [null, /"events" array/],
    [[], /"events" array/],
    [{ events: 'x' }, /"events" array/],
    [{ events: [null] }, /events\[0\] needs/],
    [{ events: [{ action: 'push' }] }, /events\[0\] needs/],
    [{ events: [{ action: 1, target: {} }] }, /events\[0\] needs/],
    [{ events: [event('push', 'acme/a'), { action: 'push', target: { repository: 'Bad Name' } }] }, /events\[1\]\.target\.repository/],
    [{ events: [{ action: 'push', target: {} }] }, /events\[0\]\.target\.repository/],
  ])('refuses %j', (body, message) => {
    const err = errorOf(() => summarizeNotification(body));
    expect(err.message).toMatch(message);
    expect((err as { field?: string }).field).toBe('events');
  });
});

describe('parseResponseHead', () => {
  it('reads the status, lower-cased headers and the body length', () => {
    const head = parseResponseHead(['HTTP/1.1 206 Partial Content', 'Content-Length: 8', 'Docker-Content-Digest: sha256:x', 'X-A: 1', 'x-a: 2'].join('\r\n'));
    expect(head).toEqual({ statusCode: 206, headers: { 'content-length': '8', 'docker-content-digest': 'sha256:x', 'x-a': '1, 2' }, contentLength: 8 });
    expect(parseResponseHead('HTTP/1.0 307 Temporary Redirect\r\nLocation: https://s3/x\r\nContent-Length: 0')).toMatchObject({ statusCode: 307, contentLength: 0 });
    expect(parseResponseHead('HTTP/1.1 204 No Content')).toMatchObject({ statusCode: 204, contentLength: 0 });
    expect(parseResponseHead('HTTP/1.1 200\r\nContent-Length: 0')).toMatchObject({ statusCode: 200, contentLength: 0 });
  });

  it.each([
    ['a chunked body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked'],
    ['no length', 'HTTP/1.1 200 OK\r\nContent-Type: x'],
    ['two lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2'],
    ['a bad length', 'HTTP/1.1 200 OK\r\nContent-Length: -1'],
    ['an interim response', 'HTTP/1.1 100 Continue'],
    ['another protocol', 'HTTP/2 200\r\nContent-Length: 1'],
    ['a bad status line', 'HTTP/1.1 2000 OK\r\nContent-Length: 1'],
    ['a line without a colon', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nbroken'],
    ['a bad header name', 'HTTP/1.1 200 OK\r\nContent Length: 1'],
    ['nothing', ''],
  ])('leaves %s to the full client', (_what, text) => {
    expect(parseResponseHead(text)).toBeUndefined();
  });
});
