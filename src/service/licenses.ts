import { invalid, notFound } from '../core/errors.js';
import { parseDate, parseEnd } from '../core/expiry.js';
import { newId } from '../core/ids.js';
import { LICENSE_STATUSES, type License, type LicenseStatus } from '../core/model.js';
import { nextLicenseStatus, type LicenseAction } from '../core/status.js';
import { validateTagPattern } from '../core/tag-pattern.js';
import { COMMAS, optionalName, splitList } from '../core/text.js';
import { audit, type Caller, type ServiceDeps } from './context.js';
import { resolveCustomer } from './customers.js';
import { parseRepositoryPatterns, resolvePlan } from './plans.js';
import { authorize } from '../core/operations.js';

export interface LicenseInput {
  customer: string;
  name?: string | null;
  repositories?: string | readonly string[];
  plan?: string;
  tags?: string | readonly string[];
  /** Date or timestamp; default now. */
  validFrom?: string;
  /** Date, timestamp, or a duration counted from validFrom (`1y`); empty or `never`: no end. */
  validUntil?: string;
}

export async function createLicense(deps: ServiceDeps, caller: Caller, input: LicenseInput): Promise<License> {
  authorize(caller.authority, 'licenses.write');
  const now = deps.now();
  const repositories = parseRepositoryPatterns(input.repositories);
  const tags = [...new Set(splitList(input.tags, COMMAS).map((t) => validateTagPattern(t, 'tags')))];
  const validFrom = input.validFrom?.trim() ? parseDate(input.validFrom, 'valid_from') : now;
  const validUntil = parseEnd(input.validUntil ?? '', validFrom, 'valid_until');
  if (validUntil && validUntil.getTime() <= validFrom.getTime()) {
    throw invalid(`valid_until ${validUntil.toISOString()} must be after valid_from ${validFrom.toISOString()}`, 'valid_until');
  }
  if (validUntil && validUntil.getTime() <= now.getTime()) {
    throw invalid(`valid_until ${validUntil.toISOString()} is in the past`, 'valid_until');
  }
  if (repositories.length > 0 && input.plan) throw invalid('give either repository patterns or a plan, not both', 'plan');
  if (repositories.length === 0 && !input.plan) throw invalid('a license needs repository patterns or a plan', 'repositories');

  return deps.store.transaction(async (tx) => {
    const customer = await resolveCustomer(tx, caller.vendorId, input.customer);
    const plan = input.plan ? await resolvePlan(tx, caller.vendorId, input.plan) : null;
    const license: License = {
      id: newId('lic', deps.random),
      vendorId: caller.vendorId,
      customerId: customer.id,
      name: optionalName(input.name, 'name'),
      repositories,
      planId: plan?.id ?? null,
      tags,
      validFrom,
      validUntil,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    };
    await tx.insertLicense(license);
    await audit(tx, deps, caller, now, {
      action: 'license.create',
      objectType: 'license',
      objectId: license.id,
      detail: {
        customer: customer.id,
        repositories,
        plan: plan?.id ?? null,
        tags,
        valid_from: validFrom.toISOString(),
        valid_until: validUntil?.toISOString() ?? null,
      },
    });
    return license;
  });
}

export async function getLicense(deps: ServiceDeps, caller: Caller, id: string): Promise<License> {
  authorize(caller.authority, 'licenses.read');
  const license = await deps.store.getLicense(caller.vendorId, id);
  if (!license) throw notFound(`license ${id} not found`);
  return license;
}

export async function listLicenses(deps: ServiceDeps, caller: Caller, filter: { customer?: string; status?: string } = {}): Promise<License[]> {
  authorize(caller.authority, 'licenses.read');
  if (filter.status !== undefined && !(LICENSE_STATUSES as readonly string[]).includes(filter.status)) {
    throw invalid(`unknown license status "${filter.status}": expected ${LICENSE_STATUSES.join(', ')}`, 'status');
  }
  const customerId = filter.customer ? (await resolveCustomer(deps.store, caller.vendorId, filter.customer, true)).id : undefined;
  return deps.store.listLicenses(caller.vendorId, { customerId, status: filter.status as LicenseStatus | undefined });
}

export async function changeLicenseStatus(deps: ServiceDeps, caller: Caller, id: string, action: LicenseAction): Promise<License> {
  authorize(caller.authority, 'licenses.write');
  const now = deps.now();
  return deps.store.transaction(async (tx) => {
    const license = await tx.getLicense(caller.vendorId, id);
    if (!license) throw notFound(`license ${id} not found`);
    const next = nextLicenseStatus(license.status, action, id);
    if (next === undefined) return license;
    await tx.setLicenseStatus(caller.vendorId, id, next, now);
    await audit(tx, deps, caller, now, { action: `license.${action}`, objectType: 'license', objectId: id, detail: { from: license.status, to: next } });
    return { ...license, status: next, updatedAt: now };
  });
}
