import type { Principal } from '../core/decide.js';
import type { Token } from '../core/model.js';
import { loadPrincipal } from '../service/principal.js';
import type { Store, StoredToken } from '../store/store.js';

/** Lookups of one cache so far, for the metrics. */
export interface CacheCounts {
  hits: number;
  misses: number;
}

/**
 * What every registry request needs (the token row, its principal, a
 * repository's manifest graph), read once and kept until the store's change
 * marker moves. The marker moves on any committed write, from this process or
 * another (the CLI), so a revoke, a disable or a suspended license is seen on
 * the very next request while an unchanged store costs one cheap check. With
 * many instances the marker comes from the change feed (src/cache/change-feed.ts).
 */
export class AccessCache {
  private marker: string | undefined;
  private readonly tokens = new Map<string, StoredToken | null>();
  private readonly principals = new Map<string, Principal | null>();
  private readonly values = new Map<string, unknown>();
  private readonly counts: Record<string, CacheCounts> = {};

  constructor(
    private readonly store: Store,
    /** Where the marker comes from: the store itself, or a change feed shared by many instances. */
    private readonly changes: { marker(): Promise<string> },
    private readonly maxEntries = 10_000,
  ) {}

  /** Drops everything if the store changed since the last look. */
  private async sync(): Promise<void> {
    const marker = await this.changes.marker();
    if (marker === this.marker) return;
    this.marker = marker;
    this.clear();
  }

  clear(): void {
    this.tokens.clear();
    this.principals.clear();
    this.values.clear();
  }

  /** Hits and misses by cache: `token`, `principal`, and each kind of derived value. */
  cacheCounts(): Readonly<Record<string, CacheCounts>> {
    return this.counts;
  }

  private async cached<K, V>(map: Map<K, V>, cache: string, key: K, load: () => Promise<V>): Promise<V> {
    await this.sync();
    const counts = (this.counts[cache] ??= { hits: 0, misses: 0 });
    if (map.has(key)) {
      counts.hits++;
      return map.get(key) as V;
    }
    counts.misses++;
    const marker = this.marker;
    const value = await load();
    // A write landed while loading: the value may predate it, so do not keep it.
    if ((await this.changes.marker()) !== marker) return value;
    if (map.size >= this.maxEntries) map.clear();
    map.set(key, value);
    return value;
  }

  async token(id: string): Promise<StoredToken | undefined> {
    return (await this.cached(this.tokens, 'token', id, async () => (await this.store.findTokenForAuth(id)) ?? null)) ?? undefined;
  }

  async principal(token: Token): Promise<Principal | undefined> {
    return (await this.cached(this.principals, 'principal', token.id, async () => (await loadPrincipal(this.store, token)) ?? null)) ?? undefined;
  }

  /** Any other derived value (a repository's manifest graph): `kind` names it in the metrics, `key` tells values of a kind apart. */
  async value<V>(kind: string, key: string, load: () => Promise<V>): Promise<V> {
    return this.cached(this.values as Map<string, V>, kind, `${kind}\u0000${key}`, load);
  }
}
