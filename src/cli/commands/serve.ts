import type { Command } from 'commander';
import { loosePermissions } from '../../auth/instance-secrets.js';
import { publicUrl } from '../../config/load.js';
import { invalid } from '../../core/errors.js';
import { parseWholeNumber } from '../../core/text.js';
import { fullToken } from '../../core/token-format.js';
import { buildApp } from '../../http/app.js';
import { createLogger } from '../../http/logger.js';
import { listenForMetrics } from '../../http/metrics-listener.js';
import { loadServeTls, reloadTlsOnChange } from '../../http/tls.js';
import { startExpiryWarnings, type Repeating } from '../../notify/schedule.js';
import { startCertificateRenewal } from '../../auth/certificate-renewal.js';
import { openRuntime } from '../../runtime.js';
import { lockDataDir } from '../../store/data-dir-lock.js';
import { storeLocation } from '../../store/location.js';
import type { CreatedToken } from '../../service/tokens.js';
import { presentCreatedToken } from '../../present.js';
import { checkLocalOnlyHost, warnLocalOnly } from '../local-only.js';
import { json } from '../output.js';
import { configFrom, print } from '../context.js';

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return parseWholeNumber(value, '--port', { min: 0, max: 65535 }, 'port');
}

/** The bootstrap secret goes to the terminal once, never through the logger. */
function bootstrapBanner(created: CreatedToken, url: string): string {
  const user = created.token.id;
  return [
    '',
    'Portcullis first start: created the operator vendor and its bootstrap token.',
    'Save the secret now; it is shown only this once and cannot be read back.',
    '',
    `  username: ${user}`,
    `  secret:   ${created.secret}`,
    `  token:    ${fullToken(user, created.secret)}`,
    `  scopes:   ${created.token.scopes.join(',')}`,
    '',
    `  docker login ${new URL(url).host} -u ${user}   # password: the secret`,
    '',
    '',
  ].join('\n');
}

async function initInstance(cmd: Command, asJson: boolean): Promise<void> {
  const config = configFrom(cmd);
  const { runtime, created } = await openRuntime(config, { initialize: true });
  await runtime.close();
  if (asJson) return print(json({ initialized: created !== undefined, data_dir: config.data_dir, bootstrap: created ? presentCreatedToken(created, new Date()) : null }));
  print(created ? bootstrapBanner(created, publicUrl(config)) : `Portcullis instance in ${config.data_dir} is already initialised.\n`);
}

export function registerServeCommands(program: Command): void {
  program
    .command('init')
    .description('initialise the data dir (operator vendor, keys, bootstrap token) without serving')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => initInstance(cmd, Boolean(opts.json)));

  program
    .command('serve')
    .description('run the service (initialises an empty data dir first)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default 5000)')
    .action(async (opts, cmd: Command) => {
      const config = configFrom(cmd, { server: { host: opts.host, port: parsePort(opts.port) } });
      checkLocalOnlyHost(config);
      const logger = createLogger(config.log.level);
      warnLocalOnly(config, logger);
      const tls = await loadServeTls(config, logger);
      // Before anything is written: a second serve must leave the journals and uploads alone.
      const lock = lockDataDir(config.data_dir);
      const { runtime, created } = await openRuntime(config, {
        initialize: true,
        onBackgroundError: (err) => logger.error({ err }, 'background write (last-used times, usage) failed; will retry'),
        onWarning: (message) => logger.warn(message),
        requireCache: true,
        onCacheError: (err) => logger.warn({ err }, 'Redis (cache.redis) failed: counting per instance and reading the store on every request until it answers again'),
      });
      const location = storeLocation(config);
      for (const loose of loosePermissions(config.data_dir, location.kind === 'sqlite' ? location.file : undefined)) logger.warn({ file: loose.path, mode: loose.mode }, loose.message);
      // With the lock held no other serve can be uploading: whatever is half-written was left by a crash.
      const leftovers = await runtime.blobs.removeCrashLeftovers();
      if (leftovers.files > 0) logger.info({ files: leftovers.files, bytes: leftovers.bytes }, 'removed half-written uploads an earlier serve left behind');
      if (leftovers.restored > 0) logger.info({ blobs: leftovers.restored }, 'put back blobs a killed gc had moved aside');
      const app = await buildApp(runtime, { logger, tls: tls?.loaded.pair });
      const tlsReloader = tls && reloadTlsOnChange(app.server, tls, logger);
      // What a crash left in the journals reaches the store before anything new is recorded.
      const recovered = await runtime.usage.recover();
      if (recovered > 0) logger.info({ events: recovered }, 'recovered usage events from the journal');
      const tokens = await runtime.lastUsed.recover();
      if (tokens > 0) logger.info({ tokens }, 'recovered last-used times from the journal');
      runtime.lastUsed.start(config.tokens.last_used_flush_ms);
      runtime.usage.start(config.tokens.last_used_flush_ms);
      await runtime.changes.start();
      let stopping = false;
      let expiryWarnings: Repeating | undefined;
      let certificateRenewal: Repeating | undefined;
      let metricsListener: Awaited<ReturnType<typeof listenForMetrics>>;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping');
        await expiryWarnings?.stop();
        await certificateRenewal?.stop();
        tlsReloader?.stop();
        await metricsListener?.close();
        await app.close();
        await runtime.close();
        lock.release();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      try {
        await app.listen({ host: config.server.host, port: config.server.port });
      } catch (err) {
        // The bootstrap secret exists only in memory now: show it even though serving failed.
        if (created) print(bootstrapBanner(created, publicUrl(config)));
        await runtime.close();
        throw invalid(`cannot listen on ${config.server.host}:${config.server.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'server.port');
      }
      try {
        metricsListener = await listenForMetrics(runtime, app.portcullisMetrics, logger);
      } catch (err) {
        if (created) print(bootstrapBanner(created, publicUrl(config)));
        await app.close();
        await runtime.close();
        throw err;
      }
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.server.port;
      const url = publicUrl({ ...config, server: { ...config.server, port } });
      if (created) print(bootstrapBanner(created, url));
      logger.info({ host: config.server.host, port, data_dir: config.data_dir, public_url: url, cache: runtime.cacheLocation, tls: tls !== undefined }, 'portcullis listening');
      if (!stopping) expiryWarnings = startExpiryWarnings(runtime, logger);
      // Checked at start and on a timer: an expired leaf would make registries refuse every token.
      if (!stopping) certificateRenewal = startCertificateRenewal(runtime, logger);
    });
}
