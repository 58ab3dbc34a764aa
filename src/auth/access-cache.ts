import type { Principal } from '../core/decide.js';
import type { Token } from '../core/model.js';
import { loadPrincipal } from '../service/principal.js';
import type { Store, StoredToken } from '../store/store.js';

/**
 * What every registry request needs (the token row, its principal, a
 * repository's manifest graph), read once and kept until the store's change
 * marker moves. The marker moves on any committed write, from this process or
 * another (the CLI), so a revoke, a disable or a suspended license is seen on
 * the very next request while an unchanged store costs one cheap check.
 */
export class AccessCache {
  private marker: string | undefined;
  private readonly tokens = new Map<string, StoredToken | null>();
  private readonly principals = new Map<string, Principal | null>();
  private readonly values = new Map<string, unknown>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly store: Store,
    private readonly maxEntries = 10_000,
  ) {}

  /** Drops everything if the store changed since the last look. */
  private async sync(): Promise<void> {
    const marker = await this.store.changeMarker();
    if (marker === this.marker) return;
    this.marker = marker;
    this.clear();
  }

  clear(): void {
    this.tokens.clear();
    this.principals.clear();
    this.values.clear();
  }

  private async cached<K, V>(map: Map<K, V>, key: K, load: () => Promise<V>): Promise<V> {
    await this.sync();
    if (map.has(key)) {
      this.hits++;
      return map.get(key) as V;
    }
    this.misses++;
    const marker = this.marker;
    const value = await load();
    // A write landed while loading: the value may predate it, so do not keep it.
    if ((await this.store.changeMarker()) !== marker) return value;
    if (map.size >= this.maxEntries) map.clear();
    map.set(key, value);
    return value;
  }

  async token(id: string): Promise<StoredToken | undefined> {
    return (await this.cached(this.tokens, id, async () => (await this.store.findTokenForAuth(id)) ?? null)) ?? undefined;
  }

  async principal(token: Token): Promise<Principal | undefined> {
    return (await this.cached(this.principals, token.id, async () => (await loadPrincipal(this.store, token)) ?? null)) ?? undefined;
  }

  /** Any other derived value (a repository's manifest graph), under a key of the caller's choosing. */
  async value<V>(key: string, load: () => Promise<V>): Promise<V> {
    return this.cached(this.values as Map<string, V>, key, load);
  }
}
