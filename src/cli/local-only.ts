import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { invalid } from '../core/errors.js';
import { isLoopbackHost } from '../core/loopback.js';

/**
 * Start-up rules of local-only mode (auth.enabled = false). Binding anything
 * but loopback is refused rather than warned about: every caller from another
 * address would get 403 anyway, so such a bind can only be a mistake, and the
 * mistake to fear is the opposite one, an open registry.
 */
export function checkLocalOnlyHost(config: Readonly<Config>): void {
  if (config.auth.enabled || isLoopbackHost(config.server.host)) return;
  throw invalid(
    `auth.enabled = false (local-only mode) serves only this machine, so server.host must be a loopback address such as 127.0.0.1, ::1 or localhost, not "${config.server.host}"; set auth.enabled = true to serve other hosts`,
    'server.host',
  );
}

export const LOCAL_ONLY_WARNING = [
  '',
  '!!! WARNING: AUTHENTICATION IS DISABLED (auth.enabled = false): local-only mode.',
  '!!! Anyone on this machine can pull, push and delete every image in /v2, with no credentials.',
  '!!! Other addresses get 403; /token and the admin API (/api/v1) are off.',
  '!!! Never put a reverse proxy on this machine in front of it: proxied requests come from loopback.',
  '',
  '',
].join('\n');

/** On stderr, where a terminal shows it even when stdout is piped, and in the log for whoever reads only that. */
export function warnLocalOnly(config: Readonly<Config>, logger: Pick<Logger, 'warn'>): void {
  if (config.auth.enabled) return;
  process.stderr.write(LOCAL_ONLY_WARNING);
  logger.warn({ auth_enabled: false, host: config.server.host }, 'authentication disabled: local-only mode, /v2 open to every caller on this machine, no admin API');
}
