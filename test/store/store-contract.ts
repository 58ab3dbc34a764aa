import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import type { Customer, License, ManifestRecord, Token, UsageEvent, Vendor } from '../../src/core/model.js';
import type { InvitationRecord, SessionRecord, Store, StoredUser } from '../../src/store/store.js';

const t0 = new Date('2026-11-24T12:00:00.000Z');
const later = (s: number) => new Date(t0.getTime() + s * 1000);

function vendor(id: string, name = id): Vendor {
  return { id, name, namespaces: [`${name}/**`], isOperator: false, createdAt: t0 };
}
function customer(id: string, vendorId: string, name: string): Customer {
  return { id, vendorId, name, contact: null, createdAt: t0, updatedAt: t0, deletedAt: null };
}
function token(id: string, vendorId: string, extra: Partial<Token> = {}): Token & { secretHash: string } {
  return {
    id,
    type: 'vendor',
    vendorId,
    customerId: null,
    name: id,
    scopes: ['pull', 'push'],
    status: 'active',
    expiresAt: null,
    rateLimit: null,
    lastUsedAt: null,
    lastUsedIp: null,
    createdBy: 'test',
    createdAt: t0,
    updatedAt: t0,
    secretHash: `hash-of-${id}`,
    ...extra,
  };
}
function license(id: string, vendorId: string, customerId: string): License {
  return {
    id,
    vendorId,
    customerId,
    name: null,
    repositories: ['acme/app'],
    planId: null,
    tags: ['1.*'],
    validFrom: t0,
    validUntil: later(3600),
    status: 'active',
    createdAt: t0,
    updatedAt: t0,
  };
}

function user(id: string, vendorId: string, email: string, extra: Partial<StoredUser> = {}): StoredUser {
  return {
    id,
    vendorId,
    email,
    role: 'viewer',
    status: 'active',
    mustChangePassword: false,
    createdAt: t0,
    updatedAt: t0,
    lastLoginAt: null,
    passwordHash: `$argon2id$hash-of-${id}`,
    ...extra,
  };
}
function session(id: string, u: StoredUser, expiresAt = later(3600)): SessionRecord {
  return { id, userId: u.id, vendorId: u.vendorId, createdAt: t0, expiresAt, lastSeenAt: t0 };
}

/**
 * The behaviour every store must show. Each backend's test file calls this
 * with a factory for an empty, migrated store.
 */
export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
      await store.insertVendor(vendor('ven_a', 'acme'));
      await store.insertVendor(vendor('ven_b', 'beta'));
    });
    afterEach(async () => store.close());

    it('round-trips every field of a token, without losing dates or nulls', async () => {
      const t = token('vtok_aaaaaaaaaaaaaaaa', 'ven_a', { expiresAt: later(60), rateLimit: 5, scopes: ['admin:*:*', 'pull'] });
      await store.insertToken(t);
      expect(await store.findTokenForAuth(t.id)).toEqual(t);
      const { secretHash: _hash, ...plain } = t;
      expect(await store.getToken('ven_a', t.id)).toEqual(plain);
    });

    it("never shows one vendor another vendor's rows", async () => {
      await store.insertCustomer(customer('cus_1', 'ven_a', 'globex'));
      await store.insertToken(token('vtok_aaaaaaaaaaaaaaaa', 'ven_a'));
      await store.insertLicense(license('lic_1', 'ven_a', 'cus_1'));
      expect(await store.getCustomer('ven_b', 'cus_1')).toBeUndefined();
      expect(await store.getCustomerByName('ven_b', 'globex')).toBeUndefined();
      expect(await store.getToken('ven_b', 'vtok_aaaaaaaaaaaaaaaa')).toBeUndefined();
      expect(await store.getLicense('ven_b', 'lic_1')).toBeUndefined();
      expect(await store.listTokens('ven_b')).toEqual([]);
      expect(await store.listCustomers('ven_b')).toEqual([]);
      await store.setTokenStatus('ven_b', 'vtok_aaaaaaaaaaaaaaaa', 'revoked', t0);
      expect((await store.getToken('ven_a', 'vtok_aaaaaaaaaaaaaaaa'))?.status).toBe('active');
    });

    it('rolls back every write of a failed transaction', async () => {
      await expect(
        store.transaction(async (tx) => {
          await tx.insertCustomer(customer('cus_1', 'ven_a', 'globex'));
          await tx.insertToken(token('vtok_aaaaaaaaaaaaaaaa', 'ven_a'));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.getCustomer('ven_a', 'cus_1')).toBeUndefined();
      expect(await store.findTokenForAuth('vtok_aaaaaaaaaaaaaaaa')).toBeUndefined();
    });

    it('refuses a second live customer with the same name, but allows it after deletion', async () => {
      await store.insertCustomer(customer('cus_1', 'ven_a', 'globex'));
      await expect(store.insertCustomer(customer('cus_2', 'ven_a', 'globex'))).rejects.toThrow();
      await store.insertCustomer(customer('cus_3', 'ven_b', 'globex'));
      await store.updateCustomer({ ...customer('cus_1', 'ven_a', 'globex'), deletedAt: later(1) });
      expect(await store.getCustomer('ven_a', 'cus_1')).toBeUndefined();
      expect((await store.getCustomer('ven_a', 'cus_1', true))?.deletedAt).toEqual(later(1));
      await store.insertCustomer(customer('cus_2', 'ven_a', 'globex'));
      expect((await store.listCustomers('ven_a')).map((c) => c.id)).toEqual(['cus_2']);
    });

    it('filters tokens and licenses', async () => {
      await store.insertCustomer(customer('cus_1', 'ven_a', 'globex'));
      await store.insertToken(token('vtok_aaaaaaaaaaaaaaaa', 'ven_a'));
      await store.insertToken(token('ctok_bbbbbbbbbbbbbbbb', 'ven_a', { type: 'customer', customerId: 'cus_1', scopes: ['pull'] }));
      await store.setTokenStatus('ven_a', 'ctok_bbbbbbbbbbbbbbbb', 'disabled', later(1));
      expect((await store.listTokens('ven_a', { type: 'customer' })).map((t) => t.id)).toEqual(['ctok_bbbbbbbbbbbbbbbb']);
      expect((await store.listTokens('ven_a', { status: 'active' })).map((t) => t.id)).toEqual(['vtok_aaaaaaaaaaaaaaaa']);
      expect((await store.listTokens('ven_a', { customerId: 'cus_1' })).map((t) => t.id)).toEqual(['ctok_bbbbbbbbbbbbbbbb']);
      await store.insertLicense(license('lic_1', 'ven_a', 'cus_1'));
      await store.insertLicense(license('lic_2', 'ven_a', 'cus_1'));
      await store.setLicenseStatus('ven_a', 'lic_2', 'suspended', later(1));
      expect((await store.listLicenses('ven_a', { status: 'suspended' })).map((l) => l.id)).toEqual(['lic_2']);
      expect(await store.getLicense('ven_a', 'lic_1')).toEqual(license('lic_1', 'ven_a', 'cus_1'));
    });

    it('keeps the newest last-used observation whatever order batches arrive in', async () => {
      await store.insertToken(token('vtok_aaaaaaaaaaaaaaaa', 'ven_a'));
      await store.recordLastUsed([{ tokenId: 'vtok_aaaaaaaaaaaaaaaa', at: later(10), ip: '10.0.0.2' }]);
      await store.recordLastUsed([{ tokenId: 'vtok_aaaaaaaaaaaaaaaa', at: later(5), ip: '10.0.0.1' }]);
      const t = await store.getToken('ven_a', 'vtok_aaaaaaaaaaaaaaaa');
      expect(t?.lastUsedAt).toEqual(later(10));
      expect(t?.lastUsedIp).toBe('10.0.0.2');
    });

    it('lists audit events of one vendor in time order, since a time', async () => {
      for (const [i, v] of [
        [1, 'ven_a'],
        [2, 'ven_b'],
        [3, 'ven_a'],
      ] as const) {
        await store.insertAudit({
          id: `evt_${i}`,
          vendorId: v,
          at: later(i),
          actor: 'test',
          source: 'test',
          action: 'token.create',
          objectType: 'token',
          objectId: `t${i}`,
          detail: { i },
        });
      }
      expect((await store.listAudit('ven_a')).map((e) => e.id)).toEqual(['evt_1', 'evt_3']);
      expect((await store.listAudit('ven_a', { since: later(2) })).map((e) => e.detail)).toEqual([{ i: 3 }]);
      expect((await store.listAudit('ven_a', { limit: 1 })).map((e) => e.id)).toEqual(['evt_1']);
    });

    it('moves its change marker on every write and every transaction, and only then', async () => {
      const m0 = await store.changeMarker();
      await store.listVendors();
      expect(await store.changeMarker()).toBe(m0);
      await store.setTokenStatus('ven_a', 'nope', 'revoked', t0);
      await store.insertCustomer(customer('cus_m', 'ven_a', 'marker'));
      const m1 = await store.changeMarker();
      expect(m1).not.toBe(m0);
      await expect(
        store.transaction(async (tx) => {
          await tx.listVendors();
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await store.changeMarker()).not.toBe(m1);
    });

    it('marks status changes a customer-wide suspend holds, and clears the mark on any other change', async () => {
      await store.insertCustomer(customer('cus_1', 'ven_a', 'globex'));
      await store.insertToken(token('ctok_aaaaaaaaaaaaaaaa', 'ven_a', { type: 'customer', customerId: 'cus_1' }));
      await store.insertToken(token('ctok_bbbbbbbbbbbbbbbb', 'ven_a', { type: 'customer', customerId: 'cus_1' }));
      await store.insertLicense(license('lic_1', 'ven_a', 'cus_1'));
      await store.insertLicense(license('lic_2', 'ven_a', 'cus_1'));
      await store.setTokenStatus('ven_a', 'ctok_aaaaaaaaaaaaaaaa', 'disabled', later(1), true);
      await store.setTokenStatus('ven_a', 'ctok_bbbbbbbbbbbbbbbb', 'disabled', later(1));
      await store.setLicenseStatus('ven_a', 'lic_1', 'suspended', later(1), true);
      await store.setLicenseStatus('ven_a', 'lic_2', 'suspended', later(1));
      const held = async () => ({
        tokens: (await store.listTokens('ven_a', { customerId: 'cus_1', held: true })).map((t) => t.id),
        licenses: (await store.listLicenses('ven_a', { customerId: 'cus_1', held: true })).map((l) => l.id),
      });
      expect(await held()).toEqual({ tokens: ['ctok_aaaaaaaaaaaaaaaa'], licenses: ['lic_1'] });
      expect((await store.listTokens('ven_a', { held: false })).map((t) => t.id)).toEqual(['ctok_bbbbbbbbbbbbbbbb']);
      expect(await store.listTokens('ven_b', { held: true })).toEqual([]);
      // Held rows read back like any other: the mark is the store's business.
      expect(await store.getToken('ven_a', 'ctok_aaaaaaaaaaaaaaaa')).toMatchObject({ status: 'disabled', updatedAt: later(1) });
      await store.setTokenStatus('ven_a', 'ctok_aaaaaaaaaaaaaaaa', 'active', later(2));
      await store.setLicenseStatus('ven_a', 'lic_1', 'revoked', later(2));
      expect(await held()).toEqual({ tokens: [], licenses: [] });
    });

    describe('expiry warnings', () => {
      const w = (objectId: string, endsAt: Date) => ({ objectType: 'token' as const, objectId, vendorId: 'ven_a', endsAt });

      it('lets one claim win per object and end, records the send, and lists what has not ended', async () => {
        expect(await store.claimExpiryWarning(w('ctok_a', later(100)), t0, later(-300))).toBe(true);
        expect(await store.claimExpiryWarning(w('ctok_a', later(100)), later(1), later(-300))).toBe(false);
        expect(await store.claimExpiryWarning(w('ctok_a', later(200)), later(1), later(-300))).toBe(true);
        expect(await store.claimExpiryWarning(w('ctok_b', later(50)), later(1), later(-300))).toBe(true);
        await store.markExpiryWarningSent('ctok_a', later(100), later(2));
        await store.releaseExpiryWarning('ctok_a', later(100));
        expect(await store.listExpiryWarnings(later(60))).toEqual([
          { objectType: 'token', objectId: 'ctok_a', vendorId: 'ven_a', endsAt: later(100), claimedAt: t0, sentAt: later(2) },
          { objectType: 'token', objectId: 'ctok_a', vendorId: 'ven_a', endsAt: later(200), claimedAt: later(1), sentAt: null },
        ]);
        // A sent warning is never claimed again, however old.
        expect(await store.claimExpiryWarning(w('ctok_a', later(100)), later(10_000), later(9_000))).toBe(false);
      });

      it('frees a released claim for the next round, and lets a stale unsent claim be taken over once', async () => {
        expect(await store.claimExpiryWarning(w('ctok_a', later(100)), t0, later(-300))).toBe(true);
        await store.releaseExpiryWarning('ctok_a', later(100));
        expect(await store.listExpiryWarnings(t0)).toEqual([]);
        expect(await store.claimExpiryWarning(w('ctok_a', later(100)), later(1), later(-300))).toBe(true);
        // Still fresh: the claimant may be sending right now.
        expect(await store.claimExpiryWarning(w('ctok_a', later(100)), later(5), later(0))).toBe(false);
        expect(await store.claimExpiryWarning(w('ctok_a', later(100)), later(400), later(100))).toBe(true);
        expect(await store.claimExpiryWarning(w('ctok_a', later(100)), later(401), later(100))).toBe(false);
        expect((await store.listExpiryWarnings(t0)).map((r) => r.claimedAt)).toEqual([later(400)]);
      });
    });

    describe('registry metadata', () => {
      const d = (c: string) => `sha256:${c.repeat(64)}`;
      const manifest = (repository: string, digest: string, extra: Partial<ManifestRecord> = {}): ManifestRecord => ({
        repository,
        digest,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 500,
        subject: null,
        artifactType: null,
        annotations: null,
        children: [
          { digest: d('c'), kind: 'blob' },
          { digest: d('1'), kind: 'blob' },
        ],
        createdAt: t0,
        ...extra,
      });

      it('stores a manifest once, with its children, per repository', async () => {
        await store.putManifest(manifest('acme/app', d('a')));
        await store.putManifest(manifest('acme/app', d('a'), { size: 999 }));
        expect(await store.getManifest('acme/app', d('a'))).toEqual(manifest('acme/app', d('a')));
        expect(await store.getManifest('acme/other', d('a'))).toBeUndefined();
        await store.putManifest(manifest('acme/other', d('a')));
        expect(await store.listRepositories()).toEqual(['acme/app', 'acme/other']);
        expect((await store.listManifests('acme/app')).map((m) => m.digest)).toEqual([d('a')]);
      });

      it('moves tags, lists them sorted, and deletes a manifest with the tags on it', async () => {
        await store.putManifest(manifest('acme/app', d('a')));
        await store.putManifest(manifest('acme/app', d('b')));
        expect(await store.setTag('acme/app', '2.0', d('a'), t0)).toBeUndefined();
        expect(await store.setTag('acme/app', '1.0', d('a'), t0)).toBeUndefined();
        expect(await store.setTag('acme/app', '2.0', d('b'), later(1))).toBe(d('a'));
        expect(await store.listTags('acme/app')).toEqual([
          { tag: '1.0', digest: d('a') },
          { tag: '2.0', digest: d('b') },
        ]);
        expect(await store.resolveTag('acme/app', '2.0')).toBe(d('b'));
        expect(await store.deleteManifest('acme/app', d('a'))).toBe(true);
        expect(await store.deleteManifest('acme/app', d('a'))).toBe(false);
        expect(await store.listTags('acme/app')).toEqual([{ tag: '2.0', digest: d('b') }]);
        expect(await store.deleteTag('acme/app', '2.0')).toBe(true);
        expect(await store.resolveTag('acme/app', '2.0')).toBeUndefined();
      });

      it('finds referrers by subject', async () => {
        await store.putManifest(manifest('acme/app', d('a')));
        await store.putManifest(manifest('acme/app', d('5'), { subject: d('a'), artifactType: 'application/vnd.example.sig', annotations: { 'org.example.signed-by': 'ci' } }));
        await store.putManifest(manifest('acme/other', d('6'), { subject: d('a') }));
        expect((await store.listReferrers('acme/app', d('a'))).map((m) => [m.digest, m.artifactType, m.annotations])).toEqual([[d('5'), 'application/vnd.example.sig', { 'org.example.signed-by': 'ci' }]]);
      });

      it('links blobs to repositories and reports every referenced digest', async () => {
        await store.linkBlob('acme/app', d('9'), 42, t0);
        await store.linkBlob('acme/app', d('9'), 42, t0);
        expect(await store.getBlobLink('acme/app', d('9'))).toEqual({ size: 42 });
        expect(await store.getBlobLink('acme/db', d('9'))).toBeUndefined();
        await store.putManifest(manifest('acme/app', d('a')));
        const refs = await store.registryReferences();
        expect(refs.manifests).toEqual([{ repository: 'acme/app', digest: d('a'), children: [d('c'), d('1')] }]);
        expect(refs.links).toEqual([{ repository: 'acme/app', digest: d('9'), size: 42, linkedAt: t0 }]);
        for (const x of ['1', '9', 'a', 'c']) expect(await store.isDigestReferenced(d(x))).toBe(true);
        expect(await store.isDigestReferenced(d('f'))).toBe(false);
        expect(await store.unlinkBlob('acme/app', d('9'))).toBe(true);
        expect(await store.getBlobLink('acme/app', d('9'))).toBeUndefined();
      });

      it('moves a link\'s time when it is linked or touched again, and drops it only when stale and unreferenced', async () => {
        await store.linkBlob('acme/app', d('1'), 10, t0);
        await store.linkBlob('acme/app', d('2'), 20, t0);
        await store.linkBlob('acme/db', d('2'), 20, t0);
        await store.putManifest(manifest('acme/app', d('a')));
        // d('1') is a child of acme/app's manifest: referenced, so it stays however old.
        expect(await store.dropStaleBlobLink('acme/app', d('1'), later(60))).toBe(false);
        // Young (linked at or after the cutoff): stays.
        expect(await store.dropStaleBlobLink('acme/app', d('2'), t0)).toBe(false);
        // Linked again later: its time moves, and an older cutoff no longer reaches it.
        await store.linkBlob('acme/app', d('2'), 20, later(30));
        expect(await store.dropStaleBlobLink('acme/app', d('2'), later(10))).toBe(false);
        expect(await store.touchBlobLink('acme/app', d('2'), later(50))).toEqual({ size: 20 });
        expect(await store.dropStaleBlobLink('acme/app', d('2'), later(40))).toBe(false);
        expect(await store.touchBlobLink('acme/app', d('f'), later(50))).toBeUndefined();
        // Stale and unreferenced in its repository: dropped; the same blob's link in acme/db is its own.
        expect(await store.dropStaleBlobLink('acme/app', d('2'), later(60))).toBe(true);
        expect(await store.getBlobLink('acme/app', d('2'))).toBeUndefined();
        expect(await store.getBlobLink('acme/db', d('2'))).toEqual({ size: 20 });
        expect(await store.dropStaleBlobLink('acme/app', d('2'), later(60))).toBe(false);
        // A manifest in another repository does not keep acme/db's link.
        await store.putManifest(manifest('acme/other', d('b'), { children: [{ digest: d('2'), kind: 'blob' }] }));
        expect(await store.dropStaleBlobLink('acme/db', d('2'), later(60))).toBe(true);
        expect((await store.registryReferences()).links.map((l) => [l.repository, l.digest, l.linkedAt])).toEqual([['acme/app', d('1'), t0]]);
      });
    });

    describe('usage events', () => {
      const event = (id: string, vendorId: string, at: Date, extra: Partial<UsageEvent> = {}): UsageEvent => ({
        id,
        at,
        vendorId,
        tokenId: 'ctok_x',
        customerId: 'cus_1',
        action: 'pull',
        repository: 'acme/app',
        tag: '1.0',
        digest: `sha256:${'a'.repeat(64)}`,
        ip: '127.0.0.1',
        userAgent: 'skopeo/1.9',
        ...extra,
      });

      it('inserts a batch once even when it is replayed, and filters by vendor, customer, repository and time', async () => {
        const batch = [
          event('use_1', 'ven_a', later(1)),
          event('use_2', 'ven_a', later(2), { repository: 'acme/db', tag: null, customerId: null, action: 'push' }),
          event('use_3', 'ven_b', later(3)),
          event('use_4', 'ven_a', later(4), { customerId: 'cus_2' }),
        ];
        await store.insertUsage(batch);
        await store.insertUsage(batch.slice(0, 2));
        expect((await store.listUsage('ven_a')).map((e) => e.id)).toEqual(['use_1', 'use_2', 'use_4']);
        expect(await store.listUsage('ven_a', { repository: 'acme/db' })).toEqual([batch[1]]);
        expect((await store.listUsage('ven_a', { customerId: 'cus_1' })).map((e) => e.id)).toEqual(['use_1']);
        expect((await store.listUsage('ven_a', { since: later(2) })).map((e) => e.id)).toEqual(['use_2', 'use_4']);
      });
    });

    describe('users, sessions and invitations', () => {
      it('round-trips every field of a user, and finds it by e-mail, with its hash, for login and within its vendor', async () => {
        const u = user('usr_1', 'ven_a', 'ann@example.com', { role: 'owner', mustChangePassword: true, lastLoginAt: later(5) });
        await store.insertUser(u);
        expect(await store.findUsersForAuth('ann@example.com')).toEqual([u]);
        expect(await store.findUserByEmail('ven_a', 'ann@example.com')).toEqual(u);
        expect(await store.findUserByEmail('ven_b', 'ann@example.com')).toBeUndefined();
        const { passwordHash: _hash, ...plain } = u;
        expect(await store.getUser('ven_a', 'usr_1')).toEqual(plain);
        expect(await store.findUsersForAuth('nobody@example.com')).toEqual([]);
        expect(await store.findUserByEmail('ven_a', 'nobody@example.com')).toBeUndefined();
        const invited = user('usr_2', 'ven_a', 'bob@example.com', { status: 'invited', passwordHash: null });
        await store.insertUser(invited);
        expect(await store.findUsersForAuth('bob@example.com')).toEqual([invited]);
      });

      it('keeps e-mail addresses unique within a vendor only: one address may have a user in each vendor', async () => {
        const a = user('usr_a', 'ven_a', 'pat@example.com', { createdAt: later(2), passwordHash: '$argon2id$a' });
        const b = user('usr_b', 'ven_b', 'pat@example.com', { createdAt: later(1), passwordHash: '$argon2id$b' });
        await store.insertUser(a);
        await store.insertUser(b);
        await expect(store.insertUser(user('usr_c', 'ven_a', 'pat@example.com'))).rejects.toThrow();
        // Oldest first, each with its own hash.
        expect(await store.findUsersForAuth('pat@example.com')).toEqual([b, a]);
        expect(await store.findUserByEmail('ven_a', 'pat@example.com')).toEqual(a);
        expect(await store.findUserByEmail('ven_b', 'pat@example.com')).toEqual(b);
        expect((await store.listUsers('ven_a')).map((u) => u.id)).toEqual(['usr_a']);
        // Deleting one vendor's user leaves the other's.
        expect(await store.deleteUser('ven_b', 'usr_b')).toBe(true);
        expect(await store.findUsersForAuth('pat@example.com')).toEqual([a]);
      });

      it('keeps users within their vendor', async () => {
        await store.insertUser(user('usr_1', 'ven_a', 'ann@example.com'));
        await store.insertUser(user('usr_3', 'ven_b', 'cid@example.com', { createdAt: later(1) }));
        await store.insertUser(user('usr_4', 'ven_a', 'dee@example.com', { createdAt: later(2) }));
        expect((await store.listUsers('ven_a')).map((u) => u.id)).toEqual(['usr_1', 'usr_4']);
        expect((await store.listUsers('ven_b')).map((u) => u.id)).toEqual(['usr_3']);
        expect(await store.getUser('ven_b', 'usr_1')).toBeUndefined();
        // Another vendor's id changes and deletes nothing.
        await store.updateUser('ven_b', 'usr_1', { role: 'owner' }, later(9));
        expect((await store.getUser('ven_a', 'usr_1'))?.role).toBe('viewer');
        expect(await store.deleteUser('ven_b', 'usr_1')).toBe(false);
        expect(await store.getUser('ven_a', 'usr_1')).toBeDefined();
      });

      it('changes only the given fields and the update time; a login moves last_login_at only', async () => {
        await store.insertUser(user('usr_1', 'ven_a', 'ann@example.com', { status: 'invited', passwordHash: null }));
        await store.updateUser('ven_a', 'usr_1', { status: 'active', passwordHash: '$argon2id$new', mustChangePassword: true }, later(10));
        expect(await store.findUserByEmail('ven_a', 'ann@example.com')).toMatchObject({ role: 'viewer', status: 'active', passwordHash: '$argon2id$new', mustChangePassword: true, updatedAt: later(10) });
        await store.updateUser('ven_a', 'usr_1', { role: 'admin' }, later(20));
        expect(await store.findUserByEmail('ven_a', 'ann@example.com')).toMatchObject({ role: 'admin', status: 'active', passwordHash: '$argon2id$new', mustChangePassword: true, updatedAt: later(20) });
        await store.recordLogin('ven_a', 'usr_1', later(30));
        expect(await store.getUser('ven_a', 'usr_1')).toMatchObject({ lastLoginAt: later(30), updatedAt: later(20) });
      });

      it('finds sessions by their hash, touches, ends one, all of a user but one, and the expired ones', async () => {
        const ann = user('usr_1', 'ven_a', 'ann@example.com');
        const bob = user('usr_2', 'ven_a', 'bob@example.com');
        await store.insertUser(ann);
        await store.insertUser(bob);
        const s1 = session('hmac-s1', ann);
        await store.insertSession(s1);
        await store.insertSession(session('hmac-s2', ann));
        await store.insertSession(session('hmac-s3', ann, later(10)));
        await store.insertSession(session('hmac-s4', bob));
        expect(await store.findSessionForAuth('hmac-s1')).toEqual(s1);
        expect(await store.findSessionForAuth('hmac-nope')).toBeUndefined();
        await store.touchSession('hmac-s1', later(5));
        expect((await store.findSessionForAuth('hmac-s1'))?.lastSeenAt).toEqual(later(5));
        expect(await store.deleteExpiredSessions(later(10))).toBe(1);
        expect(await store.findSessionForAuth('hmac-s3')).toBeUndefined();
        // Another vendor's call ends nothing.
        expect(await store.deleteUserSessions('ven_b', 'usr_1')).toBe(0);
        expect(await store.deleteUserSessions('ven_a', 'usr_1', 'hmac-s1')).toBe(1);
        expect(await store.findSessionForAuth('hmac-s1')).toBeDefined();
        expect(await store.findSessionForAuth('hmac-s2')).toBeUndefined();
        expect(await store.deleteSession('hmac-s1')).toBe(true);
        expect(await store.deleteSession('hmac-s1')).toBe(false);
        expect(await store.findSessionForAuth('hmac-s4')).toBeDefined();
      });

      it('uses an invitation once, and deletes a user with its sessions and invitations', async () => {
        const ann = user('usr_1', 'ven_a', 'ann@example.com', { status: 'invited', passwordHash: null });
        await store.insertUser(ann);
        const inv: InvitationRecord = { id: 'hmac-i1', userId: 'usr_1', vendorId: 'ven_a', createdBy: 'user:boss@example.com', createdAt: t0, expiresAt: later(86_400), usedAt: null };
        await store.insertInvitation(inv);
        expect(await store.findInvitationForAuth('hmac-i1')).toEqual(inv);
        expect(await store.findInvitationForAuth('hmac-nope')).toBeUndefined();
        expect(await store.useInvitation('hmac-i1', later(7))).toBe(true);
        expect(await store.useInvitation('hmac-i1', later(8))).toBe(false);
        expect((await store.findInvitationForAuth('hmac-i1'))?.usedAt).toEqual(later(7));
        await store.insertSession(session('hmac-s1', ann));
        expect(await store.deleteUser('ven_a', 'usr_1')).toBe(true);
        expect(await store.getUser('ven_a', 'usr_1')).toBeUndefined();
        expect(await store.findSessionForAuth('hmac-s1')).toBeUndefined();
        expect(await store.findInvitationForAuth('hmac-i1')).toBeUndefined();
        // The address is free again.
        await store.insertUser(user('usr_9', 'ven_b', 'ann@example.com'));
      });
    });
  });
}
