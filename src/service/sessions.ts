import { createHmac } from 'node:crypto';
import { invalid, PortcullisError } from '../core/errors.js';
import { normalizeEmail } from '../core/email-address.js';
import type { User, Vendor } from '../core/model.js';
import { checkPassword } from '../core/password-policy.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../auth/password-hash.js';
import { hashSecret, sameSecret } from '../auth/secret-hash.js';
import { ttlSeconds } from '../auth/token-server.js';
import type { SessionRecord, StoredUser } from '../store/store.js';
import { audit, type Acting, type Caller, type ServiceDeps } from './context.js';

/** The one answer to every refused login: it never tells which part was wrong, nor whether the account exists. */
export const BAD_LOGIN_MESSAGE = 'email or password is wrong';

/** 32 random bytes, base64url: what the cookie carries. */
const SESSION_SECRET_RE = /^[A-Za-z0-9_-]{43}$/;
/** last_seen_at is a hint for people, not a lock: one write a minute per session is plenty. */
const TOUCH_EVERY_MS = 60_000;

export interface SignedIn {
  session: SessionRecord;
  user: User;
  vendor: Vendor;
}

export interface NewSession extends SignedIn {
  /** The cookie's value; only its HMAC is stored. */
  secret: string;
  /**
   * Accounts of the address, in other vendors, that the password did not
   * open: each is a failed guess at that account, to be counted as one.
   */
  missed: number;
}

export function sessionLifetimeMs(deps: ServiceDeps): number {
  return (ttlSeconds(deps.config.dashboard.session_ttl) ?? 43_200) * 1000;
}

/**
 * When a temporary password stops opening a session. It is an invitation by
 * other means, so it lasts as long as an invitation link ([dashboard]
 * invitation_ttl), counted from the user's creation: inviteUser (mode
 * password) hands one out only to a user it creates, and choosing one's own
 * password clears must_change_password for good.
 */
export function temporaryPasswordExpiresAt(deps: Pick<ServiceDeps, 'config'>, userCreatedAt: Date): Date {
  return new Date(userCreatedAt.getTime() + (ttlSeconds(deps.config.dashboard.invitation_ttl) ?? 7 * 86_400) * 1000);
}

/** The session's row id: the HMAC of its secret, like a token's. */
export function sessionIdOf(deps: Pick<ServiceDeps, 'pepper'>, secret: string): string {
  return hashSecret(deps.pepper, secret);
}

/**
 * The CSRF token of a session, derived rather than stored: HMAC of the
 * session secret under the pepper, with a label so it can never equal the
 * row id. Only script on a page of this origin can read it (from the login
 * or session answer) and put it in X-CSRF-Token; a cross-site form cannot.
 */
export function csrfTokenOf(deps: Pick<ServiceDeps, 'pepper'>, secret: string): string {
  return createHmac('sha256', deps.pepper).update(`csrf:${secret}`, 'utf8').digest('base64url');
}

export function csrfTokenMatches(deps: Pick<ServiceDeps, 'pepper'>, secret: string, given: string | undefined): boolean {
  return given !== undefined && sameSecret(given, csrfTokenOf(deps, secret));
}

/** The login key the per-account throttle counts under: the address as it would be stored, or the text as typed. */
export function loginAccountKey(email: string): string {
  try {
    return normalizeEmail(email);
  } catch {
    return email.trim().toLowerCase().slice(0, 320);
  }
}

/**
 * The candidates the password opens, a temporary password past its end left
 * out. They are verified together (argon2 runs on libuv's thread pool), so an
 * address with two accounts answers about as fast as one with one.
 */
async function accountsOpened(deps: ServiceDeps, candidates: readonly StoredUser[], password: string): Promise<StoredUser[]> {
  if (candidates.length === 0) {
    await verifyPassword(deps.pepper, await dummyPasswordHash(deps.pepper), password);
    return [];
  }
  const ok = await Promise.all(candidates.map((u) => verifyPassword(deps.pepper, u.passwordHash!, password)));
  const now = deps.now().getTime();
  return candidates.filter((u, i) => ok[i] && !(u.mustChangePassword && now >= temporaryPasswordExpiresAt(deps, u.createdAt).getTime()));
}

/**
 * The answer to a login whose address and password open accounts in more
 * than one vendor and that names none. Only the password's holder gets it, so
 * it tells nobody else anything.
 */
export const NAME_THE_VENDOR_MESSAGE = 'this e-mail address and password open accounts in several vendors: name the vendor (vendor)';

export interface LoginInput {
  email: string;
  password: string;
  /** The vendor's name, for an address with accounts in several vendors; empty or absent: any. */
  vendor?: string;
  source: string;
}

/**
 * Checks an e-mail and password and opens a session. One address may have
 * accounts in several vendors (migration 0007): the password is verified
 * against each usable one, or only the named vendor's, and exactly one must
 * open; several with no vendor named are a conflict asking for the vendor.
 * Every refusal (unknown address or vendor, wrong password, invited or
 * disabled user, a temporary password past its end) throws the same
 * unauthenticated error after the same work: with no account to check, a
 * dummy hash is verified, so timing does not tell either.
 */
export async function login(deps: ServiceDeps, input: LoginInput): Promise<NewSession> {
  let email: string | undefined;
  try {
    email = normalizeEmail(input.email);
  } catch {
    email = undefined;
  }
  const vendorName = input.vendor?.trim().toLowerCase() || undefined;
  const found = email === undefined ? [] : await deps.store.findUsersForAuth(email);
  const named = vendorName === undefined ? undefined : await deps.store.getVendorByName(vendorName);
  const candidates = found.filter((u) => u.status === 'active' && u.passwordHash !== null && (vendorName === undefined || u.vendorId === named?.id));
  const opened = await accountsOpened(deps, candidates, input.password);
  // Only the password's holder gets the 409. But a login into one's own account, with the address also held
  // in another vendor, is a guess at that other account's password too (one whoever creates the address in its
  // own vendor can repeat): the route counts each account the password did not open as a failed login.
  if (opened.length > 1) throw new PortcullisError('conflict', NAME_THE_VENDOR_MESSAGE, 'vendor');
  const stored = opened[0];
  if (!stored) throw new PortcullisError('unauthenticated', BAD_LOGIN_MESSAGE);
  const now = deps.now();
  const { passwordHash: _hash, ...user } = stored;
  const vendor = await deps.store.getVendor(user.vendorId);
  if (!vendor) throw new PortcullisError('unauthenticated', BAD_LOGIN_MESSAGE);
  const secret = Buffer.from(deps.random(32)).toString('base64url');
  const session: SessionRecord = {
    id: sessionIdOf(deps, secret),
    userId: user.id,
    vendorId: user.vendorId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + sessionLifetimeMs(deps)),
    lastSeenAt: now,
  };
  const caller: Acting = { vendorId: user.vendorId, actor: { name: `user:${user.email}`, source: input.source } };
  await deps.store.transaction(async (tx) => {
    // Housekeeping where it costs nothing noticeable: ended sessions of anyone go with each login.
    await tx.deleteExpiredSessions(now);
    await tx.insertSession(session);
    await tx.recordLogin(user.vendorId, user.id, now);
    await audit(tx, deps, caller, now, { action: 'session.create', objectType: 'user', objectId: user.id, detail: { expires_at: session.expiresAt.toISOString() } });
  });
  return { secret, session, user: { ...user, lastLoginAt: now }, vendor, missed: candidates.length - opened.length };
}

/**
 * The live session a cookie's secret opens, or undefined: unknown, ended, or
 * of a user who is no longer active (who then loses it for good).
 */
export async function sessionFromSecret(deps: ServiceDeps, secret: string): Promise<SignedIn | undefined> {
  if (!SESSION_SECRET_RE.test(secret)) return undefined;
  const session = await deps.store.findSessionForAuth(sessionIdOf(deps, secret));
  if (!session) return undefined;
  const now = deps.now();
  const user = await deps.store.getUser(session.vendorId, session.userId);
  const vendor = user && (await deps.store.getVendor(user.vendorId));
  if (session.expiresAt.getTime() <= now.getTime() || !user || user.status !== 'active' || !vendor) {
    await deps.store.deleteSession(session.id);
    return undefined;
  }
  if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    await deps.store.touchSession(session.id, now);
    session.lastSeenAt = now;
  }
  return { session, user, vendor };
}

export async function logout(deps: ServiceDeps, caller: Caller, signedIn: SignedIn): Promise<void> {
  const now = deps.now();
  await deps.store.transaction(async (tx) => {
    if (await tx.deleteSession(signedIn.session.id)) {
      await audit(tx, deps, caller, now, { action: 'session.delete', objectType: 'user', objectId: signedIn.user.id });
    }
  });
}

/**
 * A signed-in user sets a new password: proven by the current one, checked
 * against the rule, never the same again. Clears must_change_password, and
 * ends the user's other sessions (whoever else held one must log in anew).
 */
export async function changePassword(deps: ServiceDeps, caller: Caller, signedIn: SignedIn, input: { currentPassword: string; newPassword: string }): Promise<void> {
  // The session's own account: the same address may open other accounts, in other vendors.
  const stored = await deps.store.findUserByEmail(signedIn.session.vendorId, signedIn.user.email);
  if (!stored || stored.id !== signedIn.session.userId || stored.passwordHash === null || !(await verifyPassword(deps.pepper, stored.passwordHash, input.currentPassword))) {
    throw new PortcullisError('denied', 'current_password is wrong', 'current_password');
  }
  const password = checkPassword(input.newPassword, stored.email, 'new_password');
  if (password === input.currentPassword) throw invalid('new_password must differ from the current password', 'new_password');
  const passwordHash = await hashPassword(deps.pepper, password);
  const now = deps.now();
  await deps.store.transaction(async (tx) => {
    await tx.updateUser(stored.vendorId, stored.id, { passwordHash, mustChangePassword: false }, now);
    const ended = await tx.deleteUserSessions(stored.vendorId, stored.id, signedIn.session.id);
    await audit(tx, deps, caller, now, { action: 'user.password_change', objectType: 'user', objectId: stored.id, detail: { other_sessions_ended: ended } });
  });
}
