import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const auth = (t: CreatedToken) => basic(t.token.id, t.secret);
const MINUTE = 60_000;

type Surface = 'v2' | 'token' | 'api';
const SURFACES: Surface[] = ['v2', 'token', 'api'];

/** One request on a surface, with Basic credentials (the admin API takes them too). */
function request(app: FastifyInstance, surface: Surface, authorization: string | undefined, remoteAddress = '127.0.0.1', explainToken = 'vtok_0000000000000000') {
  const headers = authorization === undefined ? {} : { authorization };
  const url = {
    v2: '/v2/',
    token: '/token?service=portcullis&scope=repository:acme/app:pull',
    api: `/api/v1/explain?token=${explainToken}&scope=repository:acme/app:pull`,
  }[surface];
  return app.inject({ method: 'GET', url, headers, remoteAddress });
}

function rateHeaders(res: LightMyRequestResponse) {
  return { limit: res.headers['x-ratelimit-limit'], remaining: res.headers['x-ratelimit-remaining'], reset: res.headers['x-ratelimit-reset'] };
}

/** The error in each surface's own format. */
function errorCode(surface: Surface, res: LightMyRequestResponse): string {
  const body = res.json();
  return surface === 'v2' ? body.errors[0].code : body.code;
}

/** Scraped with the bootstrap token (admin:*:*), from an address no test locks out. */
async function metricValue(app: FastifyInstance, scraper: CreatedToken, surface: Surface, kind: 'token' | 'lockout'): Promise<number> {
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: auth(scraper) }, remoteAddress: '192.0.2.200' });
  expect(res.statusCode).toBe(200);
  const text = res.body;
  const m = new RegExp(`^portcullis_rate_limited_total\\{surface="${surface}",kind="${kind}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('per-token rate limits', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  const start = new Date('2026-11-24T12:00:00Z');
  const vendorToken = (name: string, rateLimit?: number) =>
    createToken(inst.runtime, inst.caller, { type: 'vendor', name, scopes: 'pull,push,admin:licenses:read', ...(rateLimit === undefined ? {} : { rateLimit }) });

  beforeAll(async () => {
    inst = await startInstance(start);
    app = await buildApp(inst.runtime);
  });

  afterAll(async () => {
    await app.close();
    await inst.cleanup();
  });

  describe.each(SURFACES)('on %s, a token with the default 1000 per hour', (surface) => {
    it('counts Remaining down from 999 to 0, then answers the 1001st request 429 with Retry-After', async () => {
      inst.clock.now = start;
      const t = await vendorToken(`default-${surface}`);
      for (let i = 0; i < 1000; i++) {
        const res = await request(app, surface, auth(t), undefined, t.token.id);
        expect(res.statusCode, `request ${i + 1}`).toBe(200);
        expect(rateHeaders(res), `request ${i + 1}`).toEqual({ limit: '1000', remaining: String(999 - i), reset: '3600' });
      }
      const over = await request(app, surface, auth(t), undefined, t.token.id);
      expect(over.statusCode).toBe(429);
      expect(over.headers['retry-after']).toBe('3600');
      expect(rateHeaders(over)).toEqual({ limit: '1000', remaining: '0', reset: '3600' });
      expect(errorCode(surface, over)).toBe(surface === 'v2' ? 'TOOMANYREQUESTS' : 'rate_limited');
    });
  });

  it('answers 429 in each surface’s own error format', async () => {
    inst.clock.now = start;
    const t = await vendorToken('formats', 1);
    const first = await request(app, 'v2', auth(t));
    expect(first.statusCode).toBe(200);

    const v2 = await request(app, 'v2', auth(t));
    expect(v2.statusCode).toBe(429);
    expect(v2.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(v2.json()).toEqual({ errors: [{ code: 'TOOMANYREQUESTS', message: 'rate limit of 1 requests per hour reached: try again in 3600 seconds', detail: null }] });

    const token = await request(app, 'token', auth(t));
    expect(token.statusCode).toBe(429);
    expect(token.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(token.headers['cache-control']).toBe('no-store');
    expect(token.headers['www-authenticate']).toBeUndefined();
    expect(token.json()).toMatchObject({ status: 429, code: 'rate_limited', title: 'Too many requests', error: 'temporarily_unavailable' });

    const api = await request(app, 'api', auth(t), undefined, t.token.id);
    expect(api.statusCode).toBe(429);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(api.json()).toMatchObject({ status: 429, code: 'rate_limited', type: 'https://portcullis.dev/problems/rate-limited' });
    for (const res of [v2, token, api]) expect(res.headers['retry-after']).toBe('3600');
  });

  it('applies a per-token limit, one budget shared by /v2, /token and /api', async () => {
    inst.clock.now = start;
    const t = await vendorToken('small', 3);
    const answers = [];
    for (const surface of SURFACES) answers.push(await request(app, surface, auth(t), undefined, t.token.id));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(answers.map((r) => rateHeaders(r).remaining)).toEqual(['2', '1', '0']);
    expect(answers.map((r) => rateHeaders(r).limit)).toEqual(['3', '3', '3']);
    for (const surface of SURFACES) expect((await request(app, surface, auth(t), undefined, t.token.id)).statusCode).toBe(429);
  });

  it('resets the window an hour after its first request, with Reset and Retry-After counting down', async () => {
    inst.clock.now = start;
    const t = await vendorToken('reset', 2);
    expect(rateHeaders(await request(app, 'v2', auth(t)))).toEqual({ limit: '2', remaining: '1', reset: '3600' });
    inst.clock.now = new Date(start.getTime() + 20 * MINUTE);
    expect(rateHeaders(await request(app, 'v2', auth(t)))).toEqual({ limit: '2', remaining: '0', reset: '2400' });
    inst.clock.now = new Date(start.getTime() + 30 * MINUTE + 500);
    const over = await request(app, 'v2', auth(t));
    expect(over.statusCode).toBe(429);
    expect(over.headers['retry-after']).toBe('1800');
    expect(rateHeaders(over).reset).toBe('1800');

    inst.clock.now = new Date(start.getTime() + 60 * MINUTE - 1);
    expect((await request(app, 'v2', auth(t))).statusCode).toBe(429);
    inst.clock.now = new Date(start.getTime() + 60 * MINUTE);
    const again = await request(app, 'v2', auth(t));
    expect(again.statusCode).toBe(200);
    expect(rateHeaders(again)).toEqual({ limit: '2', remaining: '1', reset: '3600' });
  });

  it('counts /v2 requests made with a registry JWT against the token it names', async () => {
    inst.clock.now = start;
    const t = await vendorToken('jwt', 3);
    const issued = await request(app, 'token', auth(t));
    expect(rateHeaders(issued).remaining).toBe('2');
    const bearer = `Bearer ${issued.json().token}`;
    expect(rateHeaders(await request(app, 'v2', bearer))).toMatchObject({ remaining: '1' });
    expect(rateHeaders(await request(app, 'v2', bearer))).toMatchObject({ remaining: '0' });
    expect((await request(app, 'v2', bearer)).statusCode).toBe(429);
  });

  it('does not count refused credentials: a stranger cannot spend a token’s budget by naming it', async () => {
    inst.clock.now = start;
    const victim = await vendorToken('victim', 2);
    const wrong = basic(victim.token.id, 'A'.repeat(32));
    // From many addresses, so the brute-force lockout does not stop the stranger first.
    for (let i = 0; i < 10; i++) {
      for (const surface of SURFACES) {
        const res = await request(app, surface, wrong, `198.51.100.${i + 1}`, victim.token.id);
        expect(res.statusCode).toBe(401);
        expect(rateHeaders(res)).toEqual({ limit: undefined, remaining: undefined, reset: undefined });
      }
    }
    expect(rateHeaders(await request(app, 'v2', auth(victim)))).toEqual({ limit: '2', remaining: '1', reset: '3600' });
  });

  it('puts the headers on authenticated answers that are errors too', async () => {
    inst.clock.now = start;
    const pullOnly = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: 'pull-only', scopes: 'pull', rateLimit: 5 });
    const denied = await request(app, 'api', auth(pullOnly), undefined, pullOnly.token.id);
    expect(denied.statusCode).toBe(403);
    expect(rateHeaders(denied)).toEqual({ limit: '5', remaining: '4', reset: '3600' });
    const unknown = await app.inject({ method: 'GET', url: '/v2/acme/nothing/manifests/1.0', headers: { authorization: auth(pullOnly) } });
    expect(unknown.statusCode).toBe(404);
    expect(rateHeaders(unknown)).toEqual({ limit: '5', remaining: '3', reset: '3600' });
  });

  it('counts 429s in portcullis_rate_limited_total by surface and kind', async () => {
    inst.clock.now = start;
    const t = await vendorToken('metric', 1);
    const before = await Promise.all(SURFACES.map((s) => metricValue(app, inst.bootstrap, s, 'token')));
    await request(app, 'v2', auth(t));
    await request(app, 'v2', auth(t));
    await request(app, 'v2', auth(t));
    await request(app, 'token', auth(t));
    const after = await Promise.all(SURFACES.map((s) => metricValue(app, inst.bootstrap, s, 'token')));
    expect(after.map((v, i) => v - before[i]!)).toEqual([2, 1, 0]);
  });
});

describe('failed-login lockout per address', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let good: CreatedToken;
  const start = new Date('2026-11-24T12:00:00Z');
  const at = (ms: number) => new Date(start.getTime() + ms);
  const unknownUser = basic('vtok_zzzzzzzzzzzzzzzz', 'A'.repeat(32));
  const wrongSecret = () => basic(good.token.id, 'B'.repeat(32));
  let address = 0;
  /** A fresh address per test, so tests do not lock each other out. */
  const nextAddress = () => `203.0.113.${++address}`;

  beforeAll(async () => {
    inst = await startInstance(start, {
      PORTCULLIS_AUTH_MAX_FAILED_LOGINS: '5',
      PORTCULLIS_AUTH_FAILED_LOGIN_WINDOW: '15m',
      PORTCULLIS_AUTH_LOCKOUT_DURATION: '10m',
    });
    app = await buildApp(inst.runtime);
    good = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: 'good', scopes: 'pull,push,admin:licenses:read' });
  });

  afterAll(async () => {
    await app.close();
    await inst.cleanup();
  });

  async function failFrom(ip: string, times: number, surface: Surface = 'v2'): Promise<void> {
    for (let i = 0; i < times; i++) expect((await request(app, surface, wrongSecret(), ip, good.token.id)).statusCode).toBe(401);
  }

  /** What a client can see of an answer; the date and request id differ on every answer anyway. */
  function visible(res: LightMyRequestResponse) {
    const { date: _date, 'x-request-id': _id, ...headers } = res.headers;
    return { status: res.statusCode, headers, body: res.body };
  }

  it.each(SURFACES)('locks an address out after 5 failures on %s; while locked every credential gets the same 429', async (surface) => {
    inst.clock.now = start;
    const ip = nextAddress();
    await failFrom(ip, 5, surface);
    const answers = await Promise.all(
      [auth(good), wrongSecret(), unknownUser, basic('nobody', 'x'), undefined].map((authorization) => request(app, surface, authorization, ip, good.token.id)),
    );
    const [correct, ...others] = answers.map(visible);
    expect(correct!.status).toBe(429);
    expect(correct!.headers['retry-after']).toBe('600');
    expect(correct!.headers['x-ratelimit-remaining']).toBeUndefined();
    expect(correct!.headers['www-authenticate']).toBeUndefined();
    expect(errorCode(surface, answers[0]!)).toBe(surface === 'v2' ? 'TOOMANYREQUESTS' : 'rate_limited');
    expect(correct!.body).toMatch(/too many failed logins from this address: try again in 600 seconds/);
    for (const other of others) expect(other).toEqual(correct);
  });

  it('counts failures across /v2, /token and /api together', async () => {
    inst.clock.now = start;
    const ip = nextAddress();
    await failFrom(ip, 2, 'v2');
    await failFrom(ip, 2, 'token');
    await failFrom(ip, 1, 'api');
    expect((await request(app, 'token', auth(good), ip)).statusCode).toBe(429);
  });

  it('leaves other addresses alone, and the 5th failure itself is still an ordinary 401', async () => {
    inst.clock.now = start;
    const ip = nextAddress();
    await failFrom(ip, 4);
    expect((await request(app, 'v2', auth(good), ip)).statusCode).toBe(200);
    await failFrom(ip, 1);
    expect((await request(app, 'v2', auth(good), ip)).statusCode).toBe(429);
    for (const surface of SURFACES) expect((await request(app, surface, auth(good), nextAddress(), good.token.id)).statusCode).toBe(200);
  });

  it('ends after lockout_duration; failures still inside their window lock again at the next one', async () => {
    inst.clock.now = at(0);
    const ip = nextAddress();
    await failFrom(ip, 5);
    inst.clock.now = at(4 * MINUTE);
    const locked = await request(app, 'v2', auth(good), ip);
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBe('360');
    inst.clock.now = at(10 * MINUTE - 1);
    expect((await request(app, 'v2', auth(good), ip)).statusCode).toBe(429);
    inst.clock.now = at(10 * MINUTE);
    expect((await request(app, 'v2', auth(good), ip)).statusCode).toBe(200);
    // The 5 failures counted at 12:00 stay in their 15-minute window: one more is too many.
    await failFrom(ip, 1);
    expect((await request(app, 'v2', auth(good), ip)).statusCode).toBe(429);
  });

  it('forgets failures once their window has ended', async () => {
    inst.clock.now = at(0);
    const ip = nextAddress();
    await failFrom(ip, 4);
    inst.clock.now = at(15 * MINUTE);
    await failFrom(ip, 4);
    expect((await request(app, 'v2', auth(good), ip)).statusCode).toBe(200);
  });

  it('counts an IPv6 /64 as one address', async () => {
    inst.clock.now = start;
    for (let i = 1; i <= 5; i++) await failFrom(`2001:db8:5:6::${i}`, 1);
    expect((await request(app, 'v2', auth(good), '2001:db8:5:6:ffff::99')).statusCode).toBe(429);
    expect((await request(app, 'v2', auth(good), '2001:db8:5:7::1')).statusCode).toBe(200);
  });

  it('does not count bad registry JWTs or refresh tokens, which cannot be guessed and expire as a matter of course', async () => {
    inst.clock.now = start;
    const ip = nextAddress();
    for (let i = 0; i < 10; i++) {
      expect((await app.inject({ method: 'GET', url: '/v2/', headers: { authorization: 'Bearer not.a.jwt' }, remoteAddress: ip })).statusCode).toBe(401);
      const refresh = await app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=refresh_token&client_id=docker&refresh_token=forged',
        remoteAddress: ip,
      });
      expect(refresh.statusCode).toBe(401);
    }
    expect((await request(app, 'v2', auth(good), ip)).statusCode).toBe(200);
  });

  it('counts failed OAuth2 password grants', async () => {
    inst.clock.now = start;
    const ip = nextAddress();
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=password&client_id=docker&username=${good.token.id}&password=${'C'.repeat(32)}`,
        remoteAddress: ip,
      });
      expect(res.statusCode).toBe(401);
    }
    expect((await request(app, 'token', auth(good), ip)).statusCode).toBe(429);
  });

  it('counts lockout answers in portcullis_rate_limited_total', async () => {
    inst.clock.now = start;
    const ip = nextAddress();
    await failFrom(ip, 5, 'api');
    const before = await metricValue(app, inst.bootstrap, 'api', 'lockout');
    await request(app, 'api', auth(good), ip, good.token.id);
    await request(app, 'api', unknownUser, ip, good.token.id);
    expect((await metricValue(app, inst.bootstrap, 'api', 'lockout')) - before).toBe(2);
  });
});

describe('failed-login lockout turned off', () => {
  it('max_failed_logins = 0 never locks an address out', async () => {
    const inst = await startInstance(undefined, { PORTCULLIS_AUTH_MAX_FAILED_LOGINS: '0' });
    const app = await buildApp(inst.runtime);
    try {
      const t = await createToken(inst.runtime, inst.caller, { type: 'vendor', name: 'ci' });
      for (let i = 0; i < 30; i++) expect((await request(app, 'v2', basic(t.token.id, 'D'.repeat(32)))).statusCode).toBe(401);
      expect((await request(app, 'v2', auth(t))).statusCode).toBe(200);
    } finally {
      await app.close();
      await inst.cleanup();
    }
  });
});
