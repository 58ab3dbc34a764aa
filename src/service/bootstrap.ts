import { newId } from '../core/ids.js';
import type { Vendor } from '../core/model.js';
import { validateRepoPattern } from '../core/repo-pattern.js';
import { ownerCaller, audit, type ServiceDeps } from './context.js';
import { createToken, type CreatedToken } from './tokens.js';
import { SYSTEM_ACTOR } from './vendors.js';

export interface Bootstrap {
  vendor: Vendor;
  /** Only on the very first start: the one bootstrap token and its secret. */
  created?: CreatedToken;
}

export const BOOTSTRAP_SCOPES = ['pull', 'push', 'admin:*:*'];

/**
 * On an empty store: the operator vendor and one bootstrap vendor token with
 * every scope, in one transaction so two instances starting together cannot
 * both create one. Later starts find the vendor and create nothing.
 */
export async function ensureOperator(deps: ServiceDeps): Promise<Bootstrap> {
  return deps.store.transaction(async (tx) => {
    const existing = await tx.getOperatorVendor();
    if (existing) return { vendor: existing };
    const now = deps.now();
    const vendor: Vendor = {
      id: newId('ven', deps.random),
      name: deps.config.bootstrap.vendor,
      namespaces: deps.config.bootstrap.namespaces.map((p) => validateRepoPattern(p, 'bootstrap.namespaces')),
      isOperator: true,
      createdAt: now,
    };
    await tx.insertVendor(vendor);
    const caller = ownerCaller(vendor, SYSTEM_ACTOR);
    await audit(tx, deps, caller, now, { action: 'vendor.create', objectType: 'vendor', objectId: vendor.id, detail: { name: vendor.name, operator: true } });
    const created = await createToken({ ...deps, store: tx }, caller, { type: 'vendor', name: 'bootstrap', scopes: BOOTSTRAP_SCOPES });
    return { vendor, created };
  });
}
