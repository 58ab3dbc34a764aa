import { conflict, invalid, notFound } from '../core/errors.js';
import { authorize } from '../core/operations.js';
import { newId } from '../core/ids.js';
import type { Actor, Vendor } from '../core/model.js';
import { validateName } from '../core/text.js';
import { parseRepositoryPatterns } from './plans.js';
import { audit, type Caller, type ServiceDeps } from './context.js';

export interface VendorInput {
  name: string;
  /** Repository patterns; default `<name>/**`. */
  namespaces?: string | readonly string[];
}

const VENDOR_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export async function resolveVendor(deps: ServiceDeps, ref: string): Promise<Vendor> {
  const vendor = ref.startsWith('ven_') ? await deps.store.getVendor(ref) : await deps.store.getVendorByName(ref);
  if (!vendor) throw notFound(`vendor ${ref} not found`);
  return vendor;
}

/** Every vendor for the operator; any other vendor sees only itself. */
export async function listVendors(deps: ServiceDeps, caller: Caller): Promise<Vendor[]> {
  authorize(caller.authority, 'vendors.read');
  if (caller.authority.operator) return deps.store.listVendors();
  const own = await deps.store.getVendor(caller.vendorId);
  return own ? [own] : [];
}

/** One vendor; to a vendor other than the operator, another vendor is "not found", never "forbidden". */
export async function getVendorFor(deps: ServiceDeps, caller: Caller, ref: string): Promise<Vendor> {
  authorize(caller.authority, 'vendors.read');
  const vendor = await resolveVendor(deps, ref);
  if (vendor.id !== caller.vendorId && !caller.authority.operator) throw notFound(`vendor ${ref} not found`);
  return vendor;
}

export async function createVendor(deps: ServiceDeps, caller: Caller, input: VendorInput): Promise<Vendor> {
  authorize(caller.authority, 'vendors.create');
  const name = validateName(input.name, 'name');
  if (!VENDOR_NAME.test(name)) throw invalid(`vendor name "${name}" must be lower case letters, digits and . _ - (like a repository namespace)`, 'name');
  const namespaces = input.namespaces === undefined ? [`${name}/**`] : parseRepositoryPatterns(input.namespaces, 'namespaces');
  if (namespaces.length === 0) throw invalid('a vendor needs at least one namespace pattern', 'namespaces');
  const vendor: Vendor = { id: newId('ven', deps.random), name, namespaces, isOperator: false, createdAt: deps.now() };
  return deps.store.transaction(async (tx) => {
    if (await tx.getVendorByName(name)) throw conflict(`a vendor named ${name} already exists`);
    await tx.insertVendor(vendor);
    // Recorded under the new vendor too, so its own audit log starts with its creation.
    for (const vendorId of new Set([caller.vendorId, vendor.id])) {
      await audit(tx, deps, { ...caller, vendorId }, vendor.createdAt, { action: 'vendor.create', objectType: 'vendor', objectId: vendor.id, detail: { name, namespaces } });
    }
    return vendor;
  });
}

export const SYSTEM_ACTOR: Actor = { name: 'system', source: 'system' };
