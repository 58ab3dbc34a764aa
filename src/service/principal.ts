import type { LicenseGrant, Principal } from '../core/decide.js';
import type { Plan, Token } from '../core/model.js';
import type { Store } from '../store/store.js';

/**
 * Everything `decide` needs about a token, read in one go. A token whose
 * vendor or customer is gone yields undefined: nothing to grant.
 */
export async function loadPrincipal(store: Store, token: Token): Promise<Principal | undefined> {
  const vendor = await store.getVendor(token.vendorId);
  if (!vendor) return undefined;
  if (token.type === 'vendor') return { kind: 'vendor', token, vendor };
  if (token.customerId === null) return undefined;

  const customer = await store.getCustomer(vendor.id, token.customerId, true);
  if (!customer) return undefined;
  const licenses = await store.listLicenses(vendor.id, { customerId: customer.id });
  const plans = new Map<string, Plan | undefined>();
  for (const id of new Set(licenses.map((l) => l.planId).filter((id): id is string => id !== null))) {
    plans.set(id, await store.getPlan(vendor.id, id));
  }
  const grants: LicenseGrant[] = licenses.map((license) => ({
    license,
    plan: license.planId === null ? null : (plans.get(license.planId) ?? null),
  }));
  return { kind: 'customer', token, vendor, customer, grants, ...(vendor.isOperator ? { foreign: await foreignNamespaces(store) } : {}) };
}

/** Every tenant's namespaces: what a license of the operator vendor must not reach. */
export async function foreignNamespaces(store: Pick<Store, 'listVendors'>): Promise<string[]> {
  return (await store.listVendors()).filter((v) => !v.isOperator).flatMap((v) => v.namespaces);
}
