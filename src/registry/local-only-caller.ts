import type { Token, Vendor } from '../core/model.js';
import type { RegistryCaller } from './access.js';

/**
 * The token id usage events carry in local-only mode (auth.enabled = false),
 * where callers bring no credentials: `portcullis usage` shows them as `local`.
 */
export const LOCAL_ONLY_TOKEN_ID = 'local';

/**
 * Whoever reaches /v2 over loopback in local-only mode: the operator vendor
 * with pull, push and delete on every repository, whatever namespaces the
 * operator vendor was given. Nothing is stored; it exists for one request.
 */
export function localOnlyCaller(operator: Vendor, ip: string, now: Date): RegistryCaller {
  const token: Token = {
    id: LOCAL_ONLY_TOKEN_ID,
    type: 'vendor',
    vendorId: operator.id,
    customerId: null,
    name: 'local-only mode',
    scopes: ['pull', 'push'],
    status: 'active',
    expiresAt: null,
    rateLimit: null,
    lastUsedAt: null,
    lastUsedIp: null,
    createdBy: 'system',
    createdAt: now,
    updatedAt: now,
  };
  return { token, principal: { kind: 'vendor', token, vendor: { ...operator, namespaces: ['**'] } }, ip };
}
