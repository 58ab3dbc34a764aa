import type { AuditEvent, Customer, UsageEvent } from '../core/model.js';
import { authorize } from '../core/operations.js';
import type { AuditFilter, UsageFilter } from '../store/store.js';
import type { Caller, ServiceDeps } from './context.js';

/** The caller's vendor's audit log. */
export async function listAuditEvents(deps: ServiceDeps, caller: Caller, filter: AuditFilter): Promise<AuditEvent[]> {
  authorize(caller.authority, 'audit.read');
  return deps.store.listAudit(caller.vendorId, filter);
}

/** The caller's vendor's pulls and pushes. */
export async function listUsageEvents(deps: ServiceDeps, caller: Caller, filter: UsageFilter): Promise<UsageEvent[]> {
  authorize(caller.authority, 'usage.read');
  return deps.store.listUsage(caller.vendorId, filter);
}

/** Usage with the customers it names, for labels (deleted ones included). */
export async function usageWithCustomers(deps: ServiceDeps, caller: Caller, filter: UsageFilter): Promise<{ events: UsageEvent[]; customers: Customer[] }> {
  authorize(caller.authority, 'usage.read');
  const [events, customers] = await Promise.all([deps.store.listUsage(caller.vendorId, filter), deps.store.listCustomers(caller.vendorId)]);
  return { events, customers };
}
