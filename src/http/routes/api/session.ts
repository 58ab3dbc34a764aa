import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { presentSession } from '../../../present.js';
import type { Runtime } from '../../../runtime.js';
import { changePassword, csrfTokenOf, login, loginAccountKey, sessionLifetimeMs, logout } from '../../../service/sessions.js';
import type { Caller } from '../../../service/context.js';
import { countingFailures, noteFailedAccountLogin, refuseAccountLockedOut, refuseLockedOut } from '../../rate-limit.js';
import { clearedSessionCookie, cookieIsSecure, sessionCookie } from '../../session-cookie.js';
import { openRoute } from './route.js';
import { NoContent, SessionBody } from './schemas.js';

const LoginBody = Type.Object(
  {
    email: Type.String({ maxLength: 320 }),
    password: Type.String({ maxLength: 4096 }),
    vendor: Type.Optional(
      Type.String({ maxLength: 100, description: 'The vendor\'s name: needed only when the address and password open accounts in several vendors (the answer is then 409 with field vendor)' }),
    ),
  },
  { additionalProperties: false },
);

const PasswordBody = Type.Object(
  {
    current_password: Type.String({ maxLength: 4096 }),
    new_password: Type.String({ maxLength: 4096, description: '10 to 1024 characters, not the e-mail address' }),
  },
  { additionalProperties: false },
);


/** Set by requireSession on every route below but the login. */
function signedInOf(request: FastifyRequest): NonNullable<FastifyRequest['signedIn']> & { caller: Caller } {
  return { ...request.signedIn!, caller: request.caller! };
}

/**
 * Dashboard logins: a session cookie for an e-mail and password, who is
 * signed in, logout and password change. Refused logins all get the same
 * answer, and are throttled per client address and per e-mail address.
 */
export function registerSessionApi(app: FastifyInstance, runtime: Runtime): void {
  const tag = 'session';
  openRoute(
    app,
    runtime,
    {
      method: 'POST',
      url: '/api/v1/session',
      auth: 'none',
      tag,
      summary: 'Log in to the dashboard: sets the session cookie',
      description:
        'No credentials needed. A wrong e-mail, a wrong password, an unknown vendor, an invited or a disabled user all get the same 401. An address may have accounts in several vendors: when the password opens more than one and no vendor is named, 409 with field vendor. Too many failures from one address, or naming one e-mail address, get 429 with Retry-After.',
      body: LoginBody,
      response: { 200: SessionBody },
    },
    async (request, reply) => {
      const b = request.body as Static<typeof LoginBody>;
      await refuseLockedOut(runtime, request, reply, 'api');
      const account = loginAccountKey(b.email);
      await refuseAccountLockedOut(runtime, request, reply, account);
      const grant = await countingFailures(
        () => login(runtime, { email: b.email, password: b.password, vendor: b.vendor, source: request.ip }),
        (err) => err.code === 'unauthenticated',
        async () => {
          request.log.info({ reason: 'password' }, 'credentials refused');
          await noteFailedAccountLogin(runtime, request, account);
        },
      );
      // A password that opened this account but not the address's account in another vendor was a guess at that one.
      if (grant.missed > 0) await noteFailedAccountLogin(runtime, request, account);
      reply
        .header('set-cookie', sessionCookie(grant.secret, sessionLifetimeMs(runtime) / 1000, cookieIsSecure(request, runtime.config)))
        .header('cache-control', 'no-store');
      return presentSession(grant, csrfTokenOf(runtime, grant.secret));
    },
  );
  openRoute(
    app,
    runtime,
    {
      method: 'GET',
      url: '/api/v1/session',
      auth: 'session',
      tag,
      summary: 'Who is signed in, and the CSRF token of the session',
      description: 'Needs the session cookie; 401 without a live one.',
      response: { 200: SessionBody },
    },
    async (request, reply) => {
      const { secret, ...signedIn } = signedInOf(request);
      reply.header('cache-control', 'no-store');
      return presentSession(signedIn, csrfTokenOf(runtime, secret));
    },
  );
  openRoute(
    app,
    runtime,
    {
      method: 'DELETE',
      url: '/api/v1/session',
      auth: 'session',
      tag,
      summary: 'Log out: ends the session and clears its cookie',
      description: 'Needs the session cookie and X-CSRF-Token.',
      response: { 204: NoContent },
    },
    async (request, reply) => {
      const { caller, ...signedIn } = signedInOf(request);
      await logout(runtime, caller, signedIn);
      reply.code(204).header('set-cookie', clearedSessionCookie(cookieIsSecure(request, runtime.config)));
    },
  );
  openRoute(
    app,
    runtime,
    {
      method: 'POST',
      url: '/api/v1/session/password',
      auth: 'session',
      tag,
      summary: 'Change the signed-in user\'s password; ends its other sessions',
      description: 'Needs the session cookie and X-CSRF-Token. A wrong current_password is 403 and counts as a failed login.',
      body: PasswordBody,
      response: { 204: NoContent },
    },
    async (request, reply) => {
      const b = request.body as Static<typeof PasswordBody>;
      const { caller, ...signedIn } = signedInOf(request);
      const account = signedIn.user.email;
      await refuseAccountLockedOut(runtime, request, reply, account);
      await countingFailures(
        () => changePassword(runtime, caller, signedIn, { currentPassword: b.current_password, newPassword: b.new_password }),
        (err) => err.field === 'current_password',
        () => noteFailedAccountLogin(runtime, request, account),
      );
      reply.code(204);
    },
  );
}
