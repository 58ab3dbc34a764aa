import { explainScope, type ActionExplanation } from '../core/access.js';
import { REGISTRY_ACTIONS, scopeActions, type Principal } from '../core/decide.js';
import { invalid, notFound } from '../core/errors.js';
import type { Token } from '../core/model.js';
import { parseScope, type RequestedScope } from '../core/registry-scope.js';
import { isValidTag } from '../core/tag-pattern.js';
import { quote } from '../core/text.js';
import type { Caller, ServiceDeps } from './context.js';
import { loadPrincipal } from './principal.js';
import { authorize } from '../core/operations.js';

export interface ExplainInput {
  /** A token username of the caller's vendor. */
  token: string;
  /** `repository:NAME:ACTIONS`; `*` means pull, push and delete. */
  scope: string;
  /** For a manifest by tag: the license tag patterns apply. */
  tag?: string;
}

export interface Explanation {
  at: Date;
  token: Token;
  principal: Principal | undefined;
  scope: RequestedScope;
  tag: string | undefined;
  actions: ActionExplanation[];
}

/**
 * For a token and a repository scope: what `decide` says for each action,
 * with the check of every license of the token's customer.
 */
export async function explainAccess(deps: ServiceDeps, caller: Caller, input: ExplainInput): Promise<Explanation> {
  authorize(caller.authority, 'licenses.read');
  const scope = parseScope(input.scope);
  if (scope.type !== 'repository') throw invalid(`explain takes a repository scope such as repository:acme/app:pull, not ${quote(input.scope)}`, 'scope');
  const unknown = scope.actions.find((a) => a !== '*' && !(REGISTRY_ACTIONS as readonly string[]).includes(a));
  if (unknown !== undefined) throw invalid(`unknown action ${quote(unknown)} in scope: expected pull, push, delete or *`, 'scope');
  const tag = input.tag === undefined || input.tag === '' ? undefined : input.tag;
  if (tag !== undefined && !isValidTag(tag)) throw invalid(`bad tag ${quote(tag)}: up to 128 letters, digits, _ . -, not starting with . or -`, 'tag');

  // Tenancy: another vendor's token is as unknown as a token that does not exist.
  const token = await deps.store.getToken(caller.vendorId, input.token);
  if (!token) throw notFound(`token ${input.token} not found`);
  const principal = await loadPrincipal(deps.store, token);
  const at = deps.now();
  const actions = principal
    ? explainScope(principal, scope, tag, at)
    : scopeActions(scope).map((action) => ({ action, decision: { allow: false as const, reason: `token ${token.id} has no customer`, checks: [] } }));
  return { at, token, principal, scope, tag, actions };
}
