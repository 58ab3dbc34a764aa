import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChangeFeed } from '../cache/change-feed.js';
import type { Config } from '../config/schema.js';
import { renewalCheckIntervalMs } from '../core/certificate-renewal.js';
import { every, type Repeating } from '../notify/schedule.js';
import { certificateSettings, ensureCertificate, type CertificateOutcome } from './certificates.js';
import type { KeyRing, SigningKey } from './signing-keys.js';

/**
 * `serve` keeps the signing key's leaf certificate short-lived and renewed.
 * Only the current key's leaf is renewed: a rotated-out key's last leaf ends
 * within auth.certificate_ttl, and with it every registry's trust in that key.
 */

export interface RenewalDeps {
  config: Readonly<Config>;
  keys: KeyRing;
  now: () => Date;
  changes?: Pick<ChangeFeed, 'announce'>;
}

type RenewalLogger = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;

/** Checks the current key's leaf and renews it when due; other instances on the same keys hear of a new one at once. */
export async function renewSigningCertificate(deps: RenewalDeps, logger?: RenewalLogger): Promise<CertificateOutcome & { key: SigningKey }> {
  deps.keys.refresh(true);
  const key = deps.keys.current();
  const outcome = await ensureCertificate(certificateSettings(deps.config), key, deps.now());
  if (outcome.state === 'issued') {
    deps.keys.refresh(true);
    try {
      await deps.changes?.announce({ kind: 'keys' });
    } catch (err) {
      // The leaf is written; instances sharing the directory still notice it within a second.
      logger?.warn({ err }, 'could not announce the renewed certificate; other instances read it from the keys directory');
    }
  }
  return { ...outcome, key };
}

function leafEnd(key: SigningKey): Date | undefined {
  const der = key.certificateChain[0];
  if (!der) return undefined;
  try {
    return new Date(new X509Certificate(der).validTo);
  } catch {
    return undefined;
  }
}

const hoursBetween = (from: Date, to: Date) => Math.round(((to.getTime() - from.getTime()) / 3_600_000) * 10) / 10;

/** A check now and every renewalCheckIntervalMs; every outcome but "nothing to do" is logged. */
export function startCertificateRenewal(deps: RenewalDeps, logger: RenewalLogger): Repeating {
  const settings = certificateSettings(deps.config);
  const intervalMs = renewalCheckIntervalMs(settings.lifetimeMs);
  let first = true;
  const check = async (): Promise<void> => {
    const now = deps.now();
    let result: Awaited<ReturnType<typeof renewSigningCertificate>>;
    try {
      result = await renewSigningCertificate(deps, logger);
    } catch (err) {
      let key: SigningKey | undefined;
      try {
        key = deps.keys.current();
      } catch {
        // no key at all: the error says so
      }
      const end = key && leafEnd(key);
      const fields = { err, key: key?.name, kid: key?.kid, expires_at: end?.toISOString(), hours_left: end && hoursBetween(now, end), next_try_in_s: intervalMs / 1000 };
      if (end && end.getTime() <= now.getTime()) {
        logger.error(fields, 'the signing key certificate has EXPIRED and could not be renewed: registries that trust the instance CA refuse every token until it is; fix the CA (auth.ca_dir) now');
      } else {
        logger.error(fields, 'could not renew the signing key certificate; trying again at the next check, before it expires');
      }
      return;
    }
    const { key } = result;
    if (result.state === 'no_ca') {
      if (first) logger.debug({ key: key.name }, 'no instance CA: tokens carry no certificate, nothing to renew');
    } else if (result.state === 'issued') {
      const fields = { key: key.name, kid: key.kid, reason: result.reason, expires_at: result.notAfter.toISOString(), previous_expires_at: result.previousNotAfter?.toISOString() };
      if (result.reason === 'too_long') {
        logger.warn(
          fields,
          'replaced a signing key certificate that outlived auth.certificate_ttl with a short one; a rootcertbundle written by an older `keys cert` also holds such certificates, which trust each key by kid for years: install the CA-only bundle `portcullis keys cert` writes now on every registry',
        );
      } else {
        logger.info(fields, 'renewed the signing key certificate');
      }
    } else if (first) {
      logger.info({ key: key.name, kid: key.kid, expires_at: result.notAfter.toISOString(), certificate_ttl: deps.config.auth.certificate_ttl, check_interval_s: intervalMs / 1000 }, 'signing key certificate renewal on');
    } else {
      logger.debug({ key: key.name, expires_at: result.notAfter.toISOString() }, 'signing key certificate checked');
    }
    first = false;
  };
  return every(intervalMs, check, (err) => logger.error({ err }, 'signing key certificate check failed; trying again at the next check'));
}
