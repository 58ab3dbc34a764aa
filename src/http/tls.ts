import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { ServerOptions as HttpServerOptions } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { resolve } from 'node:path';
import { createSecureContext, Server as TlsServer, type SecureContextOptions } from 'node:tls';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { invalid, PortcullisError } from '../core/errors.js';
import { formatSecretRef, parseSecretRef, type SecretRef } from '../core/secret-ref.js';
import { MAX_SECRET_BYTES, type BackendContext } from '../secrets/backend-context.js';
import { DEFAULT_BACKEND_TIMEOUT_MS } from '../secrets/external-secrets.js';
import { readSecret } from '../secrets/read-secret.js';
import { registerSecureOrigin } from './session-cookie.js';

/**
 * HTTPS on the one port: the certificate and key from `[server] tls_cert` and
 * `tls_key` (or `[secrets] tls_key`), read and checked at start, and read again
 * on SIGHUP or when the files change. A reload swaps the server's secure
 * context: new handshakes get the new pair, open connections are untouched.
 */

/** A certificate chain (leaf first) and its private key, both PEM. Never logged. */
export interface TlsPair {
  cert: string;
  key: string;
}

type KeySetting = 'server.tls_key' | 'secrets.tls_key';

/** Where the pair comes from; every reload reads both again from here. */
export interface TlsSource {
  /** Absolute path of the PEM certificate chain (loadConfig resolved it). */
  certFile: string;
  /** The config key that gave the private key, for messages. */
  keySetting: KeySetting;
  /** server.tls_key is read as a file: reference, so both keys share the secrets backends' checks and messages. */
  keyRef: SecretRef;
}

/** What a log line may say about a certificate: public facts only. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serial: string;
  fingerprint256: string;
  subject_alt_names: string;
  valid_from: string;
  valid_to: string;
}

export interface LoadedTls {
  pair: TlsPair;
  certificate: CertificateSummary;
}

/**
 * The TLS settings of `config`, or undefined when it serves plain HTTP. A
 * certificate without a key, a key without a certificate, or a key given
 * twice is a config error naming the key.
 */
export function tlsSource(config: Readonly<Config>): TlsSource | undefined {
  const certFile = config.server.tls_cert;
  const keyFile = config.server.tls_key;
  const keyRef = config.secrets.tls_key;
  if (certFile === undefined) {
    if (keyFile !== undefined) throw invalid('server.tls_key is set without server.tls_cert: set both to serve HTTPS, or neither for plain HTTP', 'server.tls_key');
    if (keyRef !== undefined) throw invalid('secrets.tls_key is set without server.tls_cert: set server.tls_cert to serve HTTPS, or remove secrets.tls_key', 'secrets.tls_key');
    return undefined;
  }
  if (keyFile !== undefined && keyRef !== undefined) {
    throw invalid('server.tls_key and secrets.tls_key are both set: give the certificate\'s key in one of them', 'server.tls_key');
  }
  if (keyFile !== undefined) return { certFile, keySetting: 'server.tls_key', keyRef: { backend: 'file', path: keyFile } };
  if (keyRef !== undefined) return { certFile, keySetting: 'secrets.tls_key', keyRef: parseSecretRef(keyRef) };
  throw invalid('server.tls_cert is set without its private key: set server.tls_key (a PEM file) or secrets.tls_key (a secret reference)', 'server.tls_cert');
}

/** Reads the pair and checks that it is one: a certificate, an unencrypted key, and the key is the certificate's. */
export async function readTlsPair(source: TlsSource, ctx: BackendContext): Promise<LoadedTls> {
  const [cert, key] = await Promise.all([readCertificateFile(source.certFile), readKey(source, ctx)]);
  const certificate = checkPair(source, { cert, key });
  return { pair: { cert, key }, certificate };
}

async function readCertificateFile(path: string): Promise<string> {
  const fail = (why: string) => invalid(`server.tls_cert (${path}): ${why}`, 'server.tls_cert');
  try {
    const info = await stat(path);
    if (!info.isFile()) throw fail('is not a regular file');
    if (info.size > MAX_SECRET_BYTES) throw fail(`is larger than ${MAX_SECRET_BYTES} bytes: that is no certificate chain`);
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof PortcullisError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fail('does not exist');
    if (code === 'EACCES') throw fail('cannot be read (permission denied)');
    throw fail(`cannot be read (${code ?? 'unknown error'})`);
  }
}

async function readKey(source: TlsSource, ctx: BackendContext): Promise<string> {
  try {
    return await readSecret(source.keyRef, ctx);
  } catch (err) {
    // Only our own messages are shown: they never hold the secret.
    const why = err instanceof PortcullisError ? err.message : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unexpected error'})`;
    throw keyError(source, why);
  }
}

function keyError(source: TlsSource, why: string): PortcullisError {
  const where = source.keySetting === 'secrets.tls_key' ? ` (${formatSecretRef(source.keyRef)})` : '';
  return invalid(`${source.keySetting}${where}: ${why}`, source.keySetting);
}

function checkPair(source: TlsSource, pair: TlsPair): CertificateSummary {
  const certError = (why: string) => invalid(`server.tls_cert (${source.certFile}): ${why}`, 'server.tls_cert');
  if (!pair.cert.includes('-----BEGIN CERTIFICATE-----')) throw certError('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  let leaf: X509Certificate;
  try {
    // The first certificate of the chain is the server's own.
    leaf = new X509Certificate(pair.cert);
  } catch {
    throw certError('the first PEM certificate does not parse');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pair.key);
  } catch {
    // PKCS#8 and traditional PEM mark encryption in the armour; OpenSSL's own error only says "interrupted".
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pair.key);
    throw keyError(source, encrypted ? 'the private key is encrypted; give it unencrypted (chmod 600 the file instead)' : 'holds no PEM private key');
  }
  if (!leaf.checkPrivateKey(key)) {
    throw keyError(source, `is not the private key of the certificate in server.tls_cert (${source.certFile}, ${leaf.subject.replace(/\n/g, ', ')})`);
  }
  try {
    createSecureContext(secureContextOptions(pair));
  } catch (err) {
    // OpenSSL's reason (e.g. "ee key too small") names no key material.
    throw certError(`OpenSSL refuses the certificate and key: ${(err as Error).message}`);
  }
  return summarize(leaf);
}

function summarize(cert: X509Certificate): CertificateSummary {
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serial: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    subject_alt_names: cert.subjectAltName ?? '',
    valid_from: new Date(cert.validFrom).toISOString(),
    valid_to: new Date(cert.validTo).toISOString(),
  };
}

/** The same options at start and on every reload: setSecureContext resets whatever it is not given. */
function secureContextOptions(pair: TlsPair): SecureContextOptions {
  return { cert: pair.cert, key: pair.key };
}

/** Fastify's `https` option: Node's https server takes the HTTP server's limits as well, and Fastify then ignores `http`. */
export function httpsServerOptions(limits: HttpServerOptions, pair: TlsPair): HttpsServerOptions {
  return { ...limits, ...secureContextOptions(pair) };
}

/** One year, the usual minimum; no includeSubDomains, which would bind every other host under the domain. */
export const HSTS_HEADER = 'max-age=31536000';

/**
 * Security headers that depend on how clients reach the instance, for every
 * response: HSTS where that is HTTPS (served here, or an https public URL with
 * TLS ending at a proxy). Also tells the session cookie which name is in force.
 */
export function registerTransportSecurity(app: FastifyInstance, config: Readonly<Config>, servesHttps: boolean): void {
  registerSecureOrigin(app, config);
  // A plain-HTTP instance with an http public URL has no request to mark: no hook on its hot path.
  if (!servesHttps && !(config.server.public_url?.startsWith('https:') ?? false)) return;
  app.addHook('onRequest', async (request, reply) => {
    // Browsers ignore the header over plain HTTP; behind a TLS proxy it still reaches them through it.
    if (request.secureOrigin) reply.header('strict-transport-security', HSTS_HEADER);
  });
}

/** Puts a new pair into service on a listening (or not yet listening) HTTPS server. */
export function useTlsPair(server: unknown, pair: TlsPair): void {
  if (!(server instanceof TlsServer)) throw new Error('the server does not speak TLS');
  server.setSecureContext(secureContextOptions(pair));
}

type ReloadLogger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

export interface TlsReloaderOptions {
  source: TlsSource;
  ctx: BackendContext;
  /** The pair in service now. */
  current: LoadedTls;
  /** Puts a checked pair into service (useTlsPair on the app's server). */
  apply(pair: TlsPair): void;
  log: ReloadLogger;
  /** How often the files' status is checked; default 1 s. */
  pollMs?: number;
  /** Quiet time after the last change before reading, so a renewal that writes both files is read once; default 500 ms. */
  debounceMs?: number;
}

export interface TlsReloader {
  /** Reads the pair again and puts it into service if it is good and new; resolves to whether the served pair changed. */
  reload(reason: string): Promise<boolean>;
  stop(): void;
}

/**
 * Watches the certificate and key files and reloads the pair when they
 * change. The files' status is polled (stat follows symlinks) rather than
 * watched with inotify: renewals replace files by rename or swap a symlink
 * (certbot's live/, a Kubernetes secret's ..data), which a watch on the old
 * file never sees. A pair that does not load (half written, mismatched) is
 * logged and the one in service kept; the next change tries again.
 */
export function startTlsReloader(options: TlsReloaderOptions): TlsReloader {
  const { source, ctx, apply, log } = options;
  const pollMs = options.pollMs ?? 1000;
  const debounceMs = options.debounceMs ?? 500;
  let current = options.current;
  let queue: Promise<boolean> = Promise.resolve(false);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const attempt = async (reason: string): Promise<boolean> => {
    let next: LoadedTls;
    try {
      next = await readTlsPair(source, ctx);
    } catch (err) {
      const why = err instanceof PortcullisError ? err.message : `unexpected ${(err as Error).name}`;
      log.error({ reason, error: why, serving: current.certificate.serial }, 'TLS certificate not reloaded; still serving the previous one');
      return false;
    }
    if (next.pair.cert === current.pair.cert && next.pair.key === current.pair.key) {
      log.info({ reason, serial: current.certificate.serial }, 'TLS certificate and key unchanged');
      return false;
    }
    try {
      apply(next.pair);
    } catch (err) {
      log.error({ reason, error: (err as Error).message, serving: current.certificate.serial }, 'TLS certificate not reloaded; still serving the previous one');
      return false;
    }
    current = next;
    log.info({ reason, ...next.certificate }, 'TLS certificate reloaded');
    warnIfOutsideValidity(next.certificate, log);
    return true;
  };

  const reload = (reason: string): Promise<boolean> => {
    // One at a time, in order: a slow read must never overwrite a newer pair.
    queue = queue.then(() => attempt(reason));
    return queue;
  };

  const changed = (curr: Stats, prev: Stats) => {
    // Polling reports any status change; an unchanged file (a read, a chmod) is no renewal.
    if (curr.mtimeMs === prev.mtimeMs && curr.ino === prev.ino && curr.size === prev.size) return;
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload('file change'), debounceMs);
    timer.unref();
  };
  const files = watchedFiles(source, ctx);
  for (const file of files) watchFile(file, { interval: pollMs, persistent: false }, changed);

  return {
    reload,
    stop() {
      stopped = true;
      clearTimeout(timer);
      for (const file of files) unwatchFile(file, changed);
    },
  };
}

/** The files a renewal rewrites: the certificate, and the key when it is a file (server.tls_key, file: or sops: references). */
function watchedFiles(source: TlsSource, ctx: BackendContext): string[] {
  const files = [source.certFile];
  if (source.keyRef.backend === 'file') files.push(resolve(ctx.cwd, source.keyRef.path));
  if (source.keyRef.backend === 'sops') files.push(resolve(ctx.cwd, source.keyRef.file));
  return files;
}

/** An expired certificate is an outage for every client, but refusing it would be one too: say so loudly instead. */
export function warnIfOutsideValidity(certificate: CertificateSummary, log: ReloadLogger, now = new Date()): void {
  if (now < new Date(certificate.valid_from)) log.warn({ serial: certificate.serial, valid_from: certificate.valid_from }, 'TLS certificate is not valid yet: clients will refuse it');
  if (now > new Date(certificate.valid_to)) log.warn({ serial: certificate.serial, valid_to: certificate.valid_to }, 'TLS certificate has expired: clients will refuse it');
}

/** serve's TLS: where the pair comes from, and the pair it starts with. */
export interface ServeTls {
  source: TlsSource;
  ctx: BackendContext;
  loaded: LoadedTls;
}

/**
 * serve reads and checks the pair before it opens the data dir, so a bad
 * setting stops start-up (exit 2) before anything is created. Undefined when
 * no TLS is configured.
 */
export async function loadServeTls(config: Readonly<Config>, log: ReloadLogger): Promise<ServeTls | undefined> {
  const source = tlsSource(config);
  if (!source) return undefined;
  const ctx: BackendContext = {
    env: process.env,
    cwd: process.cwd(),
    timeoutMs: DEFAULT_BACKEND_TIMEOUT_MS,
    warn: (message) => log.warn(`${source.keySetting}: ${message}`),
  };
  const loaded = await readTlsPair(source, ctx);
  log.info({ cert: source.certFile, key: source.keySetting, ...loaded.certificate }, 'TLS certificate loaded');
  warnIfOutsideValidity(loaded.certificate, log);
  return { source, ctx, loaded };
}

/** Reloads the pair on SIGHUP and when its files change, until stop(). */
export function reloadTlsOnChange(server: unknown, tls: ServeTls, log: ReloadLogger): TlsReloader {
  const reloader = startTlsReloader({ source: tls.source, ctx: tls.ctx, current: tls.loaded, apply: (pair) => useTlsPair(server, pair), log });
  const onHangup = () => void reloader.reload('SIGHUP');
  process.on('SIGHUP', onHangup);
  return {
    reload: reloader.reload,
    stop() {
      process.off('SIGHUP', onHangup);
      reloader.stop();
    },
  };
}
