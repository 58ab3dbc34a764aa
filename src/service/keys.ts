import { certificateBundle, certificateSettings, ensureCertificate, replaceCertificateAuthority } from '../auth/certificates.js';
import { createSigningKey, listSigningKeys, type KeyAlgorithm, type KeyRing, type SigningKey } from '../auth/signing-keys.js';
import type { ChangeFeed } from '../cache/change-feed.js';
import { invalid } from '../core/errors.js';
import { audit, type Caller, type ServiceDeps } from './context.js';
import { authorize } from '../core/operations.js';

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
  authorize(caller.authority, 'keys.manage');
  deps.keys.refresh(true);
  const keys = deps.keys.all();
  const published = new Set(deps.keys.published(deps.now()).map((k) => k.name));
  return keys.map((key, i) => ({ key, state: i === keys.length - 1 ? 'current' : published.has(key.name) ? 'published' : 'retired' }));
}

export interface RotateOptions {
  algorithm?: string;
  /**
   * After a suspected compromise: the CA is set aside and a new one certifies
   * the new key alone, so registries given the new bundle trust nothing the
   * old key or the old CA ever signed.
   */
  newCa?: boolean;
}

/**
 * A new key signs from now on; the old one stays published until its last
 * token has expired. With a certificate authority, the new key is certified
 * at once, so registries that trust the CA need no change; the old key's
 * leaf is never renewed, so registries stop trusting it when that leaf ends.
 */
export async function rotateKey(deps: KeyDeps, caller: Caller, options: RotateOptions | string = {}): Promise<{ key: SigningKey; certified: boolean; retiredCa: string[] }> {
  const { algorithm, newCa = false } = typeof options === 'string' ? { algorithm: options } : options;
  authorize(caller.authority, 'keys.manage');
  if (deps.keys.external) {
    throw invalid(
      `the signing key comes from secrets.signing_key (${deps.config.secrets.signing_key}): rotate it there and restart Portcullis; \`keys rotate\` only makes keys in the data dir`,
      'secrets.signing_key',
    );
  }
  const alg = parseKeyAlgorithm(algorithm, deps.config.auth.algorithm);
  const now = deps.now();
  const dataDir = deps.config.data_dir;
  const settings = certificateSettings(deps.config);
  const created = createSigningKey(dataDir, alg, now);
  // The new CA only after the new key exists: a renewal elsewhere must never certify the old key with it.
  const retiredCa = newCa ? (await replaceCertificateAuthority(settings, now)).retired : [];
  const certified = (await ensureCertificate(settings, created, now)).state === 'issued';
  const key = listSigningKeys(dataDir).find((k) => k.name === created.name) ?? created;
  await audit(deps.store, deps, caller, now, { action: 'key.rotate', objectType: 'key', objectId: key.kid, detail: { name: key.name, alg, certified, new_ca: newCa } });
  // Instances sharing the data dir sign with the new key at once, not at their next look at the directory.
  await deps.changes?.announce({ kind: 'keys' });
  return { key, certified, retiredCa };
}

/**
 * The PEM bundle for distribution's `rootcertbundle`: the instance CA (made
 * on first use), and nothing else. The current key gets a leaf when it has
 * no good one; tokens carry it in x5c. newCa (an external key, after it was
 * replaced in its backend): the CA is set aside and a new one made first.
 */
export async function keyCertificateBundle(deps: KeyDeps, caller: Caller, options: { newCa?: boolean } = {}): Promise<{ bundle: string; certified: string[]; retiredCa: string[] }> {
  authorize(caller.authority, 'keys.manage');
  if (options.newCa && !deps.keys.external) {
    throw invalid('keys in the data dir get a new CA with `keys rotate --new-ca`: the new CA must certify a new key, never the one it replaces', 'new-ca');
  }
  const now = deps.now();
  const settings = certificateSettings(deps.config);
  deps.keys.refresh(true);
  const current = deps.keys.current();
  const retiredCa = options.newCa ? (await replaceCertificateAuthority(settings, now)).retired : [];
  const outcome = await ensureCertificate(settings, current, now, true);
  const certified = outcome.state === 'issued' ? [current.name] : [];
  if (certified.length > 0 || retiredCa.length > 0) {
    await audit(deps.store, deps, caller, now, { action: 'key.certify', objectType: 'key', objectId: 'ca', detail: { keys: certified, new_ca: options.newCa === true } });
    await deps.changes?.announce({ kind: 'keys' });
  }
  deps.keys.refresh(true);
  return { bundle: certificateBundle(settings), certified, retiredCa };
}
