import type { Config } from '../config/schema.js';
import { MemoryRateCounterStore, type RateCounterStore } from '../auth/rate-counter-store.js';
import type { GraphSource } from '../registry/graph-source.js';
import type { Store } from '../store/store.js';
import { LocalChangeFeed, RedisChangeFeed, type ChangeFeed } from './change-feed.js';
import { connectRedis, redisLocation } from './redis-connection.js';
import { FallbackRateCounterStore, RedisRateCounterStore } from './redis-rate-counter-store.js';

/** What instances share, or this process keeps alone when cache.redis is unset. */
export interface SharedCache {
  changes: ChangeFeed;
  counters: RateCounterStore;
  /** Where it lives, for the start-up log: `memory`, or the Redis location without credentials. */
  location: string;
  close(): Promise<void>;
}

export interface SharedCacheOptions {
  /** `serve`: an unreachable Redis stops start-up. A CLI command goes on without it (its writes still reach the others through the store poll). */
  required: boolean;
  /** The first failure of each Redis outage, after start. */
  onError: (err: unknown) => void;
  warn: (message: string) => void;
}

export async function openSharedCache(config: Readonly<Config>, store: Store, options: SharedCacheOptions): Promise<SharedCache> {
  const url = config.cache.redis;
  const local = (): SharedCache => ({ changes: new LocalChangeFeed(store), counters: new MemoryRateCounterStore(), location: 'memory', close: async () => {} });
  if (url === '') return local();
  let client;
  try {
    client = await connectRedis(url, 'portcullis');
  } catch (err) {
    if (options.required) throw err;
    options.warn(`${(err as Error).message}; going on without it: other instances see this command's changes within a second through the store`);
    return local();
  }
  const prefix = config.cache.key_prefix;
  const changes = new RedisChangeFeed({ store, publisher: client, prefix, onError: options.onError });
  store.onCommit(() => changes.announce({ kind: 'store' }));
  return {
    changes,
    counters: new FallbackRateCounterStore(new RedisRateCounterStore(client, prefix), options.onError),
    location: redisLocation(url),
    async close() {
      await changes.close();
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/**
 * Gateway mode: a push or delete through one instance, or a notification from
 * the upstream to any of them, drops the repository's graph in every instance.
 */
export function announcedGraphs(graphs: GraphSource, changes: ChangeFeed): GraphSource {
  changes.onChange((change) => {
    if (change.kind === 'upstream') for (const repository of change.repositories) graphs.changed(repository);
  });
  return {
    graph: (repository) => graphs.graph(repository),
    changed(repository) {
      graphs.changed(repository);
      void changes.announce({ kind: 'upstream', repositories: [repository] });
    },
    ...(graphs.cacheCounts && { cacheCounts: () => graphs.cacheCounts!() }),
    ...(graphs.cachedRepositories && { cachedRepositories: () => graphs.cachedRepositories!() }),
  };
}
