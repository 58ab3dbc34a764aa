import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { presentCustomerAction } from '../../src/present.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { previewCustomerAction, resumeCustomer, revokeCustomer, suspendCustomer } from '../../src/service/customer-actions.js';
import { createCustomer } from '../../src/service/customers.js';
import { changeLicenseStatus, createLicense } from '../../src/service/licenses.js';
import { changeTokenStatus, createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createVendor } from '../../src/service/vendors.js';
import type { Store } from '../../src/store/store.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const basic = (t: CreatedToken) => `Basic ${Buffer.from(`${t.token.id}:${t.secret}`).toString('base64')}`;

describe('customer-wide actions', () => {
  let inst: TestInstance;
  let customerId: string;
  const tokens: Record<string, CreatedToken> = {};
  const licenses: Record<string, string> = {};

  const tokenStatus = async (name: string) => (await inst.runtime.store.getToken(inst.caller.vendorId, tokens[name]!.token.id))?.status;
  const licenseStatus = async (name: string) => (await inst.runtime.store.getLicense(inst.caller.vendorId, licenses[name]!))?.status;
  const statuses = async () => ({
    tokens: Object.fromEntries(await Promise.all(Object.keys(tokens).map(async (n) => [n, await tokenStatus(n)]))),
    licenses: Object.fromEntries(await Promise.all(Object.keys(licenses).map(async (n) => [n, await licenseStatus(n)]))),
  });

  beforeEach(async () => {
    inst = await startInstance();
    const rt = inst.runtime;
    // One second per creation, so that listings (by creation time) follow the order below.
    const clock = inst.clock;
    const start = clock.now.getTime();
    let n = 0;
    inst.runtime.now = () => new Date(start + 1000 * n++);
    customerId = (await createCustomer(rt, inst.caller, { name: 'globex' })).id;
    const other = await createCustomer(rt, inst.caller, { name: 'initech' });
    tokens.prod = await createToken(rt, inst.caller, { type: 'customer', customer: customerId, name: 'prod' });
    tokens.ci = await createToken(rt, inst.caller, { type: 'customer', customer: customerId, name: 'ci' });
    tokens.off = await createToken(rt, inst.caller, { type: 'customer', customer: customerId, name: 'off' });
    tokens.gone = await createToken(rt, inst.caller, { type: 'customer', customer: customerId, name: 'gone' });
    tokens.neighbour = await createToken(rt, inst.caller, { type: 'customer', customer: other.id, name: 'neighbour' });
    await changeTokenStatus(rt, inst.caller, tokens.off.token.id, 'disable');
    await changeTokenStatus(rt, inst.caller, tokens.gone.token.id, 'revoke');
    licenses.app = (await createLicense(rt, inst.caller, { customer: customerId, repositories: 'acme/app' })).id;
    licenses.paused = (await createLicense(rt, inst.caller, { customer: customerId, repositories: 'acme/db' })).id;
    licenses.neighbour = (await createLicense(rt, inst.caller, { customer: other.id, repositories: 'acme/app' })).id;
    await changeLicenseStatus(rt, inst.caller, licenses.paused, 'suspend');
    clock.now = new Date(start + 1000 * n);
    inst.runtime.now = () => clock.now;
  });
  afterEach(async () => inst.cleanup());

  it('suspend disables what is active; resume undoes exactly that, not what was off before', async () => {
    const rt = inst.runtime;
    const suspended = await suspendCustomer(rt, inst.caller, 'globex');
    expect({ tokens: suspended.tokens, licenses: suspended.licenses }).toEqual({ tokens: [tokens.prod!.token.id, tokens.ci!.token.id], licenses: [licenses.app] });
    expect(await statuses()).toEqual({
      tokens: { prod: 'disabled', ci: 'disabled', off: 'disabled', gone: 'revoked', neighbour: 'active' },
      licenses: { app: 'suspended', paused: 'suspended', neighbour: 'active' },
    });

    const resumed = await resumeCustomer(rt, inst.caller, customerId);
    expect({ tokens: resumed.tokens, licenses: resumed.licenses }).toEqual({ tokens: [tokens.prod!.token.id, tokens.ci!.token.id], licenses: [licenses.app] });
    expect(await statuses()).toEqual({
      tokens: { prod: 'active', ci: 'active', off: 'disabled', gone: 'revoked', neighbour: 'active' },
      licenses: { app: 'active', paused: 'suspended', neighbour: 'active' },
    });
  });

  it('resume leaves alone what was changed on its own while the customer was suspended', async () => {
    const rt = inst.runtime;
    await suspendCustomer(rt, inst.caller, customerId);
    // ci is enabled and disabled again by hand: now it is off for its own reason.
    await changeTokenStatus(rt, inst.caller, tokens.ci!.token.id, 'enable');
    await changeTokenStatus(rt, inst.caller, tokens.ci!.token.id, 'disable');
    await changeTokenStatus(rt, inst.caller, tokens.prod!.token.id, 'revoke');
    const resumed = await resumeCustomer(rt, inst.caller, customerId);
    expect(resumed.tokens).toEqual([]);
    expect(resumed.licenses).toEqual([licenses.app]);
    expect((await statuses()).tokens).toMatchObject({ prod: 'revoked', ci: 'disabled', off: 'disabled' });
  });

  it('a second suspend, and a resume of a customer that is not suspended, change nothing and audit nothing', async () => {
    const rt = inst.runtime;
    expect(await resumeCustomer(rt, inst.caller, customerId)).toMatchObject({ tokens: [], licenses: [] });
    await suspendCustomer(rt, inst.caller, customerId);
    const before = (await rt.store.listAudit(inst.caller.vendorId)).length;
    expect(await suspendCustomer(rt, inst.caller, customerId)).toMatchObject({ tokens: [], licenses: [] });
    expect((await rt.store.listAudit(inst.caller.vendorId)).length).toBe(before);
  });

  it('revoke ends every token and license of the customer, held ones included, for good', async () => {
    const rt = inst.runtime;
    await suspendCustomer(rt, inst.caller, customerId);
    const preview = await previewCustomerAction(rt, inst.caller, customerId, 'revoke');
    expect(await tokenStatus('prod')).toBe('disabled');
    const revoked = await revokeCustomer(rt, inst.caller, customerId);
    expect(revoked.tokens).toEqual(preview.tokens);
    expect(revoked.tokens).toEqual([tokens.prod!.token.id, tokens.ci!.token.id, tokens.off!.token.id]);
    expect(revoked.licenses).toEqual([licenses.app, licenses.paused]);
    expect(await statuses()).toEqual({
      tokens: { prod: 'revoked', ci: 'revoked', off: 'revoked', gone: 'revoked', neighbour: 'active' },
      licenses: { app: 'revoked', paused: 'revoked', neighbour: 'active' },
    });
    expect(await resumeCustomer(rt, inst.caller, customerId)).toMatchObject({ tokens: [], licenses: [] });
    expect(await tokenStatus('prod')).toBe('revoked');
  });

  it('audits one customer event listing the changes, and one event per object with the reason', async () => {
    const rt = inst.runtime;
    const before = (await rt.store.listAudit(inst.caller.vendorId)).length;
    await suspendCustomer(rt, inst.caller, customerId);
    const events = (await rt.store.listAudit(inst.caller.vendorId)).slice(before);
    expect(events.every((e) => e.actor === 'test' && e.at.getTime() === inst.clock.now.getTime())).toBe(true);
    expect(events.map((e) => [e.action, e.objectId, e.detail])).toEqual([
      ['token.disable', tokens.prod!.token.id, { from: 'active', to: 'disabled', reason: 'customer suspended' }],
      ['token.disable', tokens.ci!.token.id, { from: 'active', to: 'disabled', reason: 'customer suspended' }],
      ['license.suspend', licenses.app, { from: 'active', to: 'suspended', reason: 'customer suspended' }],
      ['customer.suspend', customerId, { name: 'globex', tokens: [tokens.prod!.token.id, tokens.ci!.token.id], licenses: [licenses.app] }],
    ]);
    expect(JSON.stringify(events)).not.toContain(tokens.prod!.secret);
  });

  it("is all or nothing: a failure half-way leaves every token and license as it was", async () => {
    const rt = inst.runtime;
    // A store whose transaction breaks on the license write, after the tokens were written.
    const failing = new Proxy(rt.store, {
      get(target, prop, receiver) {
        if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
        return (fn: (tx: Store) => Promise<unknown>) =>
          target.transaction((tx) =>
            fn(new Proxy(tx, { get: (t2, p2, r2) => (p2 === 'setLicenseStatus' ? async () => Promise.reject(new Error('disk full')) : Reflect.get(t2, p2, r2)) })),
          );
      },
    });
    await expect(suspendCustomer({ ...rt, store: failing }, inst.caller, customerId)).rejects.toThrow('disk full');
    expect(await tokenStatus('prod')).toBe('active');
    expect(await rt.store.listTokens(inst.caller.vendorId, { held: true })).toEqual([]);
    expect((await rt.store.listAudit(inst.caller.vendorId)).filter((e) => e.action === 'customer.suspend')).toEqual([]);
  });

  it("does not find another vendor's customer, by name or id", async () => {
    const rt = inst.runtime;
    const vendor = await createVendor(rt, inst.caller, { name: 'acme' });
    const acme: Caller = ownerCaller(vendor, { name: 'test', source: 'test' });
    for (const ref of ['globex', customerId]) {
      await expect(suspendCustomer(rt, acme, ref)).rejects.toMatchObject({ code: 'not_found' });
      await expect(revokeCustomer(rt, acme, ref)).rejects.toMatchObject({ code: 'not_found' });
      await expect(resumeCustomer(rt, acme, ref)).rejects.toMatchObject({ code: 'not_found' });
    }
    expect(await tokenStatus('prod')).toBe('active');
  });

  it('presents the summary with ids only', async () => {
    const s = await suspendCustomer(inst.runtime, inst.caller, customerId);
    expect(presentCustomerAction(s)).toEqual({
      action: 'suspend',
      customer: { id: customerId, name: 'globex' },
      tokens: [tokens.prod!.token.id, tokens.ci!.token.id],
      licenses: [licenses.app],
    });
  });
});

describe('customer-wide actions take effect on the next request', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let token: CreatedToken;

  beforeEach(async () => {
    inst = await startInstance();
    app = await buildApp(inst.runtime);
    const c = await createCustomer(inst.runtime, inst.caller, { name: 'globex' });
    await createLicense(inst.runtime, inst.caller, { customer: c.id, repositories: 'acme/app' });
    token = await createToken(inst.runtime, inst.caller, { type: 'customer', customer: c.id, name: 'prod' });
  });
  afterEach(async () => {
    await app.close();
    await inst.cleanup();
  });

  const v2 = () => app.inject({ method: 'GET', url: '/v2/', headers: { authorization: basic(token) } });
  const tokenEndpoint = () =>
    app.inject({ method: 'GET', url: '/token?service=portcullis&scope=repository:acme/app:pull', headers: { authorization: basic(token) } });
  const grantedActions = async () => {
    const res = await tokenEndpoint();
    if (res.statusCode !== 200) return res.statusCode;
    const jwt = (res.json() as { token: string }).token;
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { access: { actions: string[] }[] };
    return claims.access.flatMap((a) => a.actions);
  };

  it('a pull token stops working right after suspend (on /v2 and /token), works again after resume, and never after revoke', async () => {
    // Warm the access cache first: the suspend must drop it, not wait for it to expire.
    expect((await v2()).statusCode).toBe(200);
    expect(await grantedActions()).toEqual(['pull']);

    await suspendCustomer(inst.runtime, inst.caller, 'globex');
    expect((await v2()).statusCode).toBe(401);
    expect(await grantedActions()).toBe(401);

    await resumeCustomer(inst.runtime, inst.caller, 'globex');
    expect((await v2()).statusCode).toBe(200);
    expect(await grantedActions()).toEqual(['pull']);

    await revokeCustomer(inst.runtime, inst.caller, 'globex');
    expect((await v2()).statusCode).toBe(401);
    expect(await grantedActions()).toBe(401);
  });
});
