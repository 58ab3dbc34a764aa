import type { Config } from '../config/schema.js';
import { grantAccess, type AccessEntry } from '../core/access.js';
import type { Principal } from '../core/decide.js';
import { durationToSeconds, parseDuration } from '../core/duration.js';
import { invalid } from '../core/errors.js';
import type { Random } from '../core/ids.js';
import type { Token } from '../core/model.js';
import { parseScopeParams, type RequestedScope } from '../core/registry-scope.js';
import { quote } from '../core/text.js';
import { loadPrincipal } from '../service/principal.js';
import type { Store } from '../store/store.js';
import type { AuthFailure, Authenticator } from './authenticate.js';
import { issueRefreshToken, verifyRefreshToken } from './refresh-token.js';
import { signRegistryToken } from './registry-jwt.js';
import type { KeyRing } from './signing-keys.js';

/**
 * The Docker registry token service: turns a credential and a requested set
 * of scopes into a signed JWT carrying the granted subset.
 */

export type Credential = { kind: 'password'; user: string; password: string } | { kind: 'refresh_token'; refreshToken: string };

/** What a client sent, before validation. */
export interface RawTokenParams {
  /** The registry asking (JWT aud); absent: the first configured service. */
  service: string | undefined;
  /** Raw `scope` values; repeated and space-separated scopes are merged. */
  scopes: readonly string[];
}

/** A validated request: see TokenServer.validate. */
export interface TokenRequest {
  credential: Credential;
  audience: string;
  scopes: RequestedScope[];
  /** Also hand out a refresh token (docker login's offline_token / access_type=offline). */
  offline: boolean;
  ip: string;
}

export interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
}

/** Why a token was refused, as counted by registry_token_rejected_total; never shown to the client. */
export type RejectReason = AuthFailure | 'invalid_refresh_token';

export type IssueResult =
  | { ok: true; response: TokenResponse; tokenId: string; access: AccessEntry[] }
  | { ok: false; reason: RejectReason };

export interface TokenServerDeps {
  store: Store;
  authenticator: Authenticator;
  keys: KeyRing;
  config: Readonly<Config>;
  pepper: Uint8Array;
  random: Random;
  now: () => Date;
  /** Where principals come from; default straight from the store (a cache in a server). */
  principalOf?: (token: Token) => Promise<Principal | undefined>;
}

export function ttlSeconds(text: string): number | null {
  const d = parseDuration(text);
  return d === null ? null : durationToSeconds(d);
}

/** The configured registry-token lifetime; the schema refuses 0, the fallback only satisfies the type. */
export function accessTokenTtlSeconds(config: Readonly<Config>): number {
  return ttlSeconds(config.auth.access_token_ttl) ?? 300;
}

export class TokenServer {
  private readonly accessTtl: number;
  private readonly refreshTtl: number | null;

  constructor(private readonly deps: TokenServerDeps) {
    this.accessTtl = accessTokenTtlSeconds(deps.config);
    this.refreshTtl = ttlSeconds(deps.config.auth.refresh_token_ttl);
  }

  /** The audience for a request: one of the configured services, or a 400 naming it. */
  audience(service: string | undefined): string {
    const services = this.deps.config.auth.services;
    if (service === undefined || service === '') return services[0]!;
    if (!services.includes(service)) {
      throw invalid(`unknown service ${quote(service)}: this token server issues tokens for ${services.map(quote).join(', ')}`, 'service');
    }
    return service;
  }

  /**
   * Throws invalid_input naming the bad service or scope. Callers validate
   * before they look at the credential, so a bad scope is a 400 for anyone.
   */
  validate(params: RawTokenParams): Pick<TokenRequest, 'audience' | 'scopes'> {
    return { audience: this.audience(params.service), scopes: parseScopeParams(params.scopes) };
  }

  /**
   * A bad credential is a refusal, not an error. `admit` runs once the
   * credential is proven and before anything is granted or signed (the
   * per-token rate limit); it stops the request by throwing.
   */
  async issue(request: TokenRequest, admit?: (token: Token) => Promise<void>): Promise<IssueResult> {
    const { audience, scopes } = request;
    const now = this.deps.now();

    const auth = await this.authenticate(request, now);
    if (!auth.ok) return auth;
    const token = auth.token;
    await admit?.(token);

    const access = await this.grant(token, scopes, now);
    const jwt = await this.sign(token.id, audience, access.access, access.notAfter, now);
    const response: TokenResponse = { token: jwt.token, access_token: jwt.token, expires_in: jwt.expiresIn, issued_at: now.toISOString() };
    if (request.offline && request.credential.kind === 'password') {
      response.refresh_token = issueRefreshToken(this.deps.pepper, token.id, now, this.deps.random);
    }
    return { ok: true, response, tokenId: token.id, access: access.access };
  }

  private async authenticate(request: TokenRequest, now: Date): Promise<{ ok: true; token: Token } | { ok: false; reason: RejectReason }> {
    const { credential } = request;
    if (credential.kind === 'password') return this.deps.authenticator.check(credential.user, credential.password, request.ip, now);
    const claims = verifyRefreshToken(this.deps.pepper, credential.refreshToken, now, this.refreshTtl);
    if (!claims) return { ok: false, reason: 'invalid_refresh_token' };
    return this.deps.authenticator.checkBound(claims.tokenId, request.ip, now);
  }

  private async grant(token: Token, scopes: RequestedScope[], now: Date): Promise<{ access: AccessEntry[]; notAfter: Date | null }> {
    const principal = this.deps.principalOf ? await this.deps.principalOf(token) : await loadPrincipal(this.deps.store, token);
    if (!principal) {
      return { access: scopes.map((s) => ({ type: s.type, ...(s.resourceClass === undefined ? {} : { class: s.resourceClass }), name: s.name, actions: [] })), notAfter: token.expiresAt };
    }
    return grantAccess(principal, scopes, now);
  }

  private async sign(subject: string, audience: string, access: AccessEntry[], notAfter: Date | null, now: Date) {
    const iat = Math.floor(now.getTime() / 1000);
    let exp = iat + this.accessTtl;
    if (notAfter !== null) exp = Math.min(exp, Math.floor(notAfter.getTime() / 1000));
    const token = await signRegistryToken(this.deps.keys.current(), {
      issuer: this.deps.config.auth.issuer,
      subject,
      audience,
      access,
      issuedAt: iat,
      expiresAt: exp,
      jti: Buffer.from(this.deps.random(16)).toString('base64url'),
    });
    return { token, expiresIn: Math.max(0, exp - iat) };
  }
}
