import { Type, type TSchema } from '@sinclair/typebox';

/**
 * JSON Schemas of the admin API: Fastify validates requests and serializes
 * answers with them, and the OpenAPI document is generated from them, so the
 * published contract and the behaviour cannot drift apart. The response shapes
 * mirror src/present.ts field for field (serialization drops anything else).
 */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** The body of a 204 answer. */
export const NoContent = Type.Null({ description: 'no content' });
const Time = Type.String({ format: 'date-time' });
const NullableTime = Nullable(Time);
/** A list given as an array or as one comma-separated string, like the CLI's flags. */
export const StringList = Type.Union([Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 256 }), Type.String({ maxLength: 16_384 })]);

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'stable machine-readable error code' }),
    field: Type.Optional(Type.String({ description: 'the input that was wrong' })),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'items per page' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'next_cursor of the previous page' })),
};

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Nullable(Type.String({ description: 'pass as cursor for the next page; null on the last page' })) });

export const TokenBody = Type.Object(
  {
    username: Type.String(),
    type: Type.Union([Type.Literal('vendor'), Type.Literal('customer')]),
    name: Type.String(),
    customer_id: Nullable(Type.String()),
    scopes: Type.Array(Type.String()),
    status: Type.String({ description: 'active, disabled or revoked' }),
    state: Type.String({ description: 'status, or expired for an active token past its expiry' }),
    expires_at: NullableTime,
    rate_limit: Nullable(Type.Integer()),
    last_used_at: NullableTime,
    last_used_ip: Nullable(Type.String()),
    created_by: Type.String(),
    created_at: Time,
    updated_at: Time,
  },
  { title: 'Token' },
);

export const CreatedTokenBody = Type.Composite(
  [
    TokenBody,
    Type.Object({
      secret: Type.String({ description: 'shown in this answer only; never again' }),
      full_token: Type.String({ description: '<username>.<secret>, accepted as a password with any username' }),
    }),
  ],
  { title: 'CreatedToken' },
);

export const CustomerBody = Type.Object(
  { id: Type.String(), name: Type.String(), contact: Nullable(Type.String()), created_at: Time, updated_at: Time, deleted_at: NullableTime },
  { title: 'Customer' },
);

export const LicenseBody = Type.Object(
  {
    id: Type.String(),
    customer_id: Type.String(),
    name: Nullable(Type.String()),
    repositories: Type.Array(Type.String()),
    plan_id: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    valid_from: Time,
    valid_until: NullableTime,
    status: Type.String({ description: 'active, suspended or revoked' }),
    created_at: Time,
    updated_at: Time,
  },
  { title: 'License' },
);

export const PlanBody = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Nullable(Type.String()),
    repositories: Type.Array(Type.String()),
    actions: Type.Array(Type.String()),
    created_at: Time,
    updated_at: Time,
  },
  { title: 'Plan' },
);

export const VendorBody = Type.Object(
  { id: Type.String(), name: Type.String(), namespaces: Type.Array(Type.String()), operator: Type.Boolean(), created_at: Time },
  { title: 'Vendor' },
);

export const AuditBody = Type.Object(
  {
    id: Type.String(),
    at: Time,
    actor: Type.String({ description: 'the acting token (or cli:<user>, system)' }),
    source: Type.String({ description: 'the address or host it acted from' }),
    action: Type.String(),
    object_type: Type.String(),
    object_id: Type.String(),
    detail: Type.Record(Type.String(), Type.Unknown()),
  },
  { title: 'AuditEvent' },
);

export const UsageEventBody = Type.Object(
  {
    id: Type.String(),
    at: Time,
    action: Type.String({ description: 'pull or push' }),
    repository: Type.String(),
    tag: Nullable(Type.String()),
    digest: Type.String(),
    token: Type.String(),
    customer_id: Nullable(Type.String()),
    ip: Type.String(),
    user_agent: Type.String(),
  },
  { title: 'UsageEvent' },
);

export const UsageCountBody = Type.Object(
  { repository: Type.String(), tag: Nullable(Type.String()), pulls: Type.Integer(), pushes: Type.Integer(), last_at: Time },
  { title: 'UsageCount' },
);

export const UserBody = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    role: Type.String({ description: 'owner, admin or viewer' }),
    status: Type.String({ description: 'active, invited (no password yet) or disabled' }),
    must_change_password: Type.Boolean({ description: 'true after a temporary password, until the user sets its own' }),
    created_at: Time,
    last_login_at: NullableTime,
  },
  { title: 'User' },
);

export const SessionBody = Type.Object(
  {
    user: UserBody,
    vendor: Type.Object({ id: Type.String(), name: Type.String(), operator: Type.Boolean() }),
    csrf_token: Type.String({ description: 'send as X-CSRF-Token on every request other than GET and HEAD' }),
    expires_at: Time,
  },
  { title: 'Session' },
);

export const InvitedBody = Type.Object(
  {
    user: UserBody,
    invitation: Type.Object({
      expires_at: Type.String({ format: 'date-time', description: 'when the link, or the temporary password until it is changed, stops working' }),
      emailed: Type.Boolean({ description: 'the link went out by e-mail' }),
      url: Nullable(Type.String({ description: 'the link, when it was not e-mailed: pass it on to the user' })),
      temporary_password: Nullable(Type.String({ description: 'mode password: shown in this answer only' })),
    }),
  },
  { title: 'Invited' },
);

export const InvitationInfoBody = Type.Object(
  { email: Type.String(), vendor: Type.Object({ name: Type.String() }), expires_at: Time },
  { title: 'Invitation' },
);

/** Error answers every admin route may give. */
export const ERROR_RESPONSES = {
  400: Type.Ref('Problem'),
  401: Type.Ref('Problem'),
  403: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
  409: Type.Ref('Problem'),
  429: Type.Ref('Problem'),
};

export const SHARED_SCHEMAS = [Problem];
