import { createHmac, randomBytes } from 'node:crypto';
import type { Algorithm, Options } from '@node-rs/argon2';

/**
 * Dashboard passwords are chosen by people, so unlike token secrets they get a
 * slow, memory-hard hash: argon2id with OWASP's minimum parameters (19 MiB,
 * two passes, one lane), about 20 ms here, run on libuv's thread pool so the
 * event loop keeps serving. The key is derived from the instance pepper, so a
 * stolen database alone cannot be attacked offline either.
 */
const ARGON2ID = 2 as Algorithm; // a const enum in the package's types, which isolatedModules cannot read
const PARAMETERS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Loaded on the first login or new password: an instance that only serves images never maps the native module. */
let argon2: Promise<typeof import('@node-rs/argon2')> | undefined;
const loadArgon2 = () => (argon2 ??= import('@node-rs/argon2'));

function options(pepper: Uint8Array): Options {
  return { ...PARAMETERS, secret: createHmac('sha256', pepper).update('portcullis password hash').digest() };
}

/** PHC string, `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. */
export async function hashPassword(pepper: Uint8Array, password: string): Promise<string> {
  return (await loadArgon2()).hash(password, options(pepper));
}

/** False for a wrong password and for a stored value that is not an argon2 hash at all. */
export async function verifyPassword(pepper: Uint8Array, stored: string, password: string): Promise<boolean> {
  try {
    return await (await loadArgon2()).verify(stored, password, options(pepper));
  } catch {
    return false;
  }
}

const dummies = new WeakMap<Uint8Array, Promise<string>>();

/**
 * A hash nobody knows the password of, to verify against when a login names
 * no account (or one without a password): the answer then takes as long as a
 * wrong password would, and timing tells no one which addresses exist.
 */
export function dummyPasswordHash(pepper: Uint8Array): Promise<string> {
  let dummy = dummies.get(pepper);
  if (!dummy) {
    dummy = hashPassword(pepper, randomBytes(32).toString('base64url'));
    dummies.set(pepper, dummy);
  }
  return dummy;
}
