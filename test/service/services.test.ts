import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LastUsedRecorder } from '../../src/auth/last-used.js';
import type { Store } from '../../src/store/store.js';
import { createCustomer, deleteCustomer } from '../../src/service/customers.js';
import { changeLicenseStatus, createLicense } from '../../src/service/licenses.js';
import { createPlan, deletePlan } from '../../src/service/plans.js';
import { changeTokenStatus, createToken, listTokens } from '../../src/service/tokens.js';
import { createVendor } from '../../src/service/vendors.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { ownerCaller } from '../../src/service/context.js';

describe('services', () => {
  let inst: TestInstance;
  beforeEach(async () => {
    inst = await startInstance();
  });
  afterEach(async () => inst.cleanup());

  it('audits every change with actor, action, object and time', async () => {
    const rt = inst.runtime;
    const c = await createCustomer(rt, inst.caller, { name: 'globex', contact: 'ops@globex.test' });
    const p = await createPlan(rt, inst.caller, { name: 'basic', repositories: 'acme/app' });
    const l = await createLicense(rt, inst.caller, { customer: 'globex', plan: 'basic', tags: '1.*', validUntil: '1y' });
    const t = await createToken(rt, inst.caller, { type: 'customer', customer: c.id, name: 'prod' });
    await changeTokenStatus(rt, inst.caller, t.token.id, 'disable');
    await changeTokenStatus(rt, inst.caller, t.token.id, 'enable');
    await changeLicenseStatus(rt, inst.caller, l.id, 'suspend');
    await changeLicenseStatus(rt, inst.caller, l.id, 'resume');
    const events = (await rt.store.listAudit(inst.caller.vendorId, { since: inst.clock.now })).filter((e) => e.actor === 'test');
    expect(events.map((e) => [e.action, e.objectId])).toEqual([
      ['customer.create', c.id],
      ['plan.create', p.id],
      ['license.create', l.id],
      ['token.create', t.token.id],
      ['token.disable', t.token.id],
      ['token.enable', t.token.id],
      ['license.suspend', l.id],
      ['license.resume', l.id],
    ]);
    for (const e of events) expect(e).toMatchObject({ actor: 'test', source: 'test', at: inst.clock.now });
    expect(JSON.stringify(events)).not.toContain(t.secret);
  });

  it('repeating a state change is a no-op without an audit event; revoked is final', async () => {
    const t = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: 'ci' });
    await changeTokenStatus(inst.runtime, inst.caller, t.token.id, 'disable');
    await changeTokenStatus(inst.runtime, inst.caller, t.token.id, 'disable');
    const disables = (await inst.runtime.store.listAudit(inst.caller.vendorId, { objectId: t.token.id })).filter((e) => e.action === 'token.disable');
    expect(disables).toHaveLength(1);
    await changeTokenStatus(inst.runtime, inst.caller, t.token.id, 'revoke');
    await expect(changeTokenStatus(inst.runtime, inst.caller, t.token.id, 'enable')).rejects.toThrow(/revocation is final/);
    expect((await listTokens(inst.runtime, inst.caller, { status: 'revoked' })).map((x) => x.id)).toContain(t.token.id);
  });

  it('a forced customer delete that fails half-way leaves every token and license as it was', async () => {
    const rt = inst.runtime;
    const c = await createCustomer(rt, inst.caller, { name: 'initech' });
    const t = await createToken(rt, inst.caller, { type: 'customer', customer: c.id, name: 'a' });
    const l = await createLicense(rt, inst.caller, { customer: c.id, repositories: 'acme/**' });
    // A store whose transaction breaks on the last write of the delete.
    const failing = new Proxy(rt.store, {
      get(target, prop, receiver) {
        if (prop === 'transaction') {
          return (fn: (tx: Store) => Promise<unknown>) =>
            target.transaction((tx) =>
              fn(
                new Proxy(tx, {
                  get(t2, p2, r2) {
                    if (p2 === 'updateCustomer') return async () => Promise.reject(new Error('disk full'));
                    return Reflect.get(t2, p2, r2);
                  },
                }),
              ),
            );
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    await expect(deleteCustomer({ ...rt, store: failing }, inst.caller, c.id, true)).rejects.toThrow('disk full');
    expect((await rt.store.getToken(inst.caller.vendorId, t.token.id))?.status).toBe('active');
    expect((await rt.store.getLicense(inst.caller.vendorId, l.id))?.status).toBe('active');
    expect(await rt.store.getCustomer(inst.caller.vendorId, c.id)).toBeDefined();

    const done = await deleteCustomer(rt, inst.caller, c.id, true);
    expect(done.revokedTokens).toEqual([t.token.id]);
    expect(done.revokedLicenses).toEqual([l.id]);
    expect((await rt.store.getToken(inst.caller.vendorId, t.token.id))?.status).toBe('revoked');
  });

  it('refuses customer tokens without a customer, with push, or for a deleted customer', async () => {
    const rt = inst.runtime;
    await expect(createToken(rt, inst.caller, { type: 'customer', name: 'x' })).rejects.toThrow(/need a customer/);
    const c = await createCustomer(rt, inst.caller, { name: 'umbrella' });
    await expect(createToken(rt, inst.caller, { type: 'customer', customer: c.id, name: 'x', scopes: 'push' })).rejects.toThrow(/pull-only/);
    await expect(createToken(rt, inst.caller, { type: 'vendor', customer: c.id, name: 'x' })).rejects.toThrow(/vendor tokens belong/);
    await deleteCustomer(rt, inst.caller, c.id, false);
    await expect(createToken(rt, inst.caller, { type: 'customer', customer: c.id, name: 'x' })).rejects.toThrow(/not found/);
  });

  it('validates license windows, patterns and plans', async () => {
    const rt = inst.runtime;
    await createCustomer(rt, inst.caller, { name: 'globex' });
    await createPlan(rt, inst.caller, { name: 'gold', repositories: ['acme/*'] });
    const cases: [Parameters<typeof createLicense>[2], RegExp][] = [
      [{ customer: 'globex' }, /repository patterns or a plan/],
      [{ customer: 'globex', repositories: 'acme/app', plan: 'gold' }, /not both/],
      [{ customer: 'globex', repositories: 'Acme/App' }, /lower case/],
      [{ customer: 'globex', repositories: 'acme/app', tags: 'semver:>=x' }, /semver/],
      [{ customer: 'globex', repositories: 'acme/app', validUntil: '2001-01-01' }, /past|after valid_from/],
      [{ customer: 'globex', repositories: 'acme/app', validFrom: '2027-01-01', validUntil: '2026-12-01' }, /after valid_from/],
      [{ customer: 'nobody', repositories: 'acme/app' }, /customer nobody not found/],
      [{ customer: 'globex', plan: 'silver' }, /plan silver not found/],
    ];
    for (const [input, message] of cases) await expect(createLicense(rt, inst.caller, input)).rejects.toThrow(message);
    const l = await createLicense(rt, inst.caller, { customer: 'globex', repositories: 'acme/app', validFrom: '2027-01-31', validUntil: '1M' });
    expect(l.validUntil?.toISOString()).toBe('2027-02-28T00:00:00.000Z');
    expect(await rt.store.listLicenses(inst.caller.vendorId)).toHaveLength(1);
    const withPlan = await createLicense(rt, inst.caller, { customer: 'globex', plan: 'gold' });
    await expect(deletePlan(rt, inst.caller, 'gold')).rejects.toThrow(/referenced by 1 license/);
    await changeLicenseStatus(rt, inst.caller, withPlan.id, 'revoke');
    await expect(deletePlan(rt, inst.caller, 'gold')).rejects.toThrow(/revoked/);
  });

  it('takes semver ranges with spaces among comma-separated tag patterns', async () => {
    await createCustomer(inst.runtime, inst.caller, { name: 'hooli' });
    const l = await createLicense(inst.runtime, inst.caller, { customer: 'hooli', repositories: 'acme/app', tags: 'semver:>=1.2.0 <2.0.0, stable', validUntil: 'NEVER' });
    expect(l.tags).toEqual(['semver:>=1.2.0 <2.0.0', 'stable']);
    expect(l.validUntil).toBeNull();
  });

  it('lists the newest audit events when asked for the latest few', async () => {
    for (const name of ['a', 'b', 'c']) {
      inst.clock.now = new Date(inst.clock.now.getTime() + 1000);
      await createCustomer(inst.runtime, inst.caller, { name });
    }
    const latest = await inst.runtime.store.listAudit(inst.caller.vendorId, { limit: 2, newest: true });
    expect(latest.map((e) => e.detail.name)).toEqual(['b', 'c']);
  });

  it('lets only the operator create vendors, and keeps tenants apart', async () => {
    const rt = inst.runtime;
    const beta = await createVendor(rt, inst.caller, { name: 'beta' });
    expect(beta.namespaces).toEqual(['beta/**']);
    const betaCaller = ownerCaller(beta, inst.caller.actor);
    await expect(createVendor(rt, betaCaller, { name: 'gamma' })).rejects.toThrow(/owner-level authority of the operator vendor/);
    await createCustomer(rt, betaCaller, { name: 'globex' });
    const mine = await createToken(rt, inst.caller, { type: 'vendor', name: 'mine' });
    expect(await listTokens(rt, betaCaller)).toEqual([]);
    await expect(changeTokenStatus(rt, betaCaller, mine.token.id, 'revoke')).rejects.toThrow(/not found/);
    await expect(createVendor(rt, inst.caller, { name: 'Beta Corp' })).rejects.toThrow(/lower case/);
  });
});

describe('LastUsedRecorder', () => {
  it('keeps observations whose write failed for the next flush', async () => {
    let fail = true;
    const written: string[] = [];
    const errors: unknown[] = [];
    const store = {
      recordLastUsed: async (batch: { tokenId: string }[]) => {
        if (fail) throw new Error('locked');
        written.push(...batch.map((b) => b.tokenId));
      },
    } as unknown as Store;
    const rec = new LastUsedRecorder(store, (e) => errors.push(e));
    rec.note('vtok_a', new Date(2), '1.1.1.1');
    rec.note('vtok_a', new Date(1), '2.2.2.2');
    rec.note('vtok_b', new Date(1), '1.1.1.1');
    await rec.flush();
    expect(errors).toHaveLength(1);
    expect(rec.size).toBe(2);
    fail = false;
    await rec.stop();
    expect(written.sort()).toEqual(['vtok_a', 'vtok_b']);
    expect(rec.size).toBe(0);
  });
});
