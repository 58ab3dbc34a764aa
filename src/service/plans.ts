import { conflict, invalid, notFound } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { PLAN_ACTIONS, type Plan, type PlanAction } from '../core/model.js';
import { validateRepoPattern } from '../core/repo-pattern.js';
import { optionalName, splitList, validateName } from '../core/text.js';
import type { Store } from '../store/store.js';
import { audit, type Caller, type ServiceDeps } from './context.js';
import { authorize } from '../core/operations.js';

export interface PlanInput {
  name: string;
  description?: string | null;
  repositories: string | readonly string[];
  actions?: string | readonly string[];
}

export async function resolvePlan(store: Store, vendorId: string, ref: string): Promise<Plan> {
  const found = ref.startsWith('pln_') ? await store.getPlan(vendorId, ref) : await store.getPlanByName(vendorId, ref);
  if (!found) throw notFound(`plan ${ref} not found`);
  return found;
}

export function parsePlanActions(value: string | readonly string[] | undefined): PlanAction[] {
  const actions = splitList(value);
  if (actions.length === 0) return ['pull'];
  for (const a of actions) {
    if (!(PLAN_ACTIONS as readonly string[]).includes(a)) {
      throw invalid(`unknown plan action "${a}": expected ${PLAN_ACTIONS.join(', ')}`, 'actions');
    }
  }
  return PLAN_ACTIONS.filter((a) => actions.includes(a));
}

export function parseRepositoryPatterns(value: string | readonly string[] | undefined, field = 'repositories'): string[] {
  const patterns = [...new Set(splitList(value).map((p) => validateRepoPattern(p, field)))];
  return patterns;
}

export async function listPlans(deps: ServiceDeps, caller: Caller): Promise<Plan[]> {
  authorize(caller.authority, 'plans.read');
  return deps.store.listPlans(caller.vendorId);
}

export async function getPlan(deps: ServiceDeps, caller: Caller, ref: string): Promise<Plan> {
  authorize(caller.authority, 'plans.read');
  return resolvePlan(deps.store, caller.vendorId, ref);
}

export async function createPlan(deps: ServiceDeps, caller: Caller, input: PlanInput): Promise<Plan> {
  authorize(caller.authority, 'plans.write');
  const name = validateName(input.name, 'name');
  if (name.startsWith('pln_')) throw invalid('plan names must not start with pln_ (that prefix marks ids)', 'name');
  const repositories = parseRepositoryPatterns(input.repositories);
  if (repositories.length === 0) throw invalid('a plan needs at least one repository pattern', 'repositories');
  const plan: Plan = {
    id: newId('pln', deps.random),
    vendorId: caller.vendorId,
    name,
    description: optionalName(input.description, 'description', 500),
    repositories,
    actions: parsePlanActions(input.actions),
    createdAt: deps.now(),
    updatedAt: deps.now(),
  };
  return deps.store.transaction(async (tx) => {
    if (await tx.getPlanByName(caller.vendorId, name)) throw conflict(`a plan named ${name} already exists`);
    await tx.insertPlan(plan);
    await audit(tx, deps, caller, plan.createdAt, {
      action: 'plan.create',
      objectType: 'plan',
      objectId: plan.id,
      detail: { name, repositories, actions: plan.actions },
    });
    return plan;
  });
}

/**
 * A plan that licenses reference cannot be deleted: live ones would silently
 * open nothing, and revoked ones are kept for audit and still name it.
 */
export async function deletePlan(deps: ServiceDeps, caller: Caller, ref: string): Promise<Plan> {
  authorize(caller.authority, 'plans.write');
  const now = deps.now();
  return deps.store.transaction(async (tx) => {
    const plan = await resolvePlan(tx, caller.vendorId, ref);
    const users = await tx.listLicenses(caller.vendorId, { planId: plan.id });
    if (users.length > 0) {
      throw conflict(`plan ${plan.name} is referenced by ${users.length} license(s): ${users.map((l) => `${l.id} (${l.status})`).join(', ')}`);
    }
    await tx.deletePlan(caller.vendorId, plan.id);
    await audit(tx, deps, caller, now, { action: 'plan.delete', objectType: 'plan', objectId: plan.id, detail: { name: plan.name } });
    return plan;
  });
}
