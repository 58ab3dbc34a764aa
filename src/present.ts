import type { AuditEvent, Customer, License, Plan, Token, Vendor } from './core/model.js';
import { fullToken } from './core/token-format.js';
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

export function presentAudit(e: AuditEvent) {
  return { id: e.id, at: e.at.toISOString(), actor: e.actor, source: e.source, action: e.action, object_type: e.objectType, object_id: e.objectId, detail: e.detail };
}
