import { conflict, invalid, notFound } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Customer } from '../core/model.js';
import { optionalName, validateName } from '../core/text.js';
import type { Store } from '../store/store.js';
import { audit, type Caller, type ServiceDeps } from './context.js';
import { authorize } from '../core/operations.js';

export interface CustomerInput {
  name: string;
  contact?: string | null;
}

/**
 * Looks a customer up by id (`cus_…`) or by its unique name within the vendor.
 * includeDeleted lets list filters still find a deleted customer by id, so its
 * revoked tokens and licenses stay reachable.
 */
export async function resolveCustomer(store: Store, vendorId: string, ref: string, includeDeleted = false): Promise<Customer> {
  const found = ref.startsWith('cus_') ? await store.getCustomer(vendorId, ref, includeDeleted) : await store.getCustomerByName(vendorId, ref);
  if (!found) throw notFound(`customer ${ref} not found`);
  return found;
}

export async function listCustomers(deps: ServiceDeps, caller: Caller): Promise<Customer[]> {
  authorize(caller.authority, 'customers.read');
  return deps.store.listCustomers(caller.vendorId);
}

export async function getCustomer(deps: ServiceDeps, caller: Caller, ref: string): Promise<Customer> {
  authorize(caller.authority, 'customers.read');
  return resolveCustomer(deps.store, caller.vendorId, ref);
}

export async function createCustomer(deps: ServiceDeps, caller: Caller, input: CustomerInput): Promise<Customer> {
  authorize(caller.authority, 'customers.write');
  const name = validateName(input.name, 'name');
  if (name.startsWith('cus_')) throw invalid('customer names must not start with cus_ (that prefix marks ids)', 'name');
  const contact = optionalName(input.contact, 'contact');
  const now = deps.now();
  const customer: Customer = { id: newId('cus', deps.random), vendorId: caller.vendorId, name, contact, createdAt: now, updatedAt: now, deletedAt: null };
  return deps.store.transaction(async (tx) => {
    if (await tx.getCustomerByName(caller.vendorId, name)) throw conflict(`a customer named ${name} already exists`);
    await tx.insertCustomer(customer);
    await audit(tx, deps, caller, now, { action: 'customer.create', objectType: 'customer', objectId: customer.id, detail: { name, contact } });
    return customer;
  });
}

export async function updateCustomer(deps: ServiceDeps, caller: Caller, ref: string, input: Partial<CustomerInput>): Promise<Customer> {
  authorize(caller.authority, 'customers.write');
  const now = deps.now();
  return deps.store.transaction(async (tx) => {
    const current = await resolveCustomer(tx, caller.vendorId, ref);
    const next: Customer = { ...current, updatedAt: now };
    if (input.name !== undefined) {
      next.name = validateName(input.name, 'name');
      if (next.name.startsWith('cus_')) throw invalid('customer names must not start with cus_ (that prefix marks ids)', 'name');
      const clash = await tx.getCustomerByName(caller.vendorId, next.name);
      if (clash && clash.id !== current.id) throw conflict(`a customer named ${next.name} already exists`);
    }
    if (input.contact !== undefined) next.contact = optionalName(input.contact, 'contact');
    await tx.updateCustomer(next);
    await audit(tx, deps, caller, now, {
      action: 'customer.update',
      objectType: 'customer',
      objectId: current.id,
      detail: { name: next.name, contact: next.contact },
    });
    return next;
  });
}

export interface CustomerDeletion {
  customer: Customer;
  revokedTokens: string[];
  revokedLicenses: string[];
}

/**
 * A customer that still has tokens or licenses is only deleted with force, and
 * then everything of it is revoked in the same transaction. The row is kept
 * (marked deleted) so revoked tokens stay listed with their owner.
 */
export async function deleteCustomer(deps: ServiceDeps, caller: Caller, ref: string, force: boolean): Promise<CustomerDeletion> {
  authorize(caller.authority, 'customers.write');
  const now = deps.now();
  return deps.store.transaction(async (tx) => {
    const customer = await resolveCustomer(tx, caller.vendorId, ref);
    const tokens = await tx.listTokens(caller.vendorId, { customerId: customer.id });
    const licenses = await tx.listLicenses(caller.vendorId, { customerId: customer.id });
    const liveTokens = tokens.filter((t) => t.status !== 'revoked');
    const liveLicenses = licenses.filter((l) => l.status !== 'revoked');
    if (!force && (liveTokens.length > 0 || liveLicenses.length > 0)) {
      throw conflict(
        `customer ${customer.name} has ${liveTokens.length} token(s) and ${liveLicenses.length} license(s); use --force to revoke them and delete the customer`,
      );
    }
    for (const t of liveTokens) {
      await tx.setTokenStatus(caller.vendorId, t.id, 'revoked', now);
      await audit(tx, deps, caller, now, { action: 'token.revoke', objectType: 'token', objectId: t.id, detail: { reason: 'customer deleted' } });
    }
    for (const l of liveLicenses) {
      await tx.setLicenseStatus(caller.vendorId, l.id, 'revoked', now);
      await audit(tx, deps, caller, now, { action: 'license.revoke', objectType: 'license', objectId: l.id, detail: { reason: 'customer deleted' } });
    }
    const deleted: Customer = { ...customer, deletedAt: now, updatedAt: now };
    await tx.updateCustomer(deleted);
    await audit(tx, deps, caller, now, { action: 'customer.delete', objectType: 'customer', objectId: customer.id, detail: { name: customer.name, force } });
    return { customer: deleted, revokedTokens: liveTokens.map((t) => t.id), revokedLicenses: liveLicenses.map((l) => l.id) };
  });
}
