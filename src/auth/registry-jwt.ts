import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import type { AccessEntry } from '../core/access.js';
import type { KeyRing, SigningKey } from './signing-keys.js';

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

export interface RegistryClaims {
  issuer: string;
  subject: string;
  audience: string;
  access: AccessEntry[];
  /** Seconds since the epoch; integers, as distribution requires. */
  issuedAt: number;
  expiresAt: number;
  jti: string;
}

/**
 * A JWT that distribution accepts: `kid` is the libtrust ID, `x5c` the key's
 * chain when it has one (standard base64), `aud` a string.
 */
export async function signRegistryToken(key: SigningKey, claims: RegistryClaims): Promise<string> {
  const header: { alg: string; typ: string; kid: string; x5c?: string[] } = { alg: key.alg, typ: 'JWT', kid: key.kid };
  if (key.certificateChain.length > 0) header.x5c = key.certificateChain.map((der) => der.toString('base64'));
  return new SignJWT({
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.audience,
    exp: claims.expiresAt,
    nbf: claims.issuedAt,
    iat: claims.issuedAt,
    jti: claims.jti,
    access: claims.access,
  })
    .setProtectedHeader(header)
    .sign(key.privateKey);
}
