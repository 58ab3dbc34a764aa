import { encodeTokenId } from './token-format.js';

export type Random = (n: number) => Uint8Array;

/** Opaque object ids: `cus_…`, `lic_…`, `pln_…`, `ven_…`. */
export function newId(prefix: 'cus' | 'lic' | 'pln' | 'ven', random: Random): string {
  return `${prefix}_${encodeTokenId(random(10))}`;
}

/**
 * Event ids sort by time (a fixed-width base-32 millisecond stamp first) so that
 * cursor pagination over audit and usage events is stable.
 */
export function newEventId(now: Date, random: Random): string {
  const ms = now.getTime().toString(32).padStart(10, '0');
  return `evt_${ms}${encodeTokenId(random(10)).slice(0, 8)}`;
}
