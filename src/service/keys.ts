import { certificateBundle, certifyKeys, hasCertificateAuthority } from '../auth/certificates.js';
import { createSigningKey, listSigningKeys, type KeyAlgorithm, type KeyRing, type SigningKey } from '../auth/signing-keys.js';
import type { ChangeFeed } from '../cache/change-feed.js';
import { invalid } from '../core/errors.js';
import { audit, type Caller, type ServiceDeps } from './context.js';
import { requireOperator } from './vendors.js';

/** Signing keys are the instance's, so only the operator vendor manages them. */

/** The running instance's keys: those in the data dir, or the one from secrets.signing_key. */
export type KeyDeps = ServiceDeps & { keys: KeyRing; changes?: Pick<ChangeFeed, 'announce'> };

export type KeyState = 'current' | 'published' | 'retired';

export interface KeyInfo {
  key: SigningKey;
  state: KeyState;
}

export function parseKeyAlgorithm(value: string | undefined, fallback: KeyAlgorithm): KeyAlgorithm {
  if (value === undefined) return fallback;
  const v = value.toUpperCase();
  if (v === 'ES256' || v === 'RS256') return v;
  throw invalid(`unknown algorithm "${value}": expected ES256 or RS256`, 'algorithm');
}

export async function listKeys(deps: KeyDeps, caller: Caller): Promise<KeyInfo[]> {
  await requireOperator(deps, caller, 'manages signing keys');
  deps.keys.refresh(true);
  const keys = deps.keys.all();
  const published = new Set(deps.keys.published(deps.now()).map((k) => k.name));
  return keys.map((key, i) => ({ key, state: i === keys.length - 1 ? 'current' : published.has(key.name) ? 'published' : 'retired' }));
}

/**
 * A new key signs from now on; the old one stays published until its last
 * token has expired. With a certificate authority, the new key is certified
 * at once, so registries that trust the CA need no change.
 */
export async function rotateKey(deps: KeyDeps, caller: Caller, algorithm?: string): Promise<{ key: SigningKey; certified: boolean }> {
  await requireOperator(deps, caller, 'manages signing keys');
  if (deps.keys.external) {
    throw invalid(
      `the signing key comes from secrets.signing_key (${deps.config.secrets.signing_key}): rotate it there and restart Portcullis; \`keys rotate\` only makes keys in the data dir`,
      'secrets.signing_key',
    );
  }
  const alg = parseKeyAlgorithm(algorithm, deps.config.auth.algorithm);
  const now = deps.now();
  const dataDir = deps.config.data_dir;
  const created = createSigningKey(dataDir, alg, now);
  const certified = hasCertificateAuthority(dataDir) && (await certifyKeys(dataDir, [created], deps.config.auth.issuer, now)).length > 0;
  const key = listSigningKeys(dataDir).find((k) => k.name === created.name) ?? created;
  await audit(deps.store, deps, caller, now, { action: 'key.rotate', objectType: 'key', objectId: key.kid, detail: { name: key.name, alg, certified } });
  // Instances sharing the data dir sign with the new key at once, not at their next look at the directory.
  await deps.changes?.announce({ kind: 'keys' });
  return { key, certified };
}

/**
 * The PEM bundle for distribution's `rootcertbundle`: the instance CA (made
 * on first use) and the certificate of every published key.
 */
export async function keyCertificateBundle(deps: KeyDeps, caller: Caller): Promise<{ bundle: string; certified: string[] }> {
  await requireOperator(deps, caller, 'manages signing keys');
  const now = deps.now();
  const dataDir = deps.config.data_dir;
  deps.keys.refresh(true);
  const published = deps.keys.published(now);
  const certified = await certifyKeys(dataDir, published, deps.config.auth.issuer, now);
  if (certified.length > 0) {
    await audit(deps.store, deps, caller, now, { action: 'key.certify', objectType: 'key', objectId: 'ca', detail: { keys: certified } });
    await deps.changes?.announce({ kind: 'keys' });
  }
  const names = new Set(published.map((k) => k.name));
  deps.keys.refresh(true);
  return { bundle: certificateBundle(dataDir, deps.keys.all().filter((k) => names.has(k.name))), certified };
}
