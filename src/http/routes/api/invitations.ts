import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PortcullisError } from '../../../core/errors.js';
import { createMailer } from '../../../notify/mailer.js';
import { presentUser } from '../../../present.js';
import type { Runtime } from '../../../runtime.js';
import { acceptInvitation, inviteUser, lookupInvitation } from '../../../service/users.js';
import { countingFailures, noteFailedLogin, refuseLockedOut } from '../../rate-limit.js';
import { publicBase } from '../v2.js';
import { adminRoute, openRoute } from './route.js';
import { InvitationInfoBody, InvitedBody, NoContent } from './schemas.js';

const InviteBody = Type.Object(
  {
    email: Type.String({ maxLength: 320 }),
    role: Type.String({ description: 'owner, admin or viewer' }),
    mode: Type.Optional(Type.String({ description: 'link (default): an e-mailed or handed-over link; password: a temporary password, changed at first login' })),
    vendor: Type.Optional(Type.String({ maxLength: 200, description: 'another vendor (id or name) to invite to: the operator vendor only' })),
  },
  { additionalProperties: false },
);

const TokenRef = Type.Object({ token: Type.String({ maxLength: 200, description: 'the token of the invitation link (after #token=)' }) });

const AcceptBody = Type.Object(
  {
    token: Type.String({ maxLength: 200 }),
    password: Type.String({ maxLength: 4096, description: '10 to 1024 characters, not the e-mail address' }),
  },
  { additionalProperties: false },
);

/** Unknown, used and expired invitations all answer not_found: each is a wrong guess of a token. */
const wrongInvitation = (err: PortcullisError) => err.code === 'not_found';

/**
 * Invitations: made with admin:users:write; looked up and accepted by the
 * holder of the link, who has no other credential. A wrong link counts as a
 * failed login of the client's address, like a wrong password.
 */
export function registerInvitationApi(app: FastifyInstance, runtime: Runtime): void {
  const tag = 'invitations';
  const mailer = createMailer(runtime.config.smtp, runtime.smtpPassword);
  const base = publicBase(runtime.config, () => {
    const address = app.server.address();
    return typeof address === 'object' && address !== null ? address.port : undefined;
  });
  adminRoute(
    app,
    runtime,
    {
      method: 'POST',
      url: '/api/v1/invitations',
      operation: 'users.write',
      tag,
      summary: 'Invite a user by link (e-mailed when SMTP is configured, else answered) or with a temporary password',
      body: InviteBody,
      response: { 201: InvitedBody },
    },
    async (request, reply) => {
      const b = request.body as Static<typeof InviteBody>;
      const invited = await inviteUser(
        runtime,
        request.caller,
        { email: b.email, role: b.role, mode: b.mode, vendor: b.vendor },
        { baseUrl: base.url(), mailer, onMailError: (message) => request.log.warn(message) },
      );
      reply.code(201).header('cache-control', 'no-store');
      return {
        user: presentUser(invited.user),
        invitation: {
          expires_at: invited.expiresAt.toISOString(),
          emailed: invited.emailed,
          url: invited.url,
          temporary_password: invited.temporaryPassword,
        },
      };
    },
  );
  openRoute(
    app,
    runtime,
    {
      method: 'GET',
      url: '/api/v1/invitations/:token',
      auth: 'none',
      tag,
      summary: 'What an invitation link is for, before its password is chosen',
      description: 'No credentials needed: the token is the credential. Unknown, used and expired invitations are all 404.',
      params: TokenRef,
      response: { 200: InvitationInfoBody },
    },
    async (request, reply) => {
      await refuseLockedOut(runtime, request, reply, 'api');
      const found = await countingFailures(() => lookupInvitation(runtime, (request.params as Static<typeof TokenRef>).token), wrongInvitation, () => noteFailedLogin(runtime, request));
      reply.header('cache-control', 'no-store');
      return { email: found.email, vendor: found.vendor, expires_at: found.expiresAt.toISOString() };
    },
  );
  openRoute(
    app,
    runtime,
    {
      method: 'POST',
      url: '/api/v1/invitations/accept',
      auth: 'none',
      tag,
      summary: 'Accept an invitation: set the password; the link then stops working',
      description: 'No credentials needed: the token is the credential. Unknown, used and expired invitations are all 404; a password against the rule is 400 naming `password`.',
      body: AcceptBody,
      response: { 204: NoContent },
    },
    async (request, reply) => {
      const b = request.body as Static<typeof AcceptBody>;
      await refuseLockedOut(runtime, request, reply, 'api');
      await countingFailures(() => acceptInvitation(runtime, { token: b.token, password: b.password, source: request.ip }), wrongInvitation, () => noteFailedLogin(runtime, request));
      reply.code(204);
    },
  );
}
