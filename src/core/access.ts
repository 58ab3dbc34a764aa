import { grantedActions, repositoryDecisions, type Decision, type Principal, type RegistryAction } from './decide.js';
import type { RequestedScope } from './registry-scope.js';

/**
 * What goes into a registry token: the requested scopes, each cut down to the
 * actions `decide` allows, and the latest moment the grant holds.
 */

/** One entry of the JWT `access` claim, as distribution reads it. */
export interface AccessEntry {
  type: string;
  class?: string;
  name: string;
  actions: string[];
}

export interface Grant {
  access: AccessEntry[];
  /** The token's end, or the end of the license a granted entry depends on, whichever comes first; null: none. */
  notAfter: Date | null;
}

function earlier(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() <= b.getTime() ? a : b;
}

/** When a customer's pull stops being allowed: the end of the license that lasts longest (null: never). */
function licenseEnd(p: Principal, decision: Decision): Date | null {
  if (p.kind !== 'customer' || !decision.allow) return null;
  return p.grants.find((g) => g.license.id === decision.licenseId)?.license.validUntil ?? null;
}

/**
 * Every requested scope appears in the answer, possibly with no actions:
 * clients ask for more than they need (a push asks pull too, a mount asks
 * another repository) and expect a narrower token, never an error.
 */
export function grantAccess(p: Principal, scopes: readonly RequestedScope[], now: Date): Grant {
  let notAfter: Date | null = p.token.expiresAt;
  const access: AccessEntry[] = [];
  for (const scope of scopes) {
    // One decide() per action: the pull decision also names the license whose end caps the token.
    const decisions = scope.type === 'repository' ? repositoryDecisions(p, scope, now) : undefined;
    const actions = decisions ? decisions.filter((d) => d.decision.allow).map((d) => d.action) : grantedActions(p, scope, now);
    access.push({
      type: scope.type,
      ...(scope.resourceClass === undefined ? {} : { class: scope.resourceClass }),
      name: scope.name,
      actions,
    });
    const pull = decisions?.find((d) => d.action === 'pull');
    if (pull?.decision.allow) notAfter = earlier(notAfter, licenseEnd(p, pull.decision));
  }
  return { access, notAfter };
}

export interface ActionExplanation {
  action: RegistryAction;
  decision: Decision;
}

/** The decision for each action a scope names, for explain. */
export function explainScope(p: Principal, scope: RequestedScope, tag: string | undefined, now: Date): ActionExplanation[] {
  return repositoryDecisions(p, scope, now, tag);
}
