import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { presentUser } from '../../../present.js';
import type { Runtime } from '../../../runtime.js';
import { createUser, deleteUser, getUser, listUsers, updateUser } from '../../../service/users.js';
import { byCreation, pageByKey } from './pagination.js';
import { adminRoute } from './route.js';
import { NoContent, Page, PageQuery, UserBody } from './schemas.js';

const CreateBody = Type.Object(
  {
    email: Type.String({ maxLength: 320 }),
    role: Type.String({ description: 'owner, admin or viewer' }),
    password: Type.String({ maxLength: 4096, description: '10 to 1024 characters, not the e-mail address' }),
    vendor: Type.Optional(Type.String({ maxLength: 200, description: 'another vendor (id or name) to add the user to: the operator vendor only' })),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    role: Type.Optional(Type.String({ description: 'owner, admin or viewer' })),
    status: Type.Optional(Type.String({ description: 'active or disabled' })),
  },
  { additionalProperties: false },
);

export const UserRef = Type.Object({ user: Type.String({ maxLength: 320, description: 'user id (usr_…) or e-mail address' }) });
const ref = (params: unknown) => (params as Static<typeof UserRef>).user;

/**
 * Dashboard users of the caller's vendor. A signed-in admin manages admins
 * and viewers only; the last active owner cannot be removed.
 */
export function registerUserApi(app: FastifyInstance, runtime: Runtime): void {
  const tag = 'users';
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/users', operation: 'users.read', tag, summary: 'List dashboard users', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: Page(UserBody) } },
    async (request) => pageByKey(await listUsers(runtime, request.caller), byCreation, request.query as object, presentUser),
  );
  adminRoute(
    app,
    runtime,
    { method: 'POST', url: '/api/v1/users', operation: 'users.write', tag, summary: 'Create an active user with the given password (scripts, the CLI)', body: CreateBody, response: { 201: UserBody } },
    async (request, reply) => {
      const b = request.body as Static<typeof CreateBody>;
      const user = await createUser(runtime, request.caller, { email: b.email, role: b.role, password: b.password, vendor: b.vendor });
      reply.code(201);
      return presentUser(user);
    },
  );
  adminRoute(
    app,
    runtime,
    { method: 'GET', url: '/api/v1/users/:user', operation: 'users.read', tag, summary: 'One user', params: UserRef, response: { 200: UserBody } },
    async (request) => presentUser(await getUser(runtime, request.caller, ref(request.params))),
  );
  adminRoute(
    app,
    runtime,
    {
      method: 'PATCH',
      url: '/api/v1/users/:user',
      operation: 'users.write',
      tag,
      summary: 'Change a user\'s role or status (active, disabled); ends its sessions',
      params: UserRef,
      body: UpdateBody,
      response: { 200: UserBody },
    },
    async (request) => {
      const b = request.body as Static<typeof UpdateBody>;
      return presentUser(await updateUser(runtime, request.caller, ref(request.params), { role: b.role, status: b.status }));
    },
  );
  adminRoute(
    app,
    runtime,
    { method: 'DELETE', url: '/api/v1/users/:user', operation: 'users.write', tag, summary: 'Delete a user, its sessions and invitations', params: UserRef, response: { 204: NoContent } },
    async (request, reply) => {
      await deleteUser(runtime, request.caller, ref(request.params));
      reply.code(204);
    },
  );
}
