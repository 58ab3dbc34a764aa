import { describe, expect, it } from 'vitest';
import { parseListenAddress } from './listen-address.js';

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['0.0.0.0:9464', { host: '0.0.0.0', port: 9464 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['[::]:0', { host: '::', port: 0 }],
    ['localhost:65535', { host: 'localhost', port: 65535 }],
    [' metrics.internal:9464 ', { host: 'metrics.internal', port: 9464 }],
  ])('reads %j', (text, expected) => {
    expect(parseListenAddress(text, 'metrics.listen')).toEqual(expected);
  });

  it.each([
    ['9464', /not a listen address: expected HOST:PORT/],
    [':9464', /not a listen address/],
    ['::1:9464', /not a listen address/],
    ['[127.0.0.1', /not a listen address/],
    ['127.0.0.1:', /not a listen address/],
    ['127.0.0.1:http', /not a listen address/],
    ['127.0.0.1:65536', /port must be a number from 0 to 65535/],
    ['127.0.0.1:123456', /not a listen address/],
    ['http://127.0.0.1:9464', /not a listen address/],
  ])('refuses %j', (text, message) => {
    expect(() => parseListenAddress(text, 'metrics.listen')).toThrow(message);
  });
});
