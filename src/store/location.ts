import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { invalid } from '../core/errors.js';

/** Where config.store.url points. */
export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export function storeLocation(config: Readonly<Config>): StoreLocation {
  const url = config.store.url.trim();
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  if (url === '') return { kind: 'sqlite', file: join(config.data_dir, 'portcullis.db') };
  if (url.startsWith('sqlite:')) return { kind: 'sqlite', file: resolve(config.data_dir, url.slice('sqlite:'.length)) };
  // The URL may hold a password: never repeat it.
  throw invalid('bad config value for "store.url": expected empty (SQLite in the data dir), sqlite:PATH or postgres://…', 'store.url');
}
