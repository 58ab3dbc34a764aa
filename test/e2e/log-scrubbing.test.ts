/**
 * A real `portcullis serve` at log level trace, driven over every surface
 * with credentials right and wrong, in headers, forms and query strings: no
 * log line may carry a secret, a full token, a password, a refresh token, a
 * registry JWT or an Authorization/Cookie header value, and every line of a
 * request is JSON carrying that request's id (the X-Request-Id it answered).
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, blob, imageConfig, imageManifest } from '../helpers/oci-http.js';
import { initDataDir, removeDataDir, runCliJsonAsync, startServe, type Banner, type ServeProcess } from '../helpers/cli.js';

interface Created {
  username: string;
  secret: string;
  full_token: string;
}

interface Answer {
  status: number;
  requestId: string | null;
  text: string;
  setCookie: string | null;
}

/**
 * What request handlers log: such a line without a reqId was written through
 * the root logger, cut off from its request. (Start, stop, background work and
 * Node's parse errors, which come before a request exists, have none.)
 */
const REQUEST_MESSAGES = new Set([
  'incoming request',
  'request completed',
  'request errored',
  'credentials refused',
  'token issued',
  'token refused',
  'registry access denied',
  'rate limited',
  'request failed',
  'upstream registry failure',
]);

const cfg = imageConfig('log scrubbing');
const layer = blob('log scrubbing layer');
const manifest = imageManifest({ config: cfg, layers: [layer] });

/** Every string in a parsed log line, Buffers (serialized as {type,data}) decoded to text. */
function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if (o.type === 'Buffer' && Array.isArray(o.data)) out.push(Buffer.from(o.data as number[]).toString('latin1'));
    for (const v of Object.values(o)) stringsIn(v, out);
  }
  return out;
}

describe('logs of a running instance', () => {
  let dataDir: string;
  let bootstrap: Banner;
  let serve: ServeProcess;
  let base: string;
  const tokens: Record<string, Created> = {};
  /** Everything that must never be logged, with what it is. */
  const forbidden = new Map<string, string>();
  const answers: Answer[] = [];
  let lines: string[] = [];

  const forbid = (what: string, value: string | undefined) => {
    expect(value, what).toBeTruthy();
    forbidden.set(value!, what);
  };

  async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Answer> {
    for (const name of ['authorization', 'cookie', 'proxy-authorization']) if (headers[name]) forbid(`${name} header`, headers[name]);
    const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const answer = { status: res.status, requestId: res.headers.get('x-request-id'), text: await res.text(), setCookie: res.headers.get('set-cookie') };
    answers.push(answer);
    return answer;
  }

  /** A request Node's HTTP parser refuses (a control character in a header): the raw bytes reach the error, not a route. */
  function rawMalformed(secret: string): Promise<void> {
    const url = new URL(base);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.end(`GET /v2/ HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Basic ${secret}\u0001x\r\nX-Secret: ${secret}\r\n\r\n`);
      });
      socket.on('data', () => undefined);
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
  }

  beforeAll(async () => {
    ({ dataDir, banner: bootstrap } = initDataDir());
    forbid('bootstrap secret', bootstrap.secret);
    forbid('bootstrap full token', bootstrap.token);
    writeFileSync(join(dataDir, 'portcullis.toml'), '[log]\nlevel = "trace"\n');

    await runCliJsonAsync(dataDir, 'customer', 'create', '--name', 'globex');
    await runCliJsonAsync(dataDir, 'license', 'create', '--customer', 'globex', '--repos', 'acme/app');
    const [vendor, customer] = await Promise.all([
      runCliJsonAsync<Created>(dataDir, 'token', 'create', '--type', 'vendor', '--name', 'ci', '--scopes', 'pull,push,admin:*:*'),
      runCliJsonAsync<Created>(dataDir, 'token', 'create', '--type', 'customer', '--name', 'prod', '--customer', 'globex'),
    ]);
    tokens.vendor = vendor;
    tokens.customer = customer;
    for (const [name, t] of Object.entries(tokens)) {
      forbid(`${name} secret`, t.secret);
      forbid(`${name} full token`, t.full_token);
    }

    serve = startServe(dataDir, '--port', '0');
    const listening = JSON.parse(await serve.waitForLine(/"msg":"portcullis listening"/)) as { port: number };
    base = `http://127.0.0.1:${listening.port}`;
  });

  afterAll(async () => {
    if (serve) await serve.stop();
    removeDataDir(dataDir);
  });

  it('exercises every surface with good and bad credentials, then finds none of them in any log line', async () => {
    const v = tokens.vendor!;
    const c = tokens.customer!;
    const wrong = 'Wr0ngSecretWr0ngSecretWr0ngSecr1';
    forbid('wrong password', wrong);
    const vendorBasic = basic(v.username, v.secret);
    const customerBasic = basic(c.username, c.secret);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    // /token, GET with Basic: right (offline, for a refresh token), wrong, full token as password.
    const login = await call('GET', `/token?service=portcullis&offline_token=true&client_id=docker&scope=repository:acme/app:pull,push`, { authorization: vendorBasic });
    expect(login.status, login.text).toBe(200);
    const { token: vendorJwt, refresh_token: refresh } = JSON.parse(login.text) as { token: string; refresh_token: string };
    forbid('vendor JWT', vendorJwt);
    forbid('vendor JWT signature', vendorJwt.split('.')[2]);
    forbid('refresh token', refresh);
    expect((await call('GET', '/token?service=portcullis', { authorization: basic(v.username, wrong) })).status).toBe(401);
    const pullToken = await call('GET', '/token?service=portcullis&scope=repository:acme/app:pull', { authorization: basic('token', c.full_token) });
    expect(pullToken.status, pullToken.text).toBe(200);
    const customerJwt = (JSON.parse(pullToken.text) as { token: string }).token;
    forbid('customer JWT', customerJwt);

    // /token, the OAuth2 form: password and refresh_token grants, right and wrong.
    const formBody = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    expect((await call('POST', '/token', form, formBody({ grant_type: 'password', client_id: 'docker', username: v.username, password: v.secret, service: 'portcullis', access_type: 'offline' }))).status).toBe(200);
    expect((await call('POST', '/token', form, formBody({ grant_type: 'password', client_id: 'docker', username: v.username, password: wrong }))).status).toBe(401);
    expect((await call('POST', '/token', form, formBody({ grant_type: 'refresh_token', client_id: 'docker', refresh_token: refresh, scope: 'repository:acme/app:pull' }))).status).toBe(200);
    const badRefresh = `${refresh.slice(0, -4)}AAAA`;
    forbid('altered refresh token', badRefresh);
    expect((await call('POST', '/token', form, formBody({ grant_type: 'refresh_token', client_id: 'docker', refresh_token: badRefresh }))).status).toBe(401);
    expect((await call('POST', '/token', form, formBody({ grant_type: 'password', client_id: 'docker', username: v.username }))).status).toBe(400);

    // /v2 with Basic: push an image as the vendor, pull it as the customer.
    let res = await call('POST', `/v2/acme/app/blobs/uploads/?digest=${cfg.digest}`, { authorization: vendorBasic, 'content-type': 'application/octet-stream' }, cfg.bytes);
    expect(res.status, res.text).toBe(201);
    res = await call('POST', `/v2/acme/app/blobs/uploads/?digest=${layer.digest}`, { authorization: vendorBasic, 'content-type': 'application/octet-stream' }, layer.bytes);
    expect(res.status, res.text).toBe(201);
    res = await call('PUT', '/v2/acme/app/manifests/1.0', { authorization: vendorBasic, 'content-type': manifest.mediaType }, manifest.bytes);
    expect(res.status, res.text).toBe(201);
    expect((await call('GET', '/v2/acme/app/manifests/1.0', { authorization: customerBasic, accept: manifest.mediaType })).status).toBe(200);
    expect((await call('GET', '/v2/', { authorization: basic('anything', c.full_token) })).status).toBe(200);
    expect((await call('GET', '/v2/', { authorization: basic(c.username, wrong) })).status).toBe(401);

    // /v2 with the JWTs (Bearer), good and tampered.
    expect((await call('GET', `/v2/acme/app/blobs/${layer.digest}`, { authorization: `Bearer ${customerJwt}` })).status).toBe(200);
    expect((await call('GET', '/v2/acme/app/tags/list', { authorization: `Bearer ${vendorJwt}` })).status).toBe(200);
    const tampered = `${customerJwt.slice(0, -6)}AAAAAA`;
    forbid('tampered JWT', tampered);
    expect((await call('GET', '/v2/acme/app/tags/list', { authorization: `Bearer ${tampered}` })).status).toBe(401);

    // Malformed Authorization headers, a cookie, and secrets where they do not belong: the query string.
    for (const header of [`Basic ${c.secret}`, `Bearer ${c.full_token} extra`, c.full_token, `Digest username="${c.username}", response="${c.secret}"`]) {
      expect((await call('GET', '/v2/', { authorization: header })).status).toBe(401);
    }
    // Probes (/healthz, /readyz, /metrics) log nothing below warn: the JWKS stands in for an ordinary unauthenticated route.
    expect((await call('GET', '/.well-known/jwks.json', { cookie: `session=${v.secret}` })).status).toBe(200);
    expect((await call('GET', `/v2/?password=${encodeURIComponent(c.secret)}&user=${c.username}`)).status).toBe(401);
    expect((await call('GET', `/token?service=portcullis&password=${c.secret}&refresh_token=${encodeURIComponent(refresh)}`)).status).toBe(401);
    expect((await call('GET', `/.well-known/jwks.json?${encodeURIComponent(c.full_token)}`)).status).toBe(200);
    const misplaced = await call('GET', `/api/v1/explain?token=${encodeURIComponent(v.full_token)}&scope=repository:acme/app:pull`, { authorization: `Bearer ${v.full_token}` });
    expect(misplaced.status, misplaced.text).toBeGreaterThanOrEqual(400);
    expect(misplaced.status, misplaced.text).toBeLessThan(500);
    expect((await call('GET', `/no/such/page?secret=${v.secret}`)).status).toBe(404);
    await rawMalformed(c.secret);

    // The admin API: explain, with the full token as Bearer and as Basic, right and wrong.
    const explainPath = `/api/v1/explain?token=${c.username}&scope=${encodeURIComponent('repository:acme/app:pull')}`;
    expect((await call('GET', explainPath, { authorization: `Bearer ${v.full_token}` })).status).toBe(200);
    expect((await call('GET', explainPath, { authorization: vendorBasic })).status).toBe(200);
    expect((await call('GET', explainPath, { authorization: `Bearer ${v.username}.${wrong}` })).status).toBe(401);
    expect((await call('GET', explainPath, { authorization: customerBasic })).status).toBe(403);

    // Every other admin route the OpenAPI document lists that takes no path parameter, read with the vendor token.
    const openapi = await call('GET', '/api/v1/openapi.json');
    expect(openapi.status).toBe(200);
    const paths = Object.entries((JSON.parse(openapi.text) as { paths: Record<string, Record<string, unknown>> }).paths);
    const listed = paths.filter(([path, ops]) => !path.includes('{') && 'get' in ops && path !== '/api/v1/explain').map(([path]) => path);
    expect(listed.length).toBeGreaterThan(0);
    for (const path of listed) {
      const r = await call('GET', path, { authorization: `Bearer ${v.full_token}` });
      expect(r.status, `${path}: ${r.text}`).toBeLessThan(500);
    }

    // Creating a token through the API: its answer carries a new secret, which must not reach the log either.
    const created = await call('POST', '/api/v1/tokens', { authorization: `Bearer ${v.full_token}`, 'content-type': 'application/json' }, JSON.stringify({ type: 'customer', name: 'via-api', customer: 'globex' }));
    expect(created.status, created.text).toBe(201);
    const fresh = JSON.parse(created.text) as Created;
    forbid('secret created through the API', fresh.secret);
    forbid('full token created through the API', fresh.full_token);
    expect((await call('GET', '/v2/', { authorization: basic(fresh.username, fresh.secret) })).status).toBe(200);
    expect((await call('POST', '/api/v1/tokens', { authorization: basic(v.username, wrong), 'content-type': 'application/json' }, JSON.stringify({ type: 'vendor', name: 'nope' }))).status).toBe(401);

    // The dashboard: a user made through the API, logins right and wrong (a session cookie and its CSRF token),
    // a password change, invitations by link (the token in the lookup's path) and by temporary password, logout.
    const asAdmin = { authorization: `Bearer ${v.full_token}`, 'content-type': 'application/json' };
    const jsonType = { 'content-type': 'application/json' };
    const [ownerPassword, newPassword, invitedPassword] = ['log scrubbing passphrase one', 'log scrubbing passphrase two', 'log scrubbing passphrase three'];
    for (const [what, value] of [['user password', ownerPassword], ['changed user password', newPassword], ['invited user password', invitedPassword]]) forbid(what!, value);
    expect((await call('POST', '/api/v1/users', asAdmin, JSON.stringify({ email: 'ann@example.com', role: 'owner', password: ownerPassword }))).status).toBe(201);
    expect((await call('POST', '/api/v1/session', jsonType, JSON.stringify({ email: 'ann@example.com', password: wrong }))).status).toBe(401);
    const signIn = async (email: string, password: string) => {
      const answer = await call('POST', '/api/v1/session', jsonType, JSON.stringify({ email, password }));
      expect(answer.status, answer.text).toBe(200);
      const session = /portcullis_session=([^;]+)/.exec(answer.setCookie ?? '')![1]!;
      const csrf = (JSON.parse(answer.text) as { csrf_token: string }).csrf_token;
      forbid(`session cookie of ${email}`, session);
      forbid(`CSRF token of ${email}`, csrf);
      return { cookie: `portcullis_session=${session}`, 'x-csrf-token': csrf };
    };
    const ann = await signIn('ann@example.com', ownerPassword);
    expect((await call('GET', '/api/v1/customers', { cookie: ann.cookie })).status).toBe(200);
    expect((await call('POST', '/api/v1/customers', { cookie: ann.cookie, ...jsonType }, JSON.stringify({ name: 'no-csrf' }))).status).toBe(403);
    const changed = await call('POST', '/api/v1/session/password', { ...ann, ...jsonType }, JSON.stringify({ current_password: ownerPassword, new_password: newPassword }));
    expect(changed.status, changed.text).toBe(204);
    const invited = await call('POST', '/api/v1/invitations', { ...ann, ...jsonType }, JSON.stringify({ email: 'bob@example.com', role: 'viewer' }));
    expect(invited.status, invited.text).toBe(201);
    const invitationToken = /#token=(.+)$/.exec((JSON.parse(invited.text) as { invitation: { url: string } }).invitation.url)![1]!;
    forbid('invitation token', invitationToken);
    expect((await call('GET', `/api/v1/invitations/${invitationToken}`)).status).toBe(200);
    expect((await call('GET', `/api/v1/invitations/${invitationToken.slice(0, -4)}AAAA`)).status).toBe(404);
    expect((await call('POST', '/api/v1/invitations/accept', jsonType, JSON.stringify({ token: invitationToken, password: invitedPassword }))).status).toBe(204);
    const bob = await signIn('bob@example.com', invitedPassword);
    const temporary = await call('POST', '/api/v1/invitations', { ...ann, ...jsonType }, JSON.stringify({ email: 'cid@example.com', role: 'viewer', mode: 'password' }));
    forbid('temporary password', (JSON.parse(temporary.text) as { invitation: { temporary_password: string } }).invitation.temporary_password);
    expect((await call('DELETE', '/api/v1/session', bob)).status).toBe(204);
    expect((await call('GET', '/api/v1/session', { cookie: bob.cookie })).status).toBe(401);

    const ended = await serve.stop();
    expect(ended.code).toBe(0);
    lines = `${serve.stdout()}\n${serve.stderr()}`.split('\n').filter((l) => l.trim() !== '');

    // The logs say what happened, so the absence of secrets means something.
    const text = lines.join('\n');
    for (const msg of ['token issued', 'token refused', 'credentials refused', 'incoming request', 'request completed', 'client error']) expect(text).toContain(msg);

    for (const line of lines) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`log line is not JSON: ${line}`);
      }
      const strings = [line, ...stringsIn(parsed)];
      for (const [value, what] of forbidden) {
        expect(strings.some((s) => s.includes(value)), `${what} in log line: ${line}`).toBe(false);
      }
      // Whatever comes of a request names it.
      if (parsed.reqId === undefined) {
        const tied = REQUEST_MESSAGES.has(String(parsed.msg)) || 'req' in parsed || 'res' in parsed || 'responseTime' in parsed;
        expect(tied, `request log line without reqId: ${line}`).toBe(false);
      }
    }

    // Each answer's X-Request-Id is the reqId of its own log lines.
    const byId = new Map<string, string[]>();
    for (const line of lines) {
      const parsed = JSON.parse(line) as { reqId?: string; msg?: string };
      if (parsed.reqId !== undefined) byId.set(parsed.reqId, [...(byId.get(parsed.reqId) ?? []), String(parsed.msg)]);
    }
    for (const answer of answers) {
      expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(byId.get(answer.requestId!), `log of request ${answer.requestId}`).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    }
    // The query string is logged without the values that could be secrets.
    expect(text).toContain('password=[redacted]');
  });
});
