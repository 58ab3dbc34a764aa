import { conflict, invalid, notFound } from '../core/errors.js';
import { normalizeEmail } from '../core/email-address.js';
import { newId } from '../core/ids.js';
import type { User, UserStatus, Vendor } from '../core/model.js';
import { checkPassword } from '../core/password-policy.js';
import { authorize, authorizeRole } from '../core/operations.js';
import { parseRole, type UserRole } from '../core/roles.js';
import { newSecret } from '../core/token-format.js';
import { hashPassword } from '../auth/password-hash.js';
import { hashSecret } from '../auth/secret-hash.js';
import { ttlSeconds } from '../auth/token-server.js';
import type { Mailer } from '../notify/mailer.js';
import { invitationMail } from '../notify/mailer.js';
import type { InvitationRecord, Store, StoredUser } from '../store/store.js';
import { audit, type Acting, type Caller, type ServiceDeps } from './context.js';
import { temporaryPasswordExpiresAt } from './sessions.js';
import { resolveVendor } from './vendors.js';

/** 32 random bytes, base64url: what an invitation link carries after `#token=`. */
const INVITATION_TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
const INVITATION_GONE = 'invitation not found, already used or expired';

export const INVITATION_MODES = ['link', 'password'] as const;
export type InvitationMode = (typeof INVITATION_MODES)[number];

export interface UserInput {
  email: string;
  role: string;
  /** Another vendor (id or name) than the caller's: the operator vendor only, for a vendor's first user. */
  vendor?: string;
}

export interface InvitationInput extends UserInput {
  mode?: string;
}

export interface Invited {
  user: User;
  /** When the link, or the temporary password until it is changed, stops working. */
  expiresAt: Date;
  emailed: boolean;
  /** The link, when it was not e-mailed: the inviter passes it on. */
  url: string | null;
  /** Shown once, in this answer. */
  temporaryPassword: string | null;
}

export interface InvitationOptions {
  /** The instance's public base URL, which the link starts with. */
  baseUrl: string;
  /** Absent: no SMTP configured, the link is handed back instead. */
  mailer?: Mailer;
  /** A mail that could not be sent; the link is handed back instead. Given a message safe to log (no link). */
  onMailError?: (message: string) => void;
}

/**
 * The vendor a new user joins: the caller's own, or, for an owner-level
 * caller of the operator vendor, another one, so that a new vendor's first
 * owner can be made without its data dir.
 */
async function targetVendor(deps: ServiceDeps, caller: Caller, ref: string | undefined): Promise<Caller> {
  if (ref === undefined || ref === '' || ref === caller.vendorId) return caller;
  // Its own vendor by name is no other vendor.
  if (ref === (await deps.store.getVendor(caller.vendorId))?.name) return caller;
  // Judged before the lookup: a caller that may not act elsewhere learns nothing of which vendors exist.
  authorize(caller.authority, 'vendors.other');
  const vendor: Vendor = await resolveVendor(deps, ref);
  return vendor.id === caller.vendorId ? caller : { ...caller, vendorId: vendor.id };
}

/**
 * Addresses are unique within a vendor only: another vendor's user with the
 * same address is someone this caller must not learn of (migration 0007).
 */
async function requireNewEmail(store: Store, vendorId: string, email: string): Promise<void> {
  if (await store.findUserByEmail(vendorId, email)) throw conflict(`a user with the e-mail address ${email} already exists`);
}

function newUser(deps: ServiceDeps, vendorId: string, email: string, role: UserRole, now: Date, extra: Pick<StoredUser, 'status' | 'passwordHash' | 'mustChangePassword'>): StoredUser {
  return { id: newId('usr', deps.random), vendorId, email, role, createdAt: now, updatedAt: now, lastLoginAt: null, ...extra };
}

/** Audit under the vendor the user belongs to, and under the caller's too when that is another one (the operator's). */
async function auditUser(store: Store, deps: ServiceDeps, caller: Caller, target: Acting, at: Date, event: { action: string; objectId: string; detail?: Record<string, unknown> }): Promise<void> {
  for (const vendorId of new Set([caller.vendorId, target.vendorId])) {
    await audit(store, deps, { ...caller, vendorId }, at, { ...event, objectType: 'user' });
  }
}

/** An active user with the given password, at once: for the CLI and scripts (`portcullis user create`). */
export async function createUser(deps: ServiceDeps, caller: Caller, input: UserInput & { password: string }): Promise<User> {
  const email = normalizeEmail(input.email);
  const role = parseRole(input.role);
  authorizeRole(caller.authority, role, 'give');
  const password = checkPassword(input.password, email);
  const target = await targetVendor(deps, caller, input.vendor);
  const passwordHash = await hashPassword(deps.pepper, password);
  const now = deps.now();
  const user = newUser(deps, target.vendorId, email, role, now, { status: 'active', passwordHash, mustChangePassword: false });
  return deps.store.transaction(async (tx) => {
    await requireNewEmail(tx, target.vendorId, email);
    await tx.insertUser(user);
    await auditUser(tx, deps, caller, target, now, { action: 'user.create', objectId: user.id, detail: { email, role } });
    const { passwordHash: _hash, ...plain } = user;
    return plain;
  });
}

export function parseInvitationMode(value: string | undefined): InvitationMode {
  if (value === undefined || value === '') return 'link';
  if ((INVITATION_MODES as readonly string[]).includes(value)) return value as InvitationMode;
  throw invalid(`unknown invitation mode "${value}": expected link or password`, 'mode');
}

/**
 * Invites someone. By link: an invited user (no password yet) and a link
 * valid for [dashboard] invitation_ttl, e-mailed when SMTP is configured and
 * handed back otherwise (or when the mail fails). By temporary password: an
 * active user who must choose a password at the first login.
 */
export async function inviteUser(deps: ServiceDeps, caller: Caller, input: InvitationInput, options: InvitationOptions): Promise<Invited> {
  const email = normalizeEmail(input.email);
  const role = parseRole(input.role);
  const mode = parseInvitationMode(input.mode);
  authorizeRole(caller.authority, role, 'give');
  const target = await targetVendor(deps, caller, input.vendor);
  const now = deps.now();
  if (mode === 'password') {
    const temporaryPassword = newSecret(deps.random);
    const passwordHash = await hashPassword(deps.pepper, temporaryPassword);
    const user = newUser(deps, target.vendorId, email, role, now, { status: 'active', passwordHash, mustChangePassword: true });
    await deps.store.transaction(async (tx) => {
      await requireNewEmail(tx, target.vendorId, email);
      await tx.insertUser(user);
      await auditUser(tx, deps, caller, target, now, { action: 'user.invite', objectId: user.id, detail: { email, role, mode } });
    });
    const { passwordHash: _hash, ...plain } = user;
    return { user: plain, expiresAt: temporaryPasswordExpiresAt(deps, now), emailed: false, url: null, temporaryPassword };
  }
  const token = Buffer.from(deps.random(32)).toString('base64url');
  const expiresAt = new Date(now.getTime() + (ttlSeconds(deps.config.dashboard.invitation_ttl) ?? 7 * 86_400) * 1000);
  const user = newUser(deps, target.vendorId, email, role, now, { status: 'invited', passwordHash: null, mustChangePassword: false });
  const invitation: InvitationRecord = { id: hashSecret(deps.pepper, token), userId: user.id, vendorId: user.vendorId, createdBy: caller.actor.name, createdAt: now, expiresAt, usedAt: null };
  const vendor = await deps.store.transaction(async (tx) => {
    await requireNewEmail(tx, target.vendorId, email);
    await tx.insertUser(user);
    await tx.insertInvitation(invitation);
    await auditUser(tx, deps, caller, target, now, { action: 'user.invite', objectId: user.id, detail: { email, role, mode, expires_at: expiresAt.toISOString() } });
    return (await tx.getVendor(user.vendorId))!;
  });
  const url = `${options.baseUrl.replace(/\/+$/, '')}/accept#token=${token}`;
  const { passwordHash: _hash, ...plain } = user;
  let emailed = false;
  if (options.mailer) {
    try {
      await options.mailer.send(invitationMail({ to: email, vendorName: vendor.name, url, expiresAt, role }));
      emailed = true;
    } catch (err) {
      options.onMailError?.(`invitation mail to ${email} not sent: ${(err as Error).message ?? String(err)}`);
    }
  }
  return { user: plain, expiresAt, emailed, url: emailed ? null : url, temporaryPassword: null };
}

/** A user of the caller's vendor by id (usr_…) or e-mail address; another vendor's user is not found. */
export async function resolveUser(store: Store, vendorId: string, ref: string): Promise<User> {
  let user: User | undefined;
  if (ref.includes('@')) {
    let email: string | undefined;
    try {
      email = normalizeEmail(ref, 'user');
    } catch {
      email = undefined;
    }
    const found = email === undefined ? undefined : await store.findUserByEmail(vendorId, email);
    if (found) {
      const { passwordHash: _hash, ...plain } = found;
      user = plain;
    }
  } else {
    user = await store.getUser(vendorId, ref);
  }
  if (!user) throw notFound(`user ${ref} not found`);
  return user;
}

export async function listUsers(deps: ServiceDeps, caller: Caller): Promise<User[]> {
  authorize(caller.authority, 'users.read');
  return deps.store.listUsers(caller.vendorId);
}

export async function getUser(deps: ServiceDeps, caller: Caller, ref: string): Promise<User> {
  authorize(caller.authority, 'users.read');
  return resolveUser(deps.store, caller.vendorId, ref);
}

export interface UserChangeInput {
  role?: string;
  /** active or disabled; invited users become active by accepting. */
  status?: string;
}

function parseSettableStatus(value: string): UserStatus {
  if (value === 'active' || value === 'disabled') return value;
  throw invalid(`status must be active or disabled, got "${value}" (an invited user becomes active by accepting its invitation)`, 'status');
}

/** A vendor must keep an active owner: nobody can remove its last one, not even that owner. */
async function keepsAnOwner(store: Store, vendorId: string, leaving: User): Promise<void> {
  if (leaving.role !== 'owner' || leaving.status !== 'active') return;
  const owners = (await store.listUsers(vendorId)).filter((u) => u.role === 'owner' && u.status === 'active');
  if (owners.length <= 1) throw conflict(`${leaving.email} is the last active owner of this vendor: make another user owner first`);
}

/**
 * Changes a user's role or status. A role change or a disable ends every
 * session of the user at once: its next request has to log in again.
 */
export async function updateUser(deps: ServiceDeps, caller: Caller, ref: string, input: UserChangeInput): Promise<User> {
  const role = input.role === undefined ? undefined : parseRole(input.role);
  const status = input.status === undefined ? undefined : parseSettableStatus(input.status);
  authorize(caller.authority, 'users.write');
  const now = deps.now();
  return deps.store.transaction(async (tx) => {
    const user = await resolveUser(tx, caller.vendorId, ref);
    const next = { role: role ?? user.role, status: status ?? user.status };
    if (next.role === user.role && next.status === user.status) return user;
    authorizeRole(caller.authority, user.role, 'manage');
    authorizeRole(caller.authority, next.role, 'give');
    if (user.status === 'invited' && status !== undefined && status !== user.status) {
      throw conflict(`${user.email} has not accepted the invitation yet: it becomes active by accepting; delete it to withdraw the invitation`);
    }
    if (next.role !== 'owner' || next.status !== 'active') await keepsAnOwner(tx, caller.vendorId, user);
    await tx.updateUser(caller.vendorId, user.id, { role: next.role, status: next.status }, now);
    const ended = await tx.deleteUserSessions(caller.vendorId, user.id);
    await audit(tx, deps, caller, now, {
      action: 'user.update',
      objectType: 'user',
      objectId: user.id,
      detail: { email: user.email, from: { role: user.role, status: user.status }, to: next, sessions_ended: ended },
    });
    return { ...user, ...next, updatedAt: now };
  });
}

/** Deletes a user with its sessions and invitations; its audit events stay. */
export async function deleteUser(deps: ServiceDeps, caller: Caller, ref: string): Promise<void> {
  authorize(caller.authority, 'users.write');
  const now = deps.now();
  await deps.store.transaction(async (tx) => {
    const user = await resolveUser(tx, caller.vendorId, ref);
    authorizeRole(caller.authority, user.role, 'manage');
    await keepsAnOwner(tx, caller.vendorId, user);
    await tx.deleteUser(caller.vendorId, user.id);
    await audit(tx, deps, caller, now, { action: 'user.delete', objectType: 'user', objectId: user.id, detail: { email: user.email, role: user.role, status: user.status } });
  });
}

interface OpenInvitation {
  invitation: InvitationRecord;
  user: User;
  vendor: Vendor;
}

/** The invitation a link's token opens; unknown, used and expired ones are all the same "not found". */
async function openInvitation(store: Store, deps: ServiceDeps, token: string): Promise<OpenInvitation> {
  const invitation = INVITATION_TOKEN_RE.test(token) ? await store.findInvitationForAuth(hashSecret(deps.pepper, token)) : undefined;
  const user = invitation && (await store.getUser(invitation.vendorId, invitation.userId));
  const vendor = user && (await store.getVendor(user.vendorId));
  if (!invitation || !user || !vendor || invitation.usedAt !== null || invitation.expiresAt.getTime() <= deps.now().getTime() || user.status !== 'invited') {
    throw notFound(INVITATION_GONE);
  }
  return { invitation, user, vendor };
}

/** What the accept page shows before a password is chosen. */
export async function lookupInvitation(deps: ServiceDeps, token: string): Promise<{ email: string; vendor: { name: string }; expiresAt: Date }> {
  const { invitation, user, vendor } = await openInvitation(deps.store, deps, token);
  return { email: user.email, vendor: { name: vendor.name }, expiresAt: invitation.expiresAt };
}

/** Sets the invited user's password and makes it active; the link works once. */
export async function acceptInvitation(deps: ServiceDeps, input: { token: string; password: string; source: string }): Promise<User> {
  const { user } = await openInvitation(deps.store, deps, input.token);
  const password = checkPassword(input.password, user.email);
  const passwordHash = await hashPassword(deps.pepper, password);
  const now = deps.now();
  return deps.store.transaction(async (tx) => {
    const { invitation } = await openInvitation(tx, deps, input.token);
    if (!(await tx.useInvitation(invitation.id, now))) throw notFound(INVITATION_GONE);
    await tx.updateUser(user.vendorId, user.id, { status: 'active', passwordHash, mustChangePassword: false }, now);
    const caller: Acting = { vendorId: user.vendorId, actor: { name: `user:${user.email}`, source: input.source } };
    await audit(tx, deps, caller, now, { action: 'user.accept', objectType: 'user', objectId: user.id, detail: { invited_by: invitation.createdBy } });
    return { ...user, status: 'active' as const, updatedAt: now };
  });
}
