import type { Customer, LicenseStatus, TokenStatus } from '../core/model.js';
import type { Store } from '../store/store.js';
import { audit, type Caller, type ServiceDeps } from './context.js';
import { resolveCustomer } from './customers.js';
import { authorize } from '../core/operations.js';

export type CustomerAction = 'suspend' | 'resume' | 'revoke';
export const CUSTOMER_ACTIONS: readonly CustomerAction[] = ['suspend', 'resume', 'revoke'];

/** What a customer-wide action changed (or, previewed, would change): ids in creation order. */
export interface CustomerActionSummary {
  action: CustomerAction;
  customer: Customer;
  tokens: string[];
  licenses: string[];
}

interface Change<S> {
  id: string;
  from: S;
  to: S;
}

interface Changes {
  tokens: Change<TokenStatus>[];
  licenses: Change<LicenseStatus>[];
}

/** How each action shows on the objects it changes, in their own audit vocabulary. */
const PER_OBJECT = {
  suspend: { token: 'token.disable', license: 'license.suspend', reason: 'customer suspended' },
  resume: { token: 'token.enable', license: 'license.resume', reason: 'customer resumed' },
  revoke: { token: 'token.revoke', license: 'license.revoke', reason: 'customer revoked' },
} as const;

/**
 * suspend: every active token and license; resume: exactly those a suspend
 * holds (an object disabled on its own, before or since, is not held); revoke:
 * everything not yet revoked.
 */
async function plan(store: Store, vendorId: string, customerId: string, action: CustomerAction): Promise<Changes> {
  if (action === 'suspend') {
    const tokens = await store.listTokens(vendorId, { customerId, status: 'active' });
    const licenses = await store.listLicenses(vendorId, { customerId, status: 'active' });
    return {
      tokens: tokens.map((t) => ({ id: t.id, from: t.status, to: 'disabled' })),
      licenses: licenses.map((l) => ({ id: l.id, from: l.status, to: 'suspended' })),
    };
  }
  if (action === 'resume') {
    const tokens = await store.listTokens(vendorId, { customerId, held: true, status: 'disabled' });
    const licenses = await store.listLicenses(vendorId, { customerId, held: true, status: 'suspended' });
    return {
      tokens: tokens.map((t) => ({ id: t.id, from: t.status, to: 'active' })),
      licenses: licenses.map((l) => ({ id: l.id, from: l.status, to: 'active' })),
    };
  }
  const tokens = (await store.listTokens(vendorId, { customerId })).filter((t) => t.status !== 'revoked');
  const licenses = (await store.listLicenses(vendorId, { customerId })).filter((l) => l.status !== 'revoked');
  return {
    tokens: tokens.map((t) => ({ id: t.id, from: t.status, to: 'revoked' })),
    licenses: licenses.map((l) => ({ id: l.id, from: l.status, to: 'revoked' })),
  };
}

/**
 * One transaction: every change lands or none does. Each object gets its own
 * audit event (so `audit --object` tells its whole story), and the customer
 * one event listing everything. Nothing to change writes nothing, like a
 * repeated status change.
 */
async function apply(deps: ServiceDeps, caller: Caller, ref: string, action: CustomerAction): Promise<CustomerActionSummary> {
  const now = deps.now();
  return deps.store.transaction(async (tx) => {
    const customer = await resolveCustomer(tx, caller.vendorId, ref);
    const changes = await plan(tx, caller.vendorId, customer.id, action);
    const words = PER_OBJECT[action];
    const hold = action === 'suspend';
    for (const c of changes.tokens) {
      await tx.setTokenStatus(caller.vendorId, c.id, c.to, now, hold);
      await audit(tx, deps, caller, now, { action: words.token, objectType: 'token', objectId: c.id, detail: { from: c.from, to: c.to, reason: words.reason } });
    }
    for (const c of changes.licenses) {
      await tx.setLicenseStatus(caller.vendorId, c.id, c.to, now, hold);
      await audit(tx, deps, caller, now, { action: words.license, objectType: 'license', objectId: c.id, detail: { from: c.from, to: c.to, reason: words.reason } });
    }
    const summary = { action, customer, tokens: changes.tokens.map((c) => c.id), licenses: changes.licenses.map((c) => c.id) };
    if (summary.tokens.length + summary.licenses.length > 0) {
      await audit(tx, deps, caller, now, {
        action: `customer.${action}`,
        objectType: 'customer',
        objectId: customer.id,
        detail: { name: customer.name, tokens: summary.tokens, licenses: summary.licenses },
      });
    }
    return summary;
  });
}

/** Disables every active token and suspends every active license of the customer; resume undoes exactly that. */
export function suspendCustomer(deps: ServiceDeps, caller: Caller, customerRef: string): Promise<CustomerActionSummary> {
  authorize(caller.authority, 'customers.write');
  return apply(deps, caller, customerRef, 'suspend');
}

/** Re-enables the tokens and reactivates the licenses that customer suspends disabled, and nothing else. */
export function resumeCustomer(deps: ServiceDeps, caller: Caller, customerRef: string): Promise<CustomerActionSummary> {
  authorize(caller.authority, 'customers.write');
  return apply(deps, caller, customerRef, 'resume');
}

/** Revokes every token and license of the customer, for good. The customer itself stays. */
export function revokeCustomer(deps: ServiceDeps, caller: Caller, customerRef: string): Promise<CustomerActionSummary> {
  authorize(caller.authority, 'customers.write');
  return apply(deps, caller, customerRef, 'revoke');
}

/** What the action would change now, without changing anything (the CLI's answer to a revoke without --yes). */
export async function previewCustomerAction(deps: ServiceDeps, caller: Caller, customerRef: string, action: CustomerAction): Promise<CustomerActionSummary> {
  authorize(caller.authority, 'customers.write');
  const customer = await resolveCustomer(deps.store, caller.vendorId, customerRef);
  const changes = await plan(deps.store, caller.vendorId, customer.id, action);
  return { action, customer, tokens: changes.tokens.map((c) => c.id), licenses: changes.licenses.map((c) => c.id) };
}
