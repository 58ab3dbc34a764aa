import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { AccessEntry } from '../core/access.js';
import type { KeyRing } from './signing-keys.js';

export interface VerifiedRegistryToken {
  /** The Portcullis token the JWT was issued to. */
  tokenId: string;
  access: AccessEntry[];
}

function isAccessList(v: unknown): v is AccessEntry[] {
  return (
    Array.isArray(v) &&
    v.every(
      (e) =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as AccessEntry).type === 'string' &&
        typeof (e as AccessEntry).name === 'string' &&
        Array.isArray((e as AccessEntry).actions) &&
        (e as AccessEntry).actions.every((a) => typeof a === 'string'),
    )
  );
}

/**
 * Checks a registry JWT this instance issued: a published key by kid, our
 * issuer, one of our services, inside its lifetime. Anything else, including
 * a JWT from another issuer that happens to parse, is undefined: the caller
 * answers with the same 401 as for any bad credential.
 */
export async function verifyRegistryToken(
  jwt: string,
  keys: KeyRing,
  expected: { issuer: string; services: readonly string[] },
  now: Date,
): Promise<VerifiedRegistryToken | undefined> {
  try {
    const { kid } = decodeProtectedHeader(jwt);
    const key = keys.published(now).find((k) => k.kid === kid);
    if (!key) return undefined;
    const { payload } = await jwtVerify(jwt, key.publicKey, {
      algorithms: [key.alg],
      issuer: expected.issuer,
      audience: [...expected.services],
      currentDate: now,
      requiredClaims: ['exp', 'sub'],
    });
    if (typeof payload.sub !== 'string' || !isAccessList(payload.access)) return undefined;
    return { tokenId: payload.sub, access: payload.access };
  } catch {
    return undefined;
  }
}
