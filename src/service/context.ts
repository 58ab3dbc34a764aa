import type { Config } from '../config/schema.js';
import type { Random } from '../core/ids.js';
import { newEventId } from '../core/ids.js';
import type { Actor, AuditEvent, Vendor } from '../core/model.js';
import { localAuthority, type Authority } from '../core/authority.js';
import type { Store } from '../store/store.js';

export interface ServiceDeps {
  store: Store;
  now: () => Date;
  random: Random;
  pepper: Uint8Array;
  config: Readonly<Config>;
}

/** Who is acting, for which vendor: every service call is made on behalf of one. */
export interface Caller {
  /** The vendor acted for: the authority's own, or another one the operator acts in. */
  vendorId: string;
  actor: Actor;
  /** What the caller may do, judged by src/core/operations.ts whoever it is. */
  authority: Authority;
}

/** Acting with an owner's authority over `vendor`: the CLI on the instance's own data dir, start-up, scripts. */
export function ownerCaller(vendor: Vendor, actor: Actor): Caller {
  return { vendorId: vendor.id, actor, authority: localAuthority(vendor) };
}

/** Who an audit event names: an actor, for a vendor. Logging in and accepting an invitation act with no authority yet. */
export type Acting = Pick<Caller, 'vendorId' | 'actor'>;

export async function audit(
  store: Store,
  deps: ServiceDeps,
  caller: Acting,
  at: Date,
  event: Pick<AuditEvent, 'action' | 'objectType' | 'objectId'> & { detail?: Record<string, unknown> },
): Promise<void> {
  await store.insertAudit({
    id: newEventId(at, deps.random),
    vendorId: caller.vendorId,
    at,
    actor: caller.actor.name,
    source: caller.actor.source,
    action: event.action,
    objectType: event.objectType,
    objectId: event.objectId,
    detail: event.detail ?? {},
  });
}
