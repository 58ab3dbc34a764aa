/**
 * One e-mail address, accounts in several vendors (migration 0007), through
 * the admin API in process (app.inject): creating or inviting an address
 * another vendor has tells nothing, a duplicate inside the vendor is a
 * conflict; a login names the vendor when its address and password open
 * more than one account; each account's password change and audit trail
 * stay its own.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { BAD_LOGIN_MESSAGE, NAME_THE_VENDOR_MESSAGE } from '../../src/service/sessions.js';
import { createUser } from '../../src/service/users.js';
import { createVendor } from '../../src/service/vendors.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const PASSWORD = 'correct horse battery staple';
const OTHER_PASSWORD = 'a different long passphrase';

interface Session {
  cookie: string;
  csrf: string;
  body: { user: { id: string; email: string; must_change_password: boolean }; vendor: { id: string; name: string } };
}

describe('one e-mail address in several vendors', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let acme: Caller;
  let beta: Caller;
  let acmeOwner: Session;
  let betaOwner: Session;
  let addresses = 0;
  const nextIp = () => `10.7.${Math.floor(++addresses / 250) % 250}.${addresses % 250}`;

  const call = (method: string, url: string, c: { session?: Session; payload?: unknown } = {}) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: c.session ? { cookie: `portcullis_session=${c.session.cookie}`, 'x-csrf-token': c.session.csrf } : {},
      remoteAddress: nextIp(),
      ...(c.payload === undefined ? {} : { payload: c.payload as object }),
    });

  const tryLogin = (email: string, password: string, vendor?: string) =>
    call('POST', '/api/v1/session', { payload: { email, password, ...(vendor === undefined ? {} : { vendor }) } });

  async function login(email: string, password: string, vendor?: string): Promise<Session> {
    const res = await tryLogin(email, password, vendor);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    return { cookie: /portcullis_session=([^;]*)/.exec(String(res.headers['set-cookie']))![1]!, csrf: body.csrf_token, body };
  }

  const expectBadLogin = (res: Awaited<ReturnType<typeof tryLogin>>) => {
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json()).toMatchObject({ code: 'unauthenticated', detail: BAD_LOGIN_MESSAGE });
  };

  beforeAll(async () => {
    inst = await startInstance();
    app = await buildApp(inst.runtime);
    acme = ownerCaller(await createVendor(inst.runtime, inst.caller, { name: 'acme' }), { name: 'test', source: 'test' });
    beta = ownerCaller(await createVendor(inst.runtime, inst.caller, { name: 'beta' }), { name: 'test', source: 'test' });
    await createUser(inst.runtime, acme, { email: 'owner@acme.test', role: 'owner', password: PASSWORD });
    await createUser(inst.runtime, beta, { email: 'owner@beta.test', role: 'owner', password: PASSWORD });
    acmeOwner = await login('owner@acme.test', PASSWORD);
    betaOwner = await login('owner@beta.test', PASSWORD);
  });

  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  it("creating or inviting an address another vendor has is a plain 201; a duplicate inside the vendor is 409", async () => {
    await createUser(inst.runtime, beta, { email: 'pat@example.com', role: 'admin', password: PASSWORD });
    await createUser(inst.runtime, beta, { email: 'quinn@example.com', role: 'viewer', password: PASSWORD });
    // What acme sees for an address beta has, and for one nobody has: the same kind of answer.
    const taken = await call('POST', '/api/v1/users', { session: acmeOwner, payload: { email: 'Pat@Example.com', role: 'viewer', password: PASSWORD } });
    const fresh = await call('POST', '/api/v1/users', { session: acmeOwner, payload: { email: 'nobody-else@example.com', role: 'viewer', password: PASSWORD } });
    expect(taken.statusCode, taken.body).toBe(201);
    expect(fresh.statusCode, fresh.body).toBe(201);
    expect(Object.keys(taken.json()).sort()).toEqual(Object.keys(fresh.json()).sort());
    expect(taken.json()).toMatchObject({ email: 'pat@example.com', role: 'viewer', status: 'active', last_login_at: null });
    const invited = await call('POST', '/api/v1/invitations', { session: acmeOwner, payload: { email: 'quinn@example.com', role: 'viewer' } });
    expect(invited.statusCode, invited.body).toBe(201);
    expect(invited.json().user).toMatchObject({ email: 'quinn@example.com', status: 'invited' });

    for (const [path, payload] of [
      ['/api/v1/users', { email: 'PAT@example.com', role: 'viewer', password: PASSWORD }],
      ['/api/v1/invitations', { email: 'pat@example.com', role: 'viewer', mode: 'password' }],
      ['/api/v1/invitations', { email: 'quinn@example.com', role: 'viewer' }],
    ] as const) {
      const res = await call('POST', path, { session: acmeOwner, payload });
      expect(res.statusCode, `${path} ${payload.email}: ${res.body}`).toBe(409);
      expect(res.json()).toMatchObject({ code: 'conflict', detail: `a user with the e-mail address ${payload.email.toLowerCase()} already exists` });
    }
    // Each vendor lists and finds its own user under the address.
    const acmePat = (await call('GET', '/api/v1/users/pat@example.com', { session: acmeOwner })).json();
    const betaPat = (await call('GET', '/api/v1/users/pat@example.com', { session: betaOwner })).json();
    expect([acmePat.role, betaPat.role]).toEqual(['viewer', 'admin']);
    expect(acmePat.id).not.toBe(betaPat.id);
  });

  it('one password for two accounts: 409 asking for the vendor, then each account by naming its vendor', async () => {
    await createUser(inst.runtime, acme, { email: 'sam@example.com', role: 'admin', password: PASSWORD });
    await createUser(inst.runtime, beta, { email: 'sam@example.com', role: 'viewer', password: PASSWORD });
    // Only the password's holder gets the 409; it never counts as a failed login.
    for (let i = 0; i < 12; i++) {
      const res = await tryLogin('Sam@Example.com ', PASSWORD);
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json()).toMatchObject({ code: 'conflict', field: 'vendor', detail: NAME_THE_VENDOR_MESSAGE });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const inAcme = await login('sam@example.com', PASSWORD, 'acme');
    expect(inAcme.body).toMatchObject({ user: { email: 'sam@example.com' }, vendor: { id: acme.vendorId, name: 'acme' } });
    const inBeta = await login('sam@example.com', PASSWORD, ' Beta ');
    expect(inBeta.body.vendor).toMatchObject({ id: beta.vendorId, name: 'beta' });
    expect(inAcme.body.user.id).not.toBe(inBeta.body.user.id);
    // Each session sees its own vendor only.
    expect((await call('GET', '/api/v1/users', { session: inAcme })).json().items.map((u: { email: string }) => u.email)).toContain('owner@acme.test');
    expect((await call('GET', '/api/v1/users', { session: inBeta })).statusCode).toBe(200);
    expect((await call('GET', '/api/v1/users', { session: inBeta })).json().items.map((u: { email: string }) => u.email)).not.toContain('owner@acme.test');

    // A wrong password, an unknown vendor, a vendor without that address: the one 401.
    expectBadLogin(await tryLogin('sam@example.com', OTHER_PASSWORD));
    expectBadLogin(await tryLogin('sam@example.com', OTHER_PASSWORD, 'acme'));
    expectBadLogin(await tryLogin('sam@example.com', PASSWORD, 'gamma'));
    expectBadLogin(await tryLogin('owner@acme.test', PASSWORD, 'beta'));
    // With one account left usable, the address alone opens it again.
    await call('PATCH', '/api/v1/users/sam@example.com', { session: betaOwner, payload: { status: 'disabled' } });
    expect((await login('sam@example.com', PASSWORD)).body.vendor.name).toBe('acme');
  });

  it('different passwords: each opens its own account, no vendor needed', async () => {
    const inAcme = await createUser(inst.runtime, acme, { email: 'rae@example.com', role: 'viewer', password: PASSWORD });
    const inBeta = await createUser(inst.runtime, beta, { email: 'rae@example.com', role: 'viewer', password: OTHER_PASSWORD });
    expect((await login('rae@example.com', PASSWORD)).body).toMatchObject({ user: { id: inAcme.id }, vendor: { name: 'acme' } });
    expect((await login('rae@example.com', OTHER_PASSWORD)).body).toMatchObject({ user: { id: inBeta.id }, vendor: { name: 'beta' } });
    expectBadLogin(await tryLogin('rae@example.com', OTHER_PASSWORD, 'acme'));
  });

  it("guessing another vendor's password through a copy of its address is throttled like any failed login", async () => {
    // The victim, in beta; the attacker, an admin of acme, creates the same address with a password of its own.
    await createUser(inst.runtime, beta, { email: 'victim@example.com', role: 'owner', password: PASSWORD });
    const copy = await call('POST', '/api/v1/users', { session: acmeOwner, payload: { email: 'victim@example.com', role: 'viewer', password: OTHER_PASSWORD } });
    expect(copy.statusCode, copy.body).toBe(201);
    // Each login into the copy is a wrong guess at beta's account: counted, so ten of them end in 429.
    const answers: number[] = [];
    for (let i = 0; i < 11; i++) answers.push((await tryLogin('victim@example.com', OTHER_PASSWORD)).statusCode);
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(answers[10]).toBe(429);
    // The right guess would answer 409 — but the address is throttled now, whatever the password.
    const right = await tryLogin('victim@example.com', PASSWORD);
    expect(right.statusCode).toBe(429);
    // Naming the vendor checks that account alone; its own failures were the only ones counted for it.
    inst.clock.now = new Date(inst.clock.now.getTime() + 16 * 60_000);
    expect((await login('victim@example.com', PASSWORD, 'beta')).body.vendor.name).toBe('beta');
  });

  it("a password change is the signed-in account's own; the other vendor's account keeps its password", async () => {
    await createUser(inst.runtime, acme, { email: 'tia@example.com', role: 'viewer', password: PASSWORD });
    await createUser(inst.runtime, beta, { email: 'tia@example.com', role: 'viewer', password: PASSWORD });
    const s = await login('tia@example.com', PASSWORD, 'beta');
    const changed = await call('POST', '/api/v1/session/password', { session: s, payload: { current_password: PASSWORD, new_password: OTHER_PASSWORD } });
    expect(changed.statusCode, changed.body).toBe(204);
    expect((await login('tia@example.com', OTHER_PASSWORD)).body.vendor.name).toBe('beta');
    expect((await login('tia@example.com', PASSWORD)).body.vendor.name).toBe('acme');
  });

  it("audit events stay in the vendor of the account: neither sees the other's user", async () => {
    const vic = { email: 'vic@example.com', role: 'viewer', password: PASSWORD };
    const made = await call('POST', '/api/v1/users', { session: acmeOwner, payload: vic });
    const theirs = await call('POST', '/api/v1/users', { session: betaOwner, payload: vic });
    expect([made.statusCode, theirs.statusCode]).toEqual([201, 201]);
    const acmeVic: string = made.json().id;
    const betaVic: string = theirs.json().id;
    await login(vic.email, PASSWORD, 'acme');
    await login(vic.email, PASSWORD, 'beta');
    const trail = async (s: Session, id: string) =>
      (await call('GET', `/api/v1/audit?object=${id}`, { session: s })).json().items.map((e: { action: string; actor: string }) => [e.action, e.actor]).reverse();
    expect(await trail(acmeOwner, acmeVic)).toEqual([
      ['user.create', 'user:owner@acme.test'],
      ['session.create', 'user:vic@example.com'],
    ]);
    expect(await trail(betaOwner, betaVic)).toEqual([
      ['user.create', 'user:owner@beta.test'],
      ['session.create', 'user:vic@example.com'],
    ]);
    expect(await trail(acmeOwner, betaVic)).toEqual([]);
    expect(await trail(betaOwner, acmeVic)).toEqual([]);
    const all = JSON.stringify((await call('GET', '/api/v1/audit?limit=500', { session: betaOwner })).json().items);
    expect(all).not.toContain(acmeVic);
    expect(all).not.toContain('owner@acme.test');
  });

  // Last: moving the clock ends every session opened so far (a login clears ended sessions).
  it("a temporary password past its end drops out of the choice, and the other account's password still opens", async () => {
    await createUser(inst.runtime, beta, { email: 'uma@example.com', role: 'viewer', password: PASSWORD });
    const invited = await call('POST', '/api/v1/invitations', { session: acmeOwner, payload: { email: 'uma@example.com', role: 'viewer', mode: 'password' } });
    expect(invited.statusCode, invited.body).toBe(201);
    const temporary: string = invited.json().invitation.temporary_password;
    expect((await login('uma@example.com', temporary)).body).toMatchObject({ user: { must_change_password: true }, vendor: { name: 'acme' } });
    const saved = inst.clock.now;
    try {
      inst.clock.now = new Date(saved.getTime() + 8 * 86_400_000);
      expectBadLogin(await tryLogin('uma@example.com', temporary));
      expectBadLogin(await tryLogin('uma@example.com', temporary, 'acme'));
      expect((await login('uma@example.com', PASSWORD)).body.vendor.name).toBe('beta');
    } finally {
      inst.clock.now = saved;
    }
  });
});
