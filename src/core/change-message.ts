/**
 * What instances tell each other through the shared cache: which of their
 * caches a change made elsewhere has made stale. Parsing is strict, since
 * anything on the channel is input from outside the process.
 */
export type Change =
  /** A write committed to the store: tokens, licenses, customers, vendors, manifests may differ. */
  | { kind: 'store' }
  /** The signing keys in the data dir changed (`keys rotate`, a new certificate). */
  | { kind: 'keys' }
  /** Gateway mode: these upstream repositories were pushed to or deleted from. */
  | { kind: 'upstream'; repositories: string[] };

const MAX_REPOSITORIES = 1000;

export function formatChange(change: Change): string {
  return JSON.stringify(change);
}

/** The change a message announces; undefined for anything else (a foreign or torn message is ignored, not trusted). */
export function parseChange(message: string): Change | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, repositories } = value as Record<string, unknown>;
  if (kind === 'store' || kind === 'keys') return { kind };
  if (kind === 'upstream' && Array.isArray(repositories) && repositories.length <= MAX_REPOSITORIES && repositories.every((r) => typeof r === 'string' && r.length > 0 && r.length <= 255)) {
    return { kind, repositories: repositories as string[] };
  }
  return undefined;
}
