import type { AuditEvent, Customer, License, Plan, Token, User, Vendor } from './core/model.js';
import { fullToken } from './core/token-format.js';
import type { CustomerActionSummary } from './service/customer-actions.js';
import type { Explanation } from './service/explain.js';
import type { CreatedToken } from './service/tokens.js';
import { tokenState } from './service/tokens.js';

/**
 * The JSON shapes of the public surfaces (CLI --json now, the admin API later):
 * snake_case keys, ISO-8601 times, never a secret hash.
 */
const t = (d: Date | null) => (d ? d.toISOString() : null);

export function presentToken(token: Token, now: Date) {
  return {
    username: token.id,
    type: token.type,
    name: token.name,
    customer_id: token.customerId,
    scopes: token.scopes,
    status: token.status,
    state: tokenState(token, now),
    expires_at: t(token.expiresAt),
    rate_limit: token.rateLimit,
    last_used_at: t(token.lastUsedAt),
    last_used_ip: token.lastUsedIp,
    created_by: token.createdBy,
    created_at: t(token.createdAt),
    updated_at: t(token.updatedAt),
  };
}

/** The only shape that ever carries a secret: the answer to a create. */
export function presentCreatedToken(created: CreatedToken, now: Date) {
  const { username, ...rest } = presentToken(created.token, now);
  return { username, secret: created.secret, full_token: fullToken(username, created.secret), ...rest };
}

export function presentCustomer(c: Customer) {
  return { id: c.id, name: c.name, contact: c.contact, created_at: t(c.createdAt), updated_at: t(c.updatedAt), deleted_at: t(c.deletedAt) };
}

/** A customer-wide suspend, resume or revoke: the ids it changed (or, previewed, would change). */
export function presentCustomerAction(s: CustomerActionSummary) {
  return { action: s.action, customer: { id: s.customer.id, name: s.customer.name }, tokens: s.tokens, licenses: s.licenses };
}

export function presentLicense(l: License) {
  return {
    id: l.id,
    customer_id: l.customerId,
    name: l.name,
    repositories: l.repositories,
    plan_id: l.planId,
    tags: l.tags,
    valid_from: t(l.validFrom),
    valid_until: t(l.validUntil),
    status: l.status,
    created_at: t(l.createdAt),
    updated_at: t(l.updatedAt),
  };
}

export function presentPlan(p: Plan) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    repositories: p.repositories,
    actions: p.actions,
    created_at: t(p.createdAt),
    updated_at: t(p.updatedAt),
  };
}

export function presentVendor(v: Vendor) {
  return { id: v.id, name: v.name, namespaces: v.namespaces, operator: v.isOperator, created_at: t(v.createdAt) };
}

/** Never the password hash. */
export function presentUser(u: User) {
  return {
    id: u.id,
    email: u.email,
    role: u.role,
    status: u.status,
    must_change_password: u.mustChangePassword,
    created_at: t(u.createdAt),
    last_login_at: t(u.lastLoginAt),
  };
}

/** Who is signed in, and the CSRF token its script sends back. */
export function presentSession(signedIn: { user: User; vendor: Vendor; session: { expiresAt: Date } }, csrfToken: string) {
  const { user, vendor, session } = signedIn;
  return {
    user: presentUser(user),
    vendor: { id: vendor.id, name: vendor.name, operator: vendor.isOperator },
    csrf_token: csrfToken,
    expires_at: session.expiresAt.toISOString(),
  };
}

export function presentAudit(e: AuditEvent) {
  return { id: e.id, at: e.at.toISOString(), actor: e.actor, source: e.source, action: e.action, object_type: e.objectType, object_id: e.objectId, detail: e.detail };
}

/** explain: each action's verdict, then every license of the customer with its check per action. */
export function presentExplanation(e: Explanation) {
  const p = e.principal;
  const customer = p?.kind === 'customer' ? { id: p.customer.id, name: p.customer.name, deleted: p.customer.deletedAt !== null } : null;
  const licenses =
    p?.kind === 'customer'
      ? p.grants.map(({ license, plan }) => ({
          id: license.id,
          name: license.name,
          status: license.status,
          plan: plan ? { id: plan.id, name: plan.name, repositories: plan.repositories, actions: plan.actions } : null,
          repositories: license.repositories,
          tags: license.tags,
          valid_from: t(license.validFrom),
          valid_until: t(license.validUntil),
          checks: e.actions.flatMap(({ action, decision }) =>
            decision.checks.filter((c) => c.licenseId === license.id).map((c) => ({ action, outcome: c.outcome, reason: c.reason })),
          ),
        }))
      : [];
  return {
    at: t(e.at),
    token: { username: e.token.id, type: e.token.type, status: e.token.status, state: tokenState(e.token, e.at), expires_at: t(e.token.expiresAt), scopes: e.token.scopes },
    customer,
    vendor: p ? { id: p.vendor.id, name: p.vendor.name, namespaces: p.vendor.namespaces } : null,
    repository: e.scope.name,
    tag: e.tag ?? null,
    actions: e.actions.map(({ action, decision }) => ({
      action,
      allowed: decision.allow,
      license_id: decision.allow ? (decision.licenseId ?? null) : null,
      reason: decision.allow ? allowReason(e, decision.licenseId) : decision.reason,
    })),
    licenses,
  };
}

function allowReason(e: Explanation, licenseId: string | undefined): string {
  if (e.principal?.kind === 'vendor') return `vendor token inside the namespaces of ${e.principal.vendor.name} with the needed scope`;
  const check = e.actions.flatMap((a) => a.decision.checks).find((c) => c.licenseId === licenseId && c.outcome === 'allows');
  return check?.reason ?? 'allowed';
}
