import type { Redis } from 'ioredis';
import { PortcullisError } from '../core/errors.js';

/** How long a command may wait for Redis before it fails (and the caller falls back). */
const COMMAND_TIMEOUT_MS = 2000;
const CONNECT_TIMEOUT_MS = 5000;

/** Where a cache.redis URL points, without its credentials: the only form of it ever printed. */
export function redisLocation(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparsable cache.redis)';
  }
}

/**
 * A connected client. Commands never queue while Redis is away: they fail at
 * once, so a request falls back (rate counts in memory, change markers from the
 * store) instead of hanging. ioredis reconnects in the background.
 * Loaded on first use: an instance without Redis never pays for the client.
 */
export async function connectRedis(url: string, name: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectionName: name,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  // Errors surface through the commands that fail; without a listener ioredis would print each reconnect attempt.
  let socketError: Error | undefined;
  client.on('error', (err: Error) => {
    socketError ??= err;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    // connect() itself only says "Connection is closed"; the socket's error says why.
    const cause = socketError ?? err;
    const reason = cause instanceof Error ? cause.message.replaceAll(url, redisLocation(url)) : String(cause);
    throw new PortcullisError('unavailable', `cannot reach Redis at ${redisLocation(url)} (cache.redis): ${reason}`, 'cache.redis');
  }
  return client;
}
