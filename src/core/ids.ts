import { encodeTokenId } from './token-format.js';

export type Random = (n: number) => Uint8Array;

/** Opaque object ids: `cus_…`, `lic_…`, `pln_…`, `usr_…`, `ven_…`. */
export function newId(prefix: 'cus' | 'lic' | 'pln' | 'usr' | 'ven', random: Random): string {
  return `${prefix}_${encodeTokenId(random(10))}`;
}

let lastMs = -1;
let sequence = 0;

/**
 * Event ids sort by time (a fixed-width base-32 millisecond stamp first), and
 * within one millisecond by a sequence, so that listing and cursor pagination
 * over audit and usage events keep the order things happened in.
 */
export function newEventId(now: Date, random: Random): string {
  const ms = now.getTime();
  sequence = ms === lastMs ? sequence + 1 : 0;
  lastMs = ms;
  const stamp = ms.toString(32).padStart(10, '0');
  const seq = sequence.toString(32).padStart(4, '0');
  return `evt_${stamp}${seq}${encodeTokenId(random(10)).slice(0, 6)}`;
}
