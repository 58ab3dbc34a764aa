import type { Customer, License, Plan, Token, Vendor } from './model.js';
import type { RequestedScope } from './registry-scope.js';
import { matchesAnyRepoPattern } from './repo-pattern.js';
import { describeTagPatterns, isValidTag, matchesAnyTagPattern } from './tag-pattern.js';
import { quote } from './text.js';
import { hasScope } from './vendor-scopes.js';

/**
 * The one place authorization rules live. Pure: `now` is passed in, and
 * anything unexpected (a malformed stored pattern, a missing plan) denies.
 */

export interface LicenseGrant {
  license: License;
  plan: Plan | null;
}

export type Principal =
  | { kind: 'vendor'; token: Token; vendor: Vendor }
  | {
      kind: 'customer';
      token: Token;
      vendor: Vendor;
      customer: Customer;
      grants: LicenseGrant[];
      /**
       * Other vendors' namespaces, for a customer of the operator vendor: the
       * operator's reach over every namespace is for its own vendor tokens;
       * its licenses sell only what no tenant owns.
       */
      foreign?: readonly string[];
    };

export type RegistryAction = 'pull' | 'push' | 'delete';

export interface LicenseCheck {
  licenseId: string;
  planId: string | null;
  outcome: 'allows' | 'repository' | 'status' | 'not_started' | 'ended' | 'tag' | 'action';
  reason: string;
}

export type Decision =
  | { allow: true; licenseId?: string; checks: LicenseCheck[] }
  | { allow: false; reason: string; checks: LicenseCheck[] };

export const REGISTRY_ACTIONS: readonly RegistryAction[] = ['pull', 'push', 'delete'];

/** Most specific first: the deny reason comes from the grant that came closest to allowing. */
const DENY_PREFERENCE: readonly LicenseCheck['outcome'][] = ['tag', 'ended', 'not_started', 'status', 'action'];

function deny(reason: string, checks: LicenseCheck[] = []): Decision {
  return { allow: false, reason, checks };
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** A stored pattern that no longer compiles covers nothing. */
function safeRepoMatch(patterns: readonly string[], repository: string): boolean {
  try {
    return matchesAnyRepoPattern(patterns, repository);
  } catch {
    return false;
  }
}

/**
 * Whether `repository` lies in another vendor's namespaces. Unlike a
 * license's patterns, a pattern here that does not compile counts as a
 * match: it stands for a tenant, and isolation must not fail open.
 */
export function reachesForeign(foreign: readonly string[], repository: string): boolean {
  return foreign.some((pattern) => {
    try {
      return matchesAnyRepoPattern([pattern], repository);
    } catch {
      return true;
    }
  });
}

function safeTagMatch(patterns: readonly string[], tag: string): boolean {
  try {
    return matchesAnyTagPattern(patterns, tag);
  } catch {
    return false;
  }
}

/** Why the token itself grants nothing now, or undefined when it is usable. */
export function tokenProblem(p: Principal, now: Date): string | undefined {
  const t = p.token;
  if (t.status !== 'active') return `token ${t.id} is ${t.status}`;
  if (t.expiresAt !== null && !(now.getTime() < t.expiresAt.getTime())) return `token ${t.id} expired ${t.expiresAt.toISOString()}`;
  // Fail closed on an inconsistent principal: the token must belong to it.
  if (t.type !== p.kind || t.vendorId !== p.vendor.id) return `token ${t.id} does not belong to this principal`;
  if (p.kind === 'customer') {
    if (t.customerId !== p.customer.id) return `token ${t.id} does not belong to customer ${p.customer.name}`;
    if (p.customer.deletedAt !== null) return `customer ${p.customer.name} was deleted`;
  }
  return undefined;
}

function outsideNamespaces(repository: string, vendor: Vendor): string {
  return `${repository} is outside the namespaces of vendor ${vendor.name}`;
}

function checkGrant(
  grant: LicenseGrant,
  p: Extract<Principal, { kind: 'customer' }>,
  action: RegistryAction,
  repository: string,
  tag: string | undefined,
  now: Date,
): LicenseCheck {
  const { license } = grant;
  const planId = license.planId;
  const check = (outcome: LicenseCheck['outcome'], reason: string): LicenseCheck => ({
    licenseId: license.id,
    planId,
    outcome,
    reason,
  });

  if (license.customerId !== p.customer.id || license.vendorId !== p.vendor.id) {
    return check('repository', `license ${license.id} belongs to another customer`);
  }
  // A plan that was not loaded, or is not the license's plan, grants nothing.
  const plan = planId !== null && grant.plan !== null && grant.plan.id === planId ? grant.plan : null;
  if (planId !== null && plan === null) {
    return check('repository', `plan ${planId} of license ${license.id} is missing`);
  }
  const repositories = license.repositories.length > 0 ? license.repositories : (plan?.repositories ?? []);
  if (!safeRepoMatch(repositories, repository)) {
    return check('repository', `license ${license.id} does not cover ${repository}`);
  }
  if (plan !== null && !plan.actions.includes(action)) {
    return check('action', `plan ${plan.name} of license ${license.id} does not allow ${action}`);
  }
  if (license.status !== 'active') {
    return check('status', `license ${license.id} for ${repository} is ${license.status}`);
  }
  if (now.getTime() < license.validFrom.getTime()) {
    return check('not_started', `license for ${repository} starts ${day(license.validFrom)}`);
  }
  if (license.validUntil !== null && !(now.getTime() < license.validUntil.getTime())) {
    return check('ended', `license for ${repository} ended ${day(license.validUntil)}`);
  }
  if (tag !== undefined) {
    if (!isValidTag(tag)) return check('tag', `tag ${quote(tag)} is not a valid tag`);
    if (!safeTagMatch(license.tags, tag)) {
      return check('tag', `tag ${tag} is outside ${describeTagPatterns(license.tags)}`);
    }
  }
  return check('allows', `license ${license.id} allows ${action} of ${repository}${tag === undefined ? '' : `:${tag}`}`);
}

/** Of several licenses that allow, the one that keeps allowing longest (no end beats any end). */
function longestLasting(licenses: readonly License[]): License {
  return licenses.reduce((best, l) => {
    if (best.validUntil === null) return best;
    if (l.validUntil === null || l.validUntil.getTime() > best.validUntil.getTime()) return l;
    return best;
  });
}

export function decide(
  p: Principal,
  action: RegistryAction,
  repository: string,
  reference: { tag?: string } | undefined,
  now: Date,
): Decision {
  if (!REGISTRY_ACTIONS.includes(action)) return deny(`unknown action ${quote(String(action))}`);
  const problem = tokenProblem(p, now);
  if (problem !== undefined) return deny(problem);

  if (p.kind === 'vendor') {
    if (!safeRepoMatch(p.vendor.namespaces, repository)) return deny(outsideNamespaces(repository, p.vendor));
    const needed = action === 'pull' ? 'pull' : 'push';
    if (!hasScope(p.token.scopes, needed)) return deny(`token lacks the ${needed} scope`);
    return { allow: true, checks: [] };
  }

  if (action !== 'pull') return deny('customer tokens are pull-only');
  if (!safeRepoMatch(p.vendor.namespaces, repository)) return deny(outsideNamespaces(repository, p.vendor));
  // Said as for any repository no license covers: the operator's customers learn nothing of which namespaces tenants own.
  if (p.foreign !== undefined && reachesForeign(p.foreign, repository)) return deny(`no active license covers ${repository}`);

  const tag = reference?.tag;
  const checks = p.grants.map((g) => checkGrant(g, p, action, repository, tag, now));
  const allowing = p.grants.filter((_, i) => checks[i]?.outcome === 'allows').map((g) => g.license);
  if (allowing.length > 0) return { allow: true, licenseId: longestLasting(allowing).id, checks };
  for (const outcome of DENY_PREFERENCE) {
    const closest = checks.find((c) => c.outcome === outcome);
    if (closest) return deny(closest.reason, checks);
  }
  return deny(`no active license covers ${repository}`, checks);
}

/**
 * The subset of a requested scope's actions that `decide` allows, for the
 * `access` claim of a registry token. `*` on a repository stands for pull,
 * push and delete; `registry:catalog:*` is only for the operator's vendor
 * tokens with pull. Never throws: what is not allowed is left out.
 */
export function grantedActions(p: Principal, requested: RequestedScope, now: Date): string[] {
  if (requested.type === 'registry') {
    const ok =
      requested.name === 'catalog' &&
      requested.actions.includes('*') &&
      p.kind === 'vendor' &&
      tokenProblem(p, now) === undefined &&
      p.vendor.isOperator &&
      hasScope(p.token.scopes, 'pull');
    return ok ? ['*'] : [];
  }
  if (requested.type !== 'repository') return [];
  return repositoryDecisions(p, requested, now)
    .filter(({ decision }) => decision.allow)
    .map(({ action }) => action);
}

/**
 * The registry actions a scope names, in the order asked, `*` standing for
 * all three; anything else (an unknown action) is left out.
 */
export function scopeActions(requested: RequestedScope): RegistryAction[] {
  const wanted: RegistryAction[] = [];
  for (const a of requested.actions) {
    const expanded = a === '*' ? REGISTRY_ACTIONS : REGISTRY_ACTIONS.filter((r) => r === a);
    for (const r of expanded) if (!wanted.includes(r)) wanted.push(r);
  }
  return wanted;
}

/** decide() for each action a repository scope names, optionally for a manifest by tag. */
export function repositoryDecisions(p: Principal, requested: RequestedScope, now: Date, tag?: string): { action: RegistryAction; decision: Decision }[] {
  return scopeActions(requested).map((action) => ({ action, decision: decide(p, action, requested.name, tag === undefined ? undefined : { tag }, now) }));
}
