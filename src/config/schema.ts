import { z } from 'zod';
import { PortcullisError } from '../core/errors.js';
import { durationToSeconds, parseDuration } from '../core/duration.js';
import { validateRepoPattern } from '../core/repo-pattern.js';
import { parseSecretRef } from '../core/secret-ref.js';
import { validateTrustedProxy } from '../core/trusted-proxies.js';
import { parseListenAddress } from '../core/listen-address.js';

function repoPattern(value: string, ctx: z.core.$RefinementCtx<string>): void {
  try {
    validateRepoPattern(value);
  } catch (err) {
    if (!(err instanceof PortcullisError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
}

/** A refinement from a core check that throws PortcullisError with the reason. */
function fromCore(check: (value: string) => unknown) {
  return (value: string, ctx: z.core.$RefinementCtx<string>): void => {
    try {
      check(value);
    } catch (err) {
      if (!(err instanceof PortcullisError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  };
}

/**
 * The one configuration schema. Every key is documented in
 * docs/portcullis.reference.toml; keep the two in step.
 * `.strict()` everywhere so an unknown key stops start-up instead of being ignored.
 */
const port = z.number().int().min(0).max(65535);

export const serverSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(5000),
    /** Base URL clients use to reach this instance; default http://host:port (https:// with tls_cert). Never taken from request headers. */
    public_url: z.url({ protocol: /^https?$/ }).optional(),
    /** PEM certificate chain (leaf first) served on the one port; with a key (tls_key or secrets.tls_key), serve speaks HTTPS. */
    tls_cert: z.string().trim().min(1).optional(),
    /** PEM private key file of tls_cert; or leave it out and give secrets.tls_key. */
    tls_key: z.string().trim().min(1).optional(),
    /** Largest request head (request line and headers) accepted; a bigger one is answered 431. */
    max_header_bytes: z.number().int().min(4096).max(1024 * 1024).default(16 * 1024),
    /** Time a client has to send its whole request head; a slower one is answered 408 and disconnected. */
    headers_timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
    /** How long an idle keep-alive connection stays open between requests; keep it above a load balancer's idle timeout. */
    keep_alive_timeout_ms: z.number().int().min(1000).max(3_600_000).default(72_000),
    /** A connection on which nothing moves for this long is closed; 0: never. Bodies are not timed as a whole, so a long upload is never cut. */
    idle_timeout_ms: z
      .number()
      .int()
      .min(0)
      .max(86_400_000)
      .refine((ms) => ms === 0 || ms >= 1000, 'must be 0 (never) or at least 1000')
      .default(300_000),
    /** Peers (addresses or CIDR ranges) whose forwarding header names the client; anyone else's is ignored. */
    trusted_proxies: z.array(z.string().superRefine(fromCore(validateTrustedProxy))).max(1000).default([]),
    /** The header trusted proxies write the client into: the other one is ignored, as a proxy passes it on unchecked. */
    forwarded_header: z.enum(['x-forwarded-for', 'forwarded']).default('x-forwarded-for'),
  })
  .strict();

export const storeSchema = z
  .object({
    /** Empty: SQLite file portcullis.db in the data dir; sqlite:PATH; or postgres://… (postgresql://…). */
    url: z
      .string()
      .trim()
      .refine(
        (u) => u === '' || u.startsWith('sqlite:') || /^postgres(ql)?:\/\/[^/?#]/.test(u),
        'expected empty (SQLite in the data dir), sqlite:PATH, or postgres://USER@HOST[:PORT]/DATABASE (postgresql:// also accepted)',
      )
      .default(''),
  })
  .strict();

/** Shared state of many instances. Unset: counters and cache invalidation stay inside each process. */
export const cacheSchema = z
  .object({
    /** redis://[user:password@]host[:port][/db] or rediss://… (TLS). May hold a password: never echoed. */
    redis: z
      .string()
      .trim()
      .refine((u) => u === '' || /^rediss?:\/\/[^/?#]/.test(u), 'expected empty (no shared cache), or redis://[USER:PASSWORD@]HOST[:PORT][/DB] (rediss:// for TLS)')
      .default(''),
    /** Starts every Redis key and channel name, so several deployments can share one Redis. */
    key_prefix: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, '1 to 64 letters, digits and . _ : -')
      .default('portcullis:'),
  })
  .strict();

export const tokensSchema = z
  .object({
    /** Requests per hour allowed to a token that has no limit of its own. */
    default_rate_limit: z.number().int().min(1).max(100_000_000).default(1000),
    /** How often buffered last-used times are written, in milliseconds. */
    last_used_flush_ms: z.number().int().min(10).max(600_000).default(2000),
  })
  .strict();

/** Seconds of a fixed-length duration; undefined when it does not parse (its own check says why) or means never. */
function fixedSeconds(value: string): number | undefined {
  try {
    const d = parseDuration(value);
    return d === null ? undefined : durationToSeconds(d);
  } catch {
    return undefined;
  }
}

/** A duration such as 5m or 1h; 0 or empty for "none" only where allowNever. */
function ttl(allowNever: boolean) {
  return z.string().superRefine((value, ctx) => {
    try {
      const d = parseDuration(value);
      if (d === null) {
        if (!allowNever) ctx.addIssue({ code: 'custom', message: 'must be a duration longer than 0, like 5m' });
        return;
      }
      durationToSeconds(d);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    }
  });
}

/** Tokens for registries (Docker token auth): who signs them, for whom, for how long. */
export const authSchema = z
  .object({
    /** false: local-only mode, /v2 without credentials for loopback callers only, no admin API, no /token. */
    enabled: z.boolean().default(true),
    /** The JWT `iss`; the registry's `auth.token.issuer` must say the same. */
    issuer: z.string().min(1).max(200).default('portcullis'),
    /** Registry service names (JWT `aud`) tokens are issued for; the first is used when a request names none. */
    services: z.array(z.string().min(1).max(200)).min(1).default(['portcullis']),
    /** Lifetime of a registry JWT; capped by the token's and the license's end. */
    access_token_ttl: ttl(false).default('5m'),
    /** Lifetime of refresh (identity) tokens, after which `docker login` is needed again; 0: as long as the token they belong to. */
    refresh_token_ttl: ttl(true).default('30d'),
    /** Algorithm of newly created signing keys. */
    algorithm: z.enum(['ES256', 'RS256']).default('ES256'),
    /** Lifetime of the signing key's certificate (the JWT's x5c leaf); `serve` renews it when a third is left. A rotated-out key is trusted at most this long. */
    certificate_ttl: ttl(false)
      .superRefine((value, ctx) => {
        const s = fixedSeconds(value);
        if (s !== undefined && (s < 3600 || s > 366 * 86_400)) ctx.addIssue({ code: 'custom', message: 'must be from 1h to 366d' });
      })
      .default('7d'),
    /** Directory of the instance CA (ca-key.pem, ca.crt) that certifies the signing keys; default keys/ca in the data dir. */
    ca_dir: z.string().min(1).optional(),
    /** Failed logins from one address within failed_login_window that lock it out; 0: no lockout. */
    max_failed_logins: z.number().int().min(0).max(1_000_000).default(20),
    /** The window failed logins are counted in. */
    failed_login_window: ttl(false).default('15m'),
    /** How long a locked-out address is refused, whatever it sends. */
    lockout_duration: ttl(false).default('15m'),
  })
  .strict()
  .superRefine((auth, ctx) => {
    // A JWT is signed while its leaf may have only a third of its life left, and must verify until it expires.
    const cert = fixedSeconds(auth.certificate_ttl);
    const access = fixedSeconds(auth.access_token_ttl);
    if (cert === undefined || access === undefined || cert >= 3 * (access + 60)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['certificate_ttl'],
      message: `must be at least 3 × (auth.access_token_ttl + 60 s) = ${3 * (access + 60)} s: a token is signed with a certificate that may have a third of its life left, and must stay valid until the token expires`,
    });
  });

/** The built-in registry (images stored under data_dir/registry). */
export const registrySchema = z
  .object({
    /** Largest blob (layer) accepted by an upload, in bytes. */
    max_blob_bytes: z
      .number()
      .int()
      .min(1024)
      .max(2 ** 50)
      .default(10 * 1024 ** 3),
    /** Upload sessions untouched this long are removed, in seconds. */
    upload_timeout_s: z.number().int().min(60).max(30 * 86_400).default(86_400),
    /** Gateway mode: the OCI registry /v2 is proxied to (its origin only). Unset: the built-in registry. */
    upstream: z
      .url({ protocol: /^https?$/ })
      .refine((u) => {
        const url = new URL(u);
        return (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
      }, 'must be an origin such as https://registry.internal:5000, without a path, query or credentials')
      .optional(),
    /** The upstream's auth.token.service: the `aud` of the service tokens Portcullis signs for it. */
    upstream_service: z.string().min(1).max(200).default('portcullis-upstream'),
    /** How long an upstream repository's tags and manifests are trusted without a notification. */
    upstream_cache_ttl: ttl(false).default('5m'),
    /** Shared secret the upstream's notifications carry as `Authorization: Bearer …`; unset: notifications are refused. */
    notification_secret: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export const bootstrapSchema = z
  .object({
    /** Name of the operator vendor created on first start. */
    vendor: z
      .string()
      .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'lower case letters, digits and . _ - (like a repository namespace)')
      .max(100)
      .default('operator'),
    /** Repository patterns the operator vendor owns. */
    namespaces: z.array(z.string().superRefine(repoPattern)).min(1).default(['**']),
  })
  .strict();

/** A secrets backend reference; checked for syntax here, resolved when an instance opens. */
const secretRef = z.string().superRefine((value, ctx) => {
  try {
    parseSecretRef(value);
  } catch (err) {
    if (!(err instanceof PortcullisError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
});

/** Instance secrets kept outside the data dir; an unset key keeps today's file in the data dir. */
export const secretsSchema = z
  .object({
    /** HMAC key of token secrets: base64(url) of at least 32 bytes. */
    pepper: secretRef.optional(),
    /** PEM private key (EC P-256 or RSA) that signs registry tokens; `keys rotate` then refuses. */
    signing_key: secretRef.optional(),
    /** For the mail sender; resolved at start so a bad reference fails early. */
    smtp_password: secretRef.optional(),
    /** PEM private key of server.tls_cert, when it is not a plain file (server.tls_key); read at start and on every TLS reload. */
    tls_key: secretRef.optional(),
  })
  .strict();

/** A duration longer than 0; calendar units allowed (`1M` counts from each check's now). */
const calendarDuration = z.string().superRefine((value, ctx) => {
  try {
    if (parseDuration(value) === null) ctx.addIssue({ code: 'custom', message: 'must be a duration longer than 0, like 14d' });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
  }
});

/** Expiry warnings (webhook now; e-mail once SMTP lands). No webhook_url: no warnings are sent. */
export const notificationsSchema = z
  .object({
    /** Where expiry warnings are POSTed as JSON. Treat it as a secret: hook URLs often carry a token. */
    webhook_url: z.url({ protocol: /^https?$/ }).optional(),
    /** Signs each body with HMAC-SHA256 (X-Portcullis-Signature) so the receiver can verify it. */
    webhook_secret: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
    /** How long before a token's or license's end its one warning is sent. */
    warn_before: calendarDuration.default('14d'),
    /** How often `serve` looks for warnings that are due. */
    check_interval: ttl(false).default('1h'),
  })
  .strict();

/** Outgoing mail (dashboard invitations). No host: no mail is sent, and an invitation answers with its link instead. */
export const smtpSchema = z
  .object({
    /** The mail server (submission relay); unset: no SMTP. */
    host: z.string().min(1).max(255).optional(),
    port: port.default(587),
    /** starttls: upgrade on the plain port and refuse a server that cannot; implicit: TLS from the first byte (port 465); none: plain text (a relay on the same host only). */
    tls: z.enum(['starttls', 'implicit', 'none']).default('starttls'),
    /** Login name on the mail server; its password is secrets.smtp_password. Unset: no authentication. */
    username: z.string().min(1).max(255).optional(),
    /** The sender of every mail, `Name <address>` or a bare address. */
    from: z.string().min(3).max(320).default('Portcullis <portcullis@localhost>'),
  })
  .strict();

/** The web dashboard's logins: sessions, invitations and how failed logins are throttled. */
export const dashboardSchema = z
  .object({
    /** How long a login lasts (the session cookie's Max-Age); it does not slide with use. */
    session_ttl: ttl(false).default('12h'),
    /** How long an invitation link can be used. */
    invitation_ttl: ttl(false).default('7d'),
    /** Failed logins naming one e-mail address within failed_login_window after which that address is refused (429) until the window ends; 0: no such limit. Counted whether or not the account exists. */
    max_failed_logins: z.number().int().min(0).max(1_000_000).default(10),
    /** The window failed logins per e-mail address are counted in. */
    failed_login_window: ttl(false).default('15m'),
  })
  .strict();

/**
 * Who may read /metrics: its series name every vendor's repositories, so by
 * default only a token of the operator vendor with admin:metrics:read can.
 */
export const metricsSchema = z
  .object({
    /** On the main port: token (Bearer or Basic, operator vendor, admin:metrics:read) or public (anyone: only where the path is filtered before it reaches Portcullis). */
    access: z.enum(['token', 'public']).default('token'),
    /** A second listener that serves only /metrics, HOST:PORT ([::1]:9464 for IPv6); empty: none. */
    listen: z
      .string()
      .trim()
      .superRefine((value, ctx) => {
        if (value !== '') fromCore((v) => parseListenAddress(v, 'metrics.listen'))(value, ctx);
      })
      .default(''),
    /** Whether the listen address asks for the token too; by default whoever reaches it may scrape. */
    require_token: z.boolean().default(false),
  })
  .strict();

export const configSchema = z
  .object({
    data_dir: z.string().min(1).default('./data'),
    server: serverSchema.default(serverSchema.parse({})),
    store: storeSchema.default(storeSchema.parse({})),
    cache: cacheSchema.default(cacheSchema.parse({})),
    tokens: tokensSchema.default(tokensSchema.parse({})),
    auth: authSchema.default(authSchema.parse({})),
    registry: registrySchema.default(registrySchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
    bootstrap: bootstrapSchema.default(bootstrapSchema.parse({})),
    notifications: notificationsSchema.default(notificationsSchema.parse({})),
    secrets: secretsSchema.default(secretsSchema.parse({})),
    smtp: smtpSchema.default(smtpSchema.parse({})),
    dashboard: dashboardSchema.default(dashboardSchema.parse({})),
    metrics: metricsSchema.default(metricsSchema.parse({})),
  })
  .strict()
  .superRefine((config, ctx) => {
    // A client could otherwise ask /token for a JWT the upstream accepts and go around the gateway.
    if (config.auth.services.includes(config.registry.upstream_service)) {
      ctx.addIssue({
        code: 'custom',
        path: ['registry', 'upstream_service'],
        message: `"${config.registry.upstream_service}" is also in auth.services: /token would hand clients tokens the upstream accepts`,
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

/** Section names, for mapping PORTCULLIS_<SECTION>_<KEY> environment variables. */
export const SECTIONS = ['server', 'store', 'cache', 'tokens', 'auth', 'registry', 'log', 'bootstrap', 'notifications', 'secrets', 'smtp', 'dashboard', 'metrics'] as const;
export const TOP_LEVEL_KEYS = ['data_dir'] as const;
