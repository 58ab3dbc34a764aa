import { join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { Config } from './config/schema.js';
import { invalid } from './core/errors.js';
import type { Vendor } from './core/model.js';
import { AccessCache } from './auth/access-cache.js';
import { Authenticator } from './auth/authenticate.js';
import { certificateSettings, ensureCertificate } from './auth/certificates.js';
import { ensureDataDir, loadOrCreatePepper, loadPepper, PEPPER_FILE } from './auth/instance-secrets.js';
import { createSigningKey, KeyRing, listSigningKeys, type SigningKey } from './auth/signing-keys.js';
import { accessTokenTtlSeconds, TokenServer, ttlSeconds } from './auth/token-server.js';
import { LastUsedRecorder } from './auth/last-used.js';
import type { RateCounterStore } from './auth/rate-counter-store.js';
import { RateLimits } from './auth/rate-limits.js';
import type { ChangeFeed } from './cache/change-feed.js';
import { announcedGraphs, openSharedCache, type SharedCache } from './cache/shared-cache.js';
import { random } from './auth/secret-hash.js';
import { ensureOperator } from './service/bootstrap.js';
import type { ServiceDeps } from './service/context.js';
import type { CreatedToken } from './service/tokens.js';
import { BlobStore } from './registry/blob-store.js';
import { RegistryAccess } from './registry/access.js';
import { storeGraphs, UpstreamGraphs, type GraphSource } from './registry/graph-source.js';
import { Upstream } from './registry/upstream.js';
import { openPostgresStore } from './store/postgres/open.js';
import { openSqliteStore } from './store/sqlite/open.js';
import { storeLocation } from './store/location.js';
import { resolveExternalSecrets } from './secrets/external-secrets.js';
import { UsageRecorder } from './usage/usage-recorder.js';

/** Usage events not yet in the store; survives a crash of `serve`. */
export const USAGE_JOURNAL = 'usage.journal';
/** Last-used times not yet in the store; survives a crash of `serve` too. */
export const LAST_USED_JOURNAL = 'last-used.journal';
import type { Store } from './store/store.js';

/** Everything a running instance or a CLI command needs, built in one place. */
export interface Runtime extends ServiceDeps {
  operator: Vendor;
  keys: KeyRing;
  tokenServer: TokenServer;
  /** Token rows, principals and repository graphs, dropped whenever the store changes. */
  access: AccessCache;
  /** The built-in registry's blobs, under data_dir/registry. */
  blobs: BlobStore;
  registryAccess: RegistryAccess;
  /** Gateway mode: the upstream registry /v2 is proxied to; undefined for the built-in registry. */
  upstream?: Upstream;
  /** Where repository graphs come from: the store, or the upstream (with notifications dropping them). */
  graphs: GraphSource;
  /** Manifest pulls and pushes, journalled and written behind; `serve` recovers and starts it. */
  usage: UsageRecorder;
  lastUsed: LastUsedRecorder;
  authenticator: Authenticator;
  /** Per-token request budgets and the failed-login lockout, for /v2, /token and /api. */
  rateLimits: RateLimits;
  /** Tells caches of changes made here or in another instance; `serve` starts it. */
  changes: ChangeFeed;
  /** Where the counters and the change feed live: `memory`, or the Redis location. */
  cacheLocation: string;
  /** From secrets.smtp_password, read at start for the mail sender; undefined when unset. */
  smtpPassword?: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** First start: create the pepper, the signing key and the operator vendor if missing. */
  initialize: boolean;
  now?: () => Date;
  onBackgroundError?: (err: unknown) => void;
  /** What the `[secrets]` backends see (env:NAME, and PATH, GNUPGHOME, … for pass and sops); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Findings that do not stop start-up (a secret file others can read); default: a line on stderr. */
  onWarning?: (message: string) => void;
  /** `serve`: cache.redis must answer at start. Other commands go on without it. */
  requireCache?: boolean;
  /** The first failure of each outage of cache.redis after start. */
  onCacheError?: (err: unknown) => void;
}

/** store.url names a PostgreSQL database (the config schema admits nothing else but SQLite). */
function isPostgres(config: Readonly<Config>): boolean {
  return storeLocation(config).kind === 'postgres';
}

export function openStore(config: Readonly<Config>): Store {
  const location = storeLocation(config);
  return location.kind === 'postgres' ? openPostgresStore(location.url) : openSqliteStore(location.file);
}

export async function openRuntime(config: Readonly<Config>, options: OpenOptions): Promise<{ runtime: Runtime; created?: CreatedToken }> {
  const dataDir = config.data_dir;
  // With the pepper in a backend, the database is what an instance leaves behind.
  // On PostgreSQL with the pepper in a backend nothing is left in the data dir: the store's operator vendor, checked below, tells.
  const location = storeLocation(config);
  const marker = config.secrets.pepper === undefined ? join(dataDir, PEPPER_FILE) : location.kind === 'sqlite' ? location.file : undefined;
  if (!options.initialize && marker !== undefined && !existsSync(marker)) {
    throw invalid(`no Portcullis instance in ${dataDir}: run \`portcullis serve\` (or \`portcullis init\`) there first, or pass --data-dir`, 'data_dir');
  }
  const now = options.now ?? (() => new Date());
  const external = await resolveExternalSecrets(config, { env: options.env, now: now(), warn: options.onWarning ?? warnOnStderr });
  ensureDataDir(dataDir);
  if (!external.pepper && isPostgres(config)) await refuseNewPepperOverData(config);
  const pepper = external.pepper ? checkedExternalPepper(external.pepper, dataDir) : dataDirPepper(config, options.initialize);
  if (options.initialize) await ensureSigningKey(config, now(), external.signingKey);
  const keys = new KeyRing(dataDir, accessTokenTtlSeconds(config), external.signingKey);
  const store = openStore(config);
  let shared: SharedCache | undefined;
  try {
    // Before anything is written: an unreachable Redis must not stop `serve` after it made a bootstrap token nobody saw.
    shared = await openSharedCache(config, store, {
      required: options.requireCache ?? false,
      onError: (err) => options.onCacheError?.(err),
      warn: options.onWarning ?? warnOnStderr,
    });
    await store.migrate();
    const deps: ServiceDeps = { store, now, random, pepper, config };
    let operator: Vendor;
    let created: CreatedToken | undefined;
    if (options.initialize) {
      ({ vendor: operator, created } = await ensureOperator(deps));
    } else {
      const found = await store.getOperatorVendor();
      if (!found) throw invalid(`the instance in ${dataDir} has not finished its first start: run \`portcullis serve\` or \`portcullis init\``, 'data_dir');
      operator = found;
    }
    const lastUsed = new LastUsedRecorder(store, options.onBackgroundError, join(dataDir, LAST_USED_JOURNAL));
    const usage = new UsageRecorder({ store, journalPath: join(dataDir, USAGE_JOURNAL), random, onError: options.onBackgroundError });
    const access = new AccessCache(store, shared.changes);
    const authenticator = new Authenticator({ store, pepper, lastUsed, findToken: (id) => access.token(id) });
    const tokenServer = new TokenServer({ store, authenticator, keys, config, pepper, random, now, principalOf: (t) => access.principal(t) });
    const upstream = config.registry.upstream
      ? new Upstream({ url: config.registry.upstream, service: config.registry.upstream_service, issuer: config.auth.issuer, keys, now, random })
      : undefined;
    const graphs = upstream
      ? announcedGraphs(new UpstreamGraphs(upstream, (ttlSeconds(config.registry.upstream_cache_ttl) ?? 300) * 1000), shared.changes)
      : storeGraphs(store, access);
    shared.changes.onChange((change) => {
      if (change.kind === 'keys') keys.refresh(true);
    });
    const runtime: Runtime = {
      ...deps,
      operator,
      keys,
      tokenServer,
      access,
      blobs: new BlobStore({ root: join(dataDir, 'registry'), maxBlobBytes: config.registry.max_blob_bytes, now }),
      registryAccess: new RegistryAccess(graphs, now),
      ...(upstream ? { upstream } : {}),
      graphs,
      usage,
      lastUsed,
      authenticator,
      rateLimits: rateLimitsFor(config, shared.counters),
      changes: shared.changes,
      cacheLocation: shared.location,
      smtpPassword: external.smtpPassword,
      async close() {
        await usage.stop();
        await lastUsed.stop();
        await upstream?.close();
        await shared?.close();
        await store.close();
      },
    };
    return { runtime, created };
  } catch (err) {
    await shared?.close();
    await store.close();
    throw err;
  }
}

function rateLimitsFor(config: Readonly<Config>, counters: RateCounterStore): RateLimits {
  const { auth, dashboard } = config;
  return new RateLimits({
    counters,
    defaultLimit: config.tokens.default_rate_limit,
    lockout: {
      maxFailures: auth.max_failed_logins,
      failureWindowMs: (ttlSeconds(auth.failed_login_window) ?? 900) * 1000,
      lockoutMs: (ttlSeconds(auth.lockout_duration) ?? 900) * 1000,
    },
    accountLockout: {
      maxFailures: dashboard.max_failed_logins,
      windowMs: (ttlSeconds(dashboard.failed_login_window) ?? 900) * 1000,
    },
  });
}

/**
 * PostgreSQL outlives the data dir: a new pepper beside a database that holds
 * an instance would silently invalidate every token in it (the SQLite check
 * is in dataDirPepper).
 */
async function refuseNewPepperOverData(config: Readonly<Config>): Promise<void> {
  const pepperFile = join(config.data_dir, PEPPER_FILE);
  if (existsSync(pepperFile)) return;
  const store = openStore(config);
  try {
    await store.migrate();
    if (await store.getOperatorVendor()) {
      throw invalid(`${pepperFile} is missing but the PostgreSQL database in store.url holds an instance: restore the pepper from your backup; without it no existing token can be checked`, 'data_dir');
    }
  } finally {
    await store.close();
  }
}

/** The pepper file in the data dir, created on first start. */
function dataDirPepper(config: Readonly<Config>, initialize: boolean): Uint8Array {
  const dataDir = config.data_dir;
  const dbFile = join(dataDir, 'portcullis.db');
  if (!existsSync(join(dataDir, PEPPER_FILE)) && config.store.url.trim() === '' && existsSync(dbFile) && statSync(dbFile).size > 0) {
    // A new pepper would silently invalidate every token in the database.
    throw invalid(`${join(dataDir, PEPPER_FILE)} is missing but ${dbFile} holds data: restore the pepper from your backup; without it no existing token can be checked`, 'data_dir');
  }
  return initialize ? loadOrCreatePepper(dataDir, random) : loadPepper(dataDir)!;
}

/**
 * A pepper moved into a backend must be the one the tokens were hashed with:
 * while the data dir still has its pepper file, a different value is refused
 * rather than silently locking every token out.
 */
function checkedExternalPepper(pepper: Uint8Array, dataDir: string): Uint8Array {
  const local = loadPepper(dataDir);
  if (local && !Buffer.from(local).equals(Buffer.from(pepper))) {
    throw invalid(
      `secrets.pepper is not the pepper in ${join(dataDir, PEPPER_FILE)}: every existing token would stop working. Put that file's content into the backend, or delete the file if this instance's tokens are to be given up`,
      'secrets.pepper',
    );
  }
  return pepper;
}

function warnOnStderr(message: string): void {
  process.stderr.write(`portcullis: warning: ${message}\n`);
}

/**
 * First start creates a key of the configured algorithm; so does a change of
 * `auth.algorithm`, which is a rotation like any other. Once the instance has
 * a certificate authority, a new key is certified at once.
 */
async function ensureSigningKey(config: Readonly<Config>, now: Date, external: SigningKey | undefined): Promise<void> {
  if (external) {
    // Rotation happens in the backend; a key it hands over is certified at start, like a new key of our own.
    if (external.certificateChain.length === 0) await ensureCertificate(certificateSettings(config), external, now);
    return;
  }
  const keys = listSigningKeys(config.data_dir);
  const current = keys[keys.length - 1];
  if (current && current.alg === config.auth.algorithm) return;
  const key = createSigningKey(config.data_dir, config.auth.algorithm, now);
  await ensureCertificate(certificateSettings(config), key, now);
}
