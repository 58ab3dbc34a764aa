import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, loggableUrl } from '../../src/http/logger.js';

describe('loggableUrl', () => {
  it.each([
    ['/v2/acme/app/manifests/1.0', '/v2/acme/app/manifests/1.0'],
    ['/token?service=portcullis&scope=repository:acme/app:pull', '/token?service=portcullis&scope=repository:acme/app:pull'],
    ['/v2/_catalog?n=10&last=acme%2Fapp', '/v2/_catalog?n=10&last=acme%2Fapp'],
    ['/token?service=portcullis&password=s3cr3t', '/token?service=portcullis&password=[redacted]'],
    ['/api/v1/explain?token=ctok_x.SECRET&scope=x', '/api/v1/explain?token=[redacted]&scope=x'],
    // A name that could itself be a secret or a full token is dropped whole.
    ['/x?ctok_7f3k2q9x1m4p8z6c.aVeryLongSecretValue0123456789ab', '/x?[redacted]'],
    ['/x?rr5MveaUmVP3YrpUmF4kXZrT8Yjd0TA9', '/x?[redacted]'],
    ['/x?flag&&pass%77ord=1', '/x?flag=[redacted]&password=[redacted]'],
    ['/x?%E0%A4%A=1', '/x?[redacted]'],
    // An invitation link's token is a credential in the path.
    ['/api/v1/invitations/Abc_def-0123456789abcdefghijklmnopqrstuvwxyzAB', '/api/v1/invitations/[redacted]'],
    ['/api/v1/invitations/Abc_def-0123?x=1', '/api/v1/invitations/[redacted]?x=[redacted]'],
    ['/api/v1/invitations/accept', '/api/v1/invitations/accept'],
    ['/api/v1/invitations', '/api/v1/invitations'],
  ])('%s → %s', (url, logged) => {
    expect(loggableUrl(url)).toBe(logged);
  });
});

describe('createLogger', () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    return { logger: createLogger('trace', sink), lines };
  };

  it('drops the raw bytes and headers an error carries, keeping its message and code', () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error('Parse Error: Invalid header value char'), { code: 'HPE_INVALID_HEADER_TOKEN', rawPacket: Buffer.from('Authorization: Basic c2VjcmV0'), headers: { authorization: 'Bearer x' } });
    logger.trace({ err }, 'client error');
    expect(lines[0]!.err).toMatchObject({ message: 'Parse Error: Invalid header value char', code: 'HPE_INVALID_HEADER_TOKEN' });
    expect(lines[0]!.err).not.toHaveProperty('rawPacket');
    expect(lines[0]!.err).not.toHaveProperty('headers');
    // The caller's error is left as it was.
    expect(err.rawPacket).toBeInstanceOf(Buffer);
  });

  it('redacts credential fields logged by hand', () => {
    const { logger, lines } = capture();
    logger.info({ password: 'p', secret: 's', refresh_token: 'r', headers: { authorization: 'Basic a', cookie: 'c' }, token: 'ctok_7f3k2q9x1m4p8z6c' }, 'x');
    expect(lines[0]).toMatchObject({ password: '[redacted]', secret: '[redacted]', refresh_token: '[redacted]', headers: { authorization: '[redacted]', cookie: '[redacted]' }, token: 'ctok_7f3k2q9x1m4p8z6c' });
  });
});
