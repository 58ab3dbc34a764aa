import type { Config } from '../config/schema.js';
import type { Random } from '../core/ids.js';
import { newEventId } from '../core/ids.js';
import type { Actor, AuditEvent } from '../core/model.js';
import type { UserRole } from '../core/roles.js';
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
  vendorId: string;
  actor: Actor;
  /**
   * Set when a signed-in dashboard user acts. Its role's scopes already
   * passed the route's check; services use the role for what a scope cannot
   * say (an admin grants no owner role and touches no owner).
   */
  user?: { id: string; role: UserRole };
}

export async function audit(
  store: Store,
  deps: ServiceDeps,
  caller: Caller,
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
