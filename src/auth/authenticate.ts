import { splitCredentials } from '../core/token-format.js';
import type { Token } from '../core/model.js';
import type { Store, StoredToken } from '../store/store.js';
import type { LastUsedRecorder } from './last-used.js';
import { hashSecret, verifySecret } from './secret-hash.js';

/** Why a credential was refused: for metrics and logs only, never for the client. */
export type AuthFailure = 'malformed' | 'unknown' | 'bad_secret' | 'disabled' | 'revoked' | 'expired';

export type AuthResult = { ok: true; token: Token } | { ok: false; reason: AuthFailure };

export interface AuthenticatorDeps {
  store: Store;
  pepper: Uint8Array;
  lastUsed: LastUsedRecorder;
  /** Where token rows come from; default the store itself (a cache in a server). */
  findToken?: (id: string) => Promise<StoredToken | undefined>;
}

/**
 * Checks a username + secret (or full token) against the store. Every failure
 * looks the same to the caller; an unknown username still costs one HMAC and a
 * constant-time compare so timing does not tell which tokens exist.
 */
export class Authenticator {
  private readonly decoy: string;

  private readonly findToken: (id: string) => Promise<StoredToken | undefined>;

  constructor(private readonly deps: AuthenticatorDeps) {
    this.decoy = hashSecret(deps.pepper, 'decoy-secret-never-issued');
    this.findToken = deps.findToken ?? ((id) => deps.store.findTokenForAuth(id));
  }

  async check(user: string, password: string, ip: string, now: Date): Promise<AuthResult> {
    const creds = splitCredentials(user, password);
    if (!creds) return { ok: false, reason: 'malformed' };
    const stored = await this.findToken(creds.username);
    const secretOk = verifySecret(this.deps.pepper, creds.secret, stored?.secretHash ?? this.decoy);
    if (!stored) return { ok: false, reason: 'unknown' };
    if (!secretOk) return { ok: false, reason: 'bad_secret' };
    return this.usable(stored, ip, now);
  }

  /**
   * For a credential that already proved which token it stands for (a refresh
   * token): the token must still exist, be active and unexpired.
   */
  async checkBound(tokenId: string, ip: string, now: Date): Promise<AuthResult> {
    const stored = await this.findToken(tokenId);
    if (!stored) return { ok: false, reason: 'unknown' };
    return this.usable(stored, ip, now);
  }

  private usable(stored: StoredToken, ip: string, now: Date): AuthResult {
    if (stored.status === 'revoked') return { ok: false, reason: 'revoked' };
    if (stored.status === 'disabled') return { ok: false, reason: 'disabled' };
    if (stored.expiresAt && stored.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
    this.deps.lastUsed.note(stored.id, now, ip);
    const { secretHash: _drop, ...token } = stored;
    return { ok: true, token };
  }
}
