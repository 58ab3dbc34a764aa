import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError } from '../../core/errors.js';
import { isValidDigest, MAX_MANIFEST_BYTES, OCI_INDEX } from '../../core/oci-manifest.js';
import { linkHeader, paginate, parsePageParams, parseReference, type PageParams, type Reference, type V2Route } from '../../core/oci-reference.js';
import { isValidRepositoryName } from '../../core/repo-pattern.js';
import type { AccessVerdict, RegistryAccess, RegistryCaller } from '../../registry/access.js';
import { readRequestBody } from '../../registry/read-limited.js';
import { UpstreamError } from '../../registry/upstream.js';
import { ociError } from '../error-catalogue.js';
import { challengeFor, type PublicBase } from './v2.js';

/**
 * /v2 in both modes. The auth hook has established the caller; this front
 * decides every request with RegistryAccess — the same rules whether the bytes
 * come from the built-in storage or the upstream — then hands it to the backend.
 * Listings (catalog, tags, referrers) are filtered here, once for both.
 */

declare module 'fastify' {
  interface FastifyRequest {
    registryCaller?: RegistryCaller;
    v2Route?: V2Route;
  }
}

export type Reply = FastifyReply;
export type Query = Record<string, string | undefined>;

/** One authorized request to a repository. */
export interface V2Call {
  request: FastifyRequest;
  reply: Reply;
  caller: RegistryCaller;
  name: string;
  query: Query;
}

export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string | null;
  annotations?: Record<string, string> | null;
}

/** A manifest served by GET or stored by PUT, for the usage log. */
export type ManifestEvent = (request: FastifyRequest, action: 'pull' | 'push', repository: string, tag: string | null, digest: string) => void;

/** Where the bytes are: every method runs after the access check passed. */
export interface RegistryBackend {
  /** Every repository, sorted. */
  repositories(): Promise<string[]>;
  /** A repository's tags; undefined when the repository is unknown. */
  tags(name: string): Promise<string[] | undefined>;
  /** Manifests whose subject is `digest`; undefined when the registry has no referrers API. */
  referrers(name: string, digest: string): Promise<ReferrerDescriptor[] | undefined>;
  manifest(call: V2Call, ref: Reference): Promise<Reply>;
  blob(call: V2Call, digest: string): Promise<Reply>;
  /** POST …/blobs/uploads/; `mount` is set only when the caller may pull that blob from `from`. */
  startUpload(call: V2Call, mount: { digest: string; from: string } | undefined): Promise<Reply>;
  upload(call: V2Call, id: string): Promise<Reply>;
}

export interface RegistryDeps {
  base: PublicBase;
  access: RegistryAccess;
  backend: RegistryBackend;
}

export function fail(reply: Reply, status: number, code: string, message: string, detail: unknown = null): Reply {
  return reply.code(status).send(ociError(code, message, detail));
}

export { hasBody } from '../unread-body.js';

export function bodyStream(request: FastifyRequest): Readable {
  return request.body instanceof Readable ? request.body : request.raw;
}

/**
 * A pushed manifest, read whole (it is hashed and parsed), or undefined past
 * MAX_MANIFEST_BYTES: then answer manifestTooLarge, which the client receives
 * because the rest of its body is read and dropped meanwhile.
 */
export function readManifestBody(request: FastifyRequest): Promise<Buffer | undefined> {
  return readRequestBody(bodyStream(request), MAX_MANIFEST_BYTES);
}

export function manifestTooLarge(reply: Reply): Reply {
  return fail(reply, 413, 'SIZE_INVALID', `a manifest may hold at most ${MAX_MANIFEST_BYTES} bytes`, { limit: MAX_MANIFEST_BYTES });
}

function deny(request: FastifyRequest, reply: Reply, verdict: Extract<AccessVerdict, { allow: false }>, scope: string, base: PublicBase): Reply {
  if (verdict.status === 401) {
    reply.header('www-authenticate', challengeFor(base, scope, 'insufficient_scope'));
    return fail(reply, 401, 'UNAUTHORIZED', verdict.reason);
  }
  request.log.info({ reason: verdict.reason }, 'registry access denied');
  return fail(reply, 403, 'DENIED', verdict.reason);
}

/** Methods each route answers; anything else is 405 before any access check. */
const METHODS: Record<V2Route['route'], readonly string[]> = {
  base: ['GET', 'HEAD'],
  'invalid-name': ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'],
  catalog: ['GET'],
  tags: ['GET'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  uploads: ['POST'],
  upload: ['GET', 'PATCH', 'PUT', 'DELETE'],
  referrers: ['GET'],
};

/** The action a request needs on its repository, and the scope a client should ask for it. */
function actionOf(method: string): { action: 'pull' | 'push' | 'delete'; scope: string } {
  if (method === 'DELETE') return { action: 'delete', scope: 'delete' };
  if (method === 'GET' || method === 'HEAD') return { action: 'pull', scope: 'pull' };
  return { action: 'push', scope: 'pull,push' };
}

export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryDeps): void {
  const { access, backend } = deps;

  app.register(async (v2) => {
    // Bodies stream straight to storage or the upstream; nothing is parsed on the way in.
    v2.removeAllContentTypeParsers();
    v2.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    v2.route({
      method: ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'],
      url: '/v2/*',
      handler: async (request, reply) => {
        const route = request.v2Route;
        const caller = request.registryCaller;
        if (!route || !caller) return fail(reply, 404, 'NAME_UNKNOWN', 'no such registry endpoint');
        if (!METHODS[route.route].includes(request.method)) return fail(reply, 405, 'UNSUPPORTED', `${request.method} is not supported on this endpoint`);
        try {
          return await serve(request, reply, caller, route);
        } catch (err) {
          if (!(err instanceof UpstreamError)) throw err;
          request.log.warn({ err: err.message }, 'upstream registry failure');
          if (err.kind === 'unavailable') return fail(reply.header('retry-after', '5'), 503, 'UNAVAILABLE', 'the registry behind this gateway is unavailable; try again shortly');
          return fail(reply, 502, 'UNKNOWN', err.message);
        }
      },
    });
  });

  async function serve(request: FastifyRequest, reply: Reply, caller: RegistryCaller, route: V2Route): Promise<Reply> {
    const q = request.query as Query;
    if (route.route === 'base') return reply.send({});
    if (route.route === 'invalid-name') return fail(reply, 400, 'NAME_INVALID', `invalid repository name "${route.name}"`);
    if (route.route === 'catalog') {
      const page = parsePageParams({ n: q.n, last: q.last });
      // The catalog lists what the caller could pull: its rights decide, not a JWT's catalog grant.
      const visible = (await backend.repositories()).filter((r) => access.check({ ...caller, jwtAccess: undefined }, 'pull', r).allow);
      return sendPage(reply, '/v2/_catalog', page, visible.sort(), (items) => ({ repositories: items }));
    }

    const name = route.name;
    const { action, scope } = actionOf(request.method);
    const refuse = (verdict: AccessVerdict): Reply | undefined => (verdict.allow ? undefined : deny(request, reply, verdict, `repository:${name}:${scope}`, deps.base));
    const call: V2Call = { request, reply, caller, name, query: q };

    switch (route.route) {
      case 'tags': {
        const refused = refuse(access.check(caller, 'pull', name));
        if (refused) return refused;
        const page = parsePageParams({ n: q.n, last: q.last });
        const tags = await backend.tags(name);
        if (tags === undefined) return fail(reply, 404, 'NAME_UNKNOWN', `repository ${name} is not known to the registry`);
        const visible = tags.filter((tag) => access.mayPullTag(caller, name, tag)).sort();
        return sendPage(reply, `/v2/${name}/tags/list`, page, visible, (items) => ({ name, tags: items }));
      }

      case 'manifest': {
        let ref: Reference;
        try {
          ref = parseReference(route.reference);
        } catch (err) {
          if (!(err instanceof PortcullisError)) throw err;
          return fail(reply, 400, err.field === 'tag' ? 'TAG_INVALID' : 'DIGEST_INVALID', err.message);
        }
        let verdict: AccessVerdict;
        if (action !== 'pull') verdict = access.check(caller, action, name);
        else if (ref.kind === 'tag') verdict = access.check(caller, 'pull', name, ref.tag);
        else verdict = await access.mayFetchDigest(caller, name, ref.digest, 'manifest');
        return refuse(verdict) ?? backend.manifest(call, ref);
      }

      case 'blob': {
        if (!isValidDigest(route.digest)) return fail(reply, 400, 'DIGEST_INVALID', `bad digest "${route.digest}": expected sha256: and 64 hex digits`);
        const verdict = action === 'pull' ? await access.mayFetchDigest(caller, name, route.digest, 'blob') : access.check(caller, action, name);
        return refuse(verdict) ?? backend.blob(call, route.digest);
      }

      case 'uploads': {
        const refused = refuse(access.check(caller, 'push', name));
        if (refused) return refused;
        // Mount only what the caller could pull from the source itself; otherwise the client uploads as usual.
        let mount: { digest: string; from: string } | undefined;
        if (q.mount !== undefined && isValidDigest(q.mount) && q.from !== undefined && isValidRepositoryName(q.from)) {
          if ((await access.mayFetchDigest(caller, q.from, q.mount, 'blob')).allow) mount = { digest: q.mount, from: q.from };
        }
        return backend.startUpload(call, mount);
      }

      case 'upload':
        return refuse(access.check(caller, 'push', name)) ?? backend.upload(call, route.id);

      case 'referrers': {
        if (!isValidDigest(route.digest)) return fail(reply, 400, 'DIGEST_INVALID', `bad digest "${route.digest}"`);
        // The subject need not exist (OCI 1.1), but a customer must be entitled to it.
        const refused = refuse(await access.mayFetchDigest(caller, name, route.digest, 'manifest'));
        if (refused) return refused;
        const found = await backend.referrers(name, route.digest);
        if (found === undefined) return fail(reply, 404, 'NAME_UNKNOWN', 'the registry has no referrers API; use the tag schema');
        const reach = await access.reachable(caller, name);
        let list = found.filter((m) => reach === 'all' || reach.manifests.has(m.digest));
        if (q.artifactType !== undefined) {
          list = list.filter((m) => m.artifactType === q.artifactType);
          reply.header('oci-filters-applied', 'artifactType');
        }
        return reply.type(OCI_INDEX).send({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: list.map((m) => ({
            mediaType: m.mediaType,
            digest: m.digest,
            size: m.size,
            ...(m.artifactType ? { artifactType: m.artifactType } : {}),
            ...(m.annotations ? { annotations: m.annotations } : {}),
          })),
        });
      }
    }
  }
}

function sendPage(reply: Reply, path: string, page: PageParams, sorted: string[], body: (items: string[]) => object): Reply {
  const { items, next } = paginate(sorted, page);
  if (next) reply.header('link', linkHeader(path, next));
  return reply.send(body(items));
}
