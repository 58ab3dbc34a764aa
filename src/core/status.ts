import { conflict } from './errors.js';
import type { LicenseStatus, TokenStatus } from './model.js';

export type TokenAction = 'disable' | 'enable' | 'revoke';
export type LicenseAction = 'suspend' | 'resume' | 'revoke';

const TOKEN_TARGET: Record<TokenAction, TokenStatus> = { disable: 'disabled', enable: 'active', revoke: 'revoked' };
const LICENSE_TARGET: Record<LicenseAction, LicenseStatus> = { suspend: 'suspended', resume: 'active', revoke: 'revoked' };

/**
 * active ↔ disabled is reversible; revoked is final. Asking for the state a
 * token is already in changes nothing (returns undefined) so scripts can repeat
 * themselves safely.
 */
export function nextTokenStatus(current: TokenStatus, action: TokenAction, id: string): TokenStatus | undefined {
  const target = TOKEN_TARGET[action];
  if (current === target) return undefined;
  if (current === 'revoked') throw conflict(`token ${id} is revoked; revocation is final`);
  return target;
}

export function nextLicenseStatus(current: LicenseStatus, action: LicenseAction, id: string): LicenseStatus | undefined {
  const target = LICENSE_TARGET[action];
  if (current === target) return undefined;
  if (current === 'revoked') throw conflict(`license ${id} is revoked; revocation is final`);
  return target;
}
