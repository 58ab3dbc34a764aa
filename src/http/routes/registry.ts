import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError } from '../../core/errors.js';
import { children, isIndexMediaType, MAX_MANIFEST_BYTES, negotiate, OCI_INDEX, parseManifest } from '../../core/oci-manifest.js';
import { linkHeader, paginate, parsePageParams, parseReference, type V2Route } from '../../core/oci-reference.js';
import { BlobStoreError, parseDigest, type BlobStore } from '../../registry/blob-store.js';
import type { AccessVerdict, RegistryAccess, RegistryCaller } from '../../registry/access.js';
import type { Runtime } from '../../runtime.js';
import { ociError } from '../error-catalogue.js';
import { challengeFor, type PublicBase } from './v2.js';

/**
 * The built-in registry: OCI Distribution 1.1 over the blob store and the
 * store's registry metadata. The /v2 hook has authenticated the caller; every
 * handler asks RegistryAccess before it touches anything.
 */

declare module 'fastify' {
  interface FastifyRequest {
    registryCaller?: RegistryCaller;
    v2Route?: V2Route;
  }
}

export interface RegistryDeps {
  runtime: Runtime;
  base: PublicBase;
  blobs: BlobStore;
  access: RegistryAccess;
  /** Called after a manifest was served by GET or stored by PUT: the usage log. */
  onManifest?: (request: FastifyRequest, action: 'pull' | 'push', repository: string, tag: string | null, digest: string) => void;
}

type Reply = FastifyReply;

function fail(reply: Reply, status: number, code: string, message: string, detail: unknown = null): Reply {
  return reply.code(status).send(ociError(code, message, detail));
}

function deny(request: FastifyRequest, reply: Reply, verdict: Extract<AccessVerdict, { allow: false }>, scope: string, base: PublicBase): Reply {
  if (verdict.status === 401) {
    reply.header('www-authenticate', challengeFor(base, scope, 'insufficient_scope'));
    return fail(reply, 401, 'UNAUTHORIZED', verdict.reason);
  }
  request.log.info({ reason: verdict.reason }, 'registry access denied');
  return fail(reply, 403, 'DENIED', verdict.reason);
}

async function readLimited(stream: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function blobError(reply: Reply, err: unknown): Reply {
  if (!(err instanceof BlobStoreError)) throw err;
  switch (err.code) {
    case 'DIGEST_INVALID':
      return fail(reply, 400, 'DIGEST_INVALID', err.message);
    case 'SIZE_INVALID':
      return fail(reply, err.detail?.limit !== undefined ? 413 : 400, 'SIZE_INVALID', err.message);
    case 'BLOB_UPLOAD_UNKNOWN':
      return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', err.message);
    case 'RANGE_INVALID':
      if (err.detail?.size !== undefined) reply.header('range', `0-${Math.max(0, err.detail.size - 1)}`);
      return fail(reply, 416, 'BLOB_UPLOAD_INVALID', err.message);
    case 'BLOB_UPLOAD_INVALID':
      return fail(reply, 400, 'BLOB_UPLOAD_INVALID', err.message);
    default:
      return fail(reply, 400, 'UNSUPPORTED', err.message);
  }
}

/** `bytes=start-end` or `bytes=start-`; anything else is no range (the whole blob), as HTTP allows. */
function parseRange(header: string | undefined): { start: number; end?: number } | undefined {
  const m = header === undefined ? null : /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  return m[2] === '' ? { start: Number(m[1]) } : { start: Number(m[1]), end: Number(m[2]) };
}

/** `Content-Range: start-end` of a PATCH (the spec's form, without `bytes `). */
function parseContentRange(header: string | undefined): { start: number; end: number } | undefined | 'bad' {
  if (header === undefined) return undefined;
  const m = /^(?:bytes )?(\d+)-(\d+)$/.exec(header.trim());
  return m ? { start: Number(m[1]), end: Number(m[2]) } : 'bad';
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function bodyStream(request: FastifyRequest): Readable {
  return request.body instanceof Readable ? request.body : request.raw;
}

export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryDeps): void {
  const { runtime, blobs, access } = deps;
  const store = runtime.store;

  app.register(async (v2) => {
    // Bodies stream straight into the blob store; manifests are read with a limit.
    v2.removeAllContentTypeParsers();
    v2.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    v2.route({
      method: ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'],
      url: '/v2/*',
      handler: async (request, reply) => {
        const route = request.v2Route;
        const caller = request.registryCaller;
        if (!route || !caller) return fail(reply, 404, 'NAME_UNKNOWN', 'no such registry endpoint');
        const method = request.method;
        const q = request.query as Record<string, string | undefined>;
        const scopeOf = (name: string, action: string) => `repository:${name}:${action}`;
        const needs = (name: string, action: 'pull' | 'push' | 'delete', tag?: string): AccessVerdict => access.check(caller, action, name, tag);

        switch (route.route) {
          case 'base':
            return reply.send({});
          case 'invalid-name':
            return fail(reply, 400, 'NAME_INVALID', `invalid repository name "${route.name}"`);

          case 'catalog': {
            if (method !== 'GET') return fail(reply, 405, 'UNSUPPORTED', 'the catalog is read-only');
            const page = parsePageParams({ n: q.n, last: q.last });
            const repositories = (await store.listRepositories()).filter((r) => access.check({ ...caller, jwtAccess: undefined }, 'pull', r).allow);
            const { items, next } = paginate(repositories, page);
            if (next) reply.header('link', linkHeader('/v2/_catalog', next));
            return reply.send({ repositories: items });
          }

          case 'tags': {
            if (method !== 'GET') return fail(reply, 405, 'UNSUPPORTED', 'tags are listed with GET');
            const verdict = needs(route.name, 'pull');
            if (!verdict.allow) return deny(request, reply, verdict, scopeOf(route.name, 'pull'), deps.base);
            const page = parsePageParams({ n: q.n, last: q.last });
            const tags = await store.listTags(route.name);
            if (tags.length === 0 && (await store.listManifests(route.name)).length === 0) {
              return fail(reply, 404, 'NAME_UNKNOWN', `repository ${route.name} is not known to the registry`);
            }
            const visible = tags.map((t) => t.tag).filter((tag) => access.mayPullTag(caller, route.name, tag));
            const { items, next } = paginate(visible, page);
            if (next) reply.header('link', linkHeader(`/v2/${route.name}/tags/list`, next));
            return reply.send({ name: route.name, tags: items });
          }

          case 'manifest':
            return manifest(request, reply, caller, route.name, route.reference);
          case 'blob':
            return blob(request, reply, caller, route.name, route.digest);
          case 'uploads':
            return startUpload(request, reply, caller, route.name, q);
          case 'upload':
            return upload(request, reply, caller, route.name, route.id, q);
          case 'referrers':
            return referrers(request, reply, caller, route.name, route.digest, q);
        }
      },
    });
  });

  async function manifest(request: FastifyRequest, reply: Reply, caller: RegistryCaller, name: string, reference: string): Promise<Reply> {
    let ref;
    try {
      ref = parseReference(reference);
    } catch (err) {
      if (!(err instanceof PortcullisError)) throw err;
      return fail(reply, 400, err.field === 'tag' ? 'TAG_INVALID' : 'DIGEST_INVALID', err.message);
    }
    const method = request.method;

    if (method === 'PUT') {
      const verdict = access.check(caller, 'push', name);
      if (!verdict.allow) return deny(request, reply, verdict, `repository:${name}:pull,push`, deps.base);
      const bytes = await readLimited(bodyStream(request), MAX_MANIFEST_BYTES);
      if (!bytes) return fail(reply, 413, 'SIZE_INVALID', `a manifest may hold at most ${MAX_MANIFEST_BYTES} bytes`);
      const digest = sha256(bytes);
      if (ref.kind === 'digest' && ref.digest !== digest) return fail(reply, 400, 'DIGEST_INVALID', `the manifest's digest is ${digest}, not ${ref.digest}`);
      let parsed;
      try {
        parsed = parseManifest(bytes, request.headers['content-type']);
      } catch (err) {
        if (!(err instanceof PortcullisError)) throw err;
        return fail(reply, 400, 'MANIFEST_INVALID', err.message);
      }
      const refs = children(parsed);
      for (const child of refs) {
        const known = child.kind === 'blob' ? await store.getBlobLink(name, child.digest) : await store.getManifest(name, child.digest);
        if (!known) return fail(reply, 400, 'MANIFEST_BLOB_UNKNOWN', `${child.kind} ${child.digest} is not in ${name}: push it first`, { digest: child.digest });
      }
      try {
        await blobs.putVerified(digest, Readable.from([bytes]), bytes.length);
      } catch (err) {
        return blobError(reply, err);
      }
      const now = runtime.now();
      await store.transaction(async (tx) => {
        await tx.putManifest({
          repository: name,
          digest,
          mediaType: parsed.mediaType,
          size: bytes.length,
          subject: parsed.subject?.digest ?? null,
          artifactType: parsed.artifactType ?? parsed.config?.mediaType ?? null,
          annotations: parsed.annotations ?? null,
          children: refs.map((c) => ({ digest: c.digest, kind: c.kind })),
          createdAt: now,
        });
        if (ref.kind === 'tag') await tx.setTag(name, ref.tag, digest, now);
      });
      deps.onManifest?.(request, 'push', name, ref.kind === 'tag' ? ref.tag : null, digest);
      if (parsed.subject) reply.header('oci-subject', parsed.subject.digest);
      return reply.code(201).headers({ location: `/v2/${name}/manifests/${digest}`, 'docker-content-digest': digest }).send();
    }

    if (method === 'DELETE') {
      const verdict = access.check(caller, 'delete', name);
      if (!verdict.allow) return deny(request, reply, verdict, `repository:${name}:delete`, deps.base);
      const gone = ref.kind === 'tag' ? await store.deleteTag(name, ref.tag) : await store.deleteManifest(name, ref.digest);
      if (!gone) return fail(reply, 404, 'MANIFEST_UNKNOWN', `manifest ${reference} is not in ${name}`);
      return reply.code(202).send();
    }

    if (method !== 'GET' && method !== 'HEAD') return fail(reply, 405, 'UNSUPPORTED', `${method} is not supported on manifests`);
    let digest: string;
    let tag: string | null = null;
    if (ref.kind === 'tag') {
      const verdict = access.check(caller, 'pull', name, ref.tag);
      if (!verdict.allow) return deny(request, reply, verdict, `repository:${name}:pull`, deps.base);
      const resolved = await store.resolveTag(name, ref.tag);
      if (!resolved) return fail(reply, 404, 'MANIFEST_UNKNOWN', `manifest ${name}:${ref.tag} is not known`);
      digest = resolved;
      tag = ref.tag;
    } else {
      const verdict = await access.mayFetchDigest(caller, name, ref.digest, 'manifest');
      if (!verdict.allow) return deny(request, reply, verdict, `repository:${name}:pull`, deps.base);
      digest = ref.digest;
    }
    const record = await store.getManifest(name, digest);
    if (!record) return fail(reply, 404, 'MANIFEST_UNKNOWN', `manifest ${digest} is not in ${name}`);
    // An index only goes to clients that said they read indexes (distribution does the same).
    if (ref.kind === 'tag' && isIndexMediaType(record.mediaType) && !negotiate(record.mediaType, request.headers.accept)) {
      return fail(reply, 404, 'MANIFEST_UNKNOWN', `${name}:${ref.tag} is an index; ask for ${record.mediaType} in Accept`);
    }
    reply.headers({ 'content-type': record.mediaType, 'docker-content-digest': digest, etag: `"${digest}"`, 'content-length': String(record.size) });
    if (method === 'HEAD') return reply.send();
    const opened = await blobs.open(digest);
    if (!opened) return fail(reply, 404, 'MANIFEST_UNKNOWN', `manifest ${digest} is missing from storage`);
    deps.onManifest?.(request, 'pull', name, tag, digest);
    return reply.send(opened.stream);
  }

  async function blob(request: FastifyRequest, reply: Reply, caller: RegistryCaller, name: string, digest: string): Promise<Reply> {
    if (!parseDigest(digest)) return fail(reply, 400, 'DIGEST_INVALID', `bad digest "${digest}": expected sha256: and 64 hex digits`);
    const method = request.method;
    if (method === 'DELETE') {
      const verdict = access.check(caller, 'delete', name);
      if (!verdict.allow) return deny(request, reply, verdict, `repository:${name}:delete`, deps.base);
      if (!(await store.unlinkBlob(name, digest))) return fail(reply, 404, 'BLOB_UNKNOWN', `blob ${digest} is not in ${name}`);
      return reply.code(202).send();
    }
    if (method !== 'GET' && method !== 'HEAD') return fail(reply, 405, 'UNSUPPORTED', `${method} is not supported on blobs`);
    const verdict = await access.mayFetchDigest(caller, name, digest, 'blob');
    if (!verdict.allow) return deny(request, reply, verdict, `repository:${name}:pull`, deps.base);
    const linked = (await store.getBlobLink(name, digest)) ?? (await store.getManifest(name, digest));
    if (!linked) return fail(reply, 404, 'BLOB_UNKNOWN', `blob ${digest} is not in ${name}`);
    const range = parseRange(request.headers.range);
    let opened;
    try {
      opened = await blobs.open(digest, method === 'HEAD' ? undefined : range);
    } catch (err) {
      if (err instanceof BlobStoreError && err.code === 'RANGE_INVALID') {
        return reply.code(416).header('content-range', `bytes */${err.detail?.size ?? 0}`).send(ociError('BLOB_UNKNOWN', err.message));
      }
      throw err;
    }
    if (!opened) return fail(reply, 404, 'BLOB_UNKNOWN', `blob ${digest} is missing from storage`);
    reply.headers({ 'content-type': 'application/octet-stream', 'docker-content-digest': digest, etag: `"${digest}"`, 'accept-ranges': 'bytes' });
    if (method === 'HEAD') {
      opened.stream.destroy();
      return reply.header('content-length', String(opened.size)).send();
    }
    if (opened.range) {
      reply.code(206).header('content-range', `bytes ${opened.range.start}-${opened.range.end}/${opened.size}`);
      reply.header('content-length', String(opened.range.end - opened.range.start + 1));
    } else {
      reply.header('content-length', String(opened.size));
    }
    return reply.send(opened.stream);
  }

  function uploadHeaders(reply: Reply, name: string, id: string, size: number): Reply {
    return reply.headers({
      location: `/v2/${name}/blobs/uploads/${id}`,
      'docker-upload-uuid': id,
      range: `0-${Math.max(0, size - 1)}`,
      'content-length': '0',
    });
  }

  async function finished(reply: Reply, name: string, stored: { digest: string; size: number }): Promise<Reply> {
    await store.linkBlob(name, stored.digest, stored.size, runtime.now());
    return reply.code(201).headers({ location: `/v2/${name}/blobs/${stored.digest}`, 'docker-content-digest': stored.digest, 'content-length': '0' }).send();
  }

  async function startUpload(request: FastifyRequest, reply: Reply, caller: RegistryCaller, name: string, q: Record<string, string | undefined>): Promise<Reply> {
    if (request.method !== 'POST') return fail(reply, 405, 'UNSUPPORTED', 'uploads start with POST');
    const verdict = access.check(caller, 'push', name);
    if (!verdict.allow) return deny(request, reply, verdict, `repository:${name}:pull,push`, deps.base);

    if (q.mount !== undefined && parseDigest(q.mount) && q.from !== undefined) {
      // Mount only what the caller could pull from the source itself; otherwise upload as usual.
      const from = q.from;
      const mayRead = (await access.mayFetchDigest(caller, from, q.mount, 'blob')).allow;
      const link = mayRead ? await store.getBlobLink(from, q.mount) : undefined;
      if (link && (await blobs.stat(q.mount))) return finished(reply, name, { digest: q.mount, size: link.size });
    }
    try {
      if (q.digest !== undefined) {
        if (!parseDigest(q.digest)) return fail(reply, 400, 'DIGEST_INVALID', `bad digest "${q.digest}"`);
        const length = Number(request.headers['content-length'] ?? Number.NaN);
        return finished(reply, name, await blobs.putVerified(q.digest, bodyStream(request), Number.isFinite(length) ? length : undefined));
      }
      const { id } = await blobs.startUpload(name);
      return uploadHeaders(reply.code(202), name, id, 0).send();
    } catch (err) {
      return blobError(reply, err);
    }
  }

  async function upload(request: FastifyRequest, reply: Reply, caller: RegistryCaller, name: string, id: string, q: Record<string, string | undefined>): Promise<Reply> {
    const verdict = access.check(caller, 'push', name);
    if (!verdict.allow) return deny(request, reply, verdict, `repository:${name}:pull,push`, deps.base);
    // A session belongs to the repository it was started in; elsewhere it does not exist.
    const status = await blobs.uploadStatus(id);
    if (!status || status.owner !== name) return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown: it may have finished, been cancelled or expired');
    try {
      switch (request.method) {
        case 'GET':
          return uploadHeaders(reply.code(204), name, id, status.size).send();
        case 'PATCH': {
          const range = parseContentRange(request.headers['content-range']);
          if (range === 'bad') return fail(reply, 400, 'BLOB_UPLOAD_INVALID', 'Content-Range must be start-end');
          const { size } = await blobs.appendUpload(id, bodyStream(request), range);
          return uploadHeaders(reply.code(202), name, id, size).send();
        }
        case 'PUT': {
          if (q.digest === undefined || !parseDigest(q.digest)) return fail(reply, 400, 'DIGEST_INVALID', 'finishing an upload needs ?digest=sha256:…');
          return finished(reply, name, await blobs.finishUpload(id, q.digest, hasBody(request) ? bodyStream(request) : undefined));
        }
        case 'DELETE':
          if (!(await blobs.cancelUpload(id))) return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown');
          return reply.code(204).send();
        default:
          return fail(reply, 405, 'UNSUPPORTED', `${request.method} is not supported on uploads`);
      }
    } catch (err) {
      return blobError(reply, err);
    }
  }

  async function referrers(request: FastifyRequest, reply: Reply, caller: RegistryCaller, name: string, digest: string, q: Record<string, string | undefined>): Promise<Reply> {
    if (request.method !== 'GET') return fail(reply, 405, 'UNSUPPORTED', 'referrers are listed with GET');
    if (!parseDigest(digest)) return fail(reply, 400, 'DIGEST_INVALID', `bad digest "${digest}"`);
    const verdict = await access.mayFetchDigest(caller, name, digest, 'manifest');
    // The subject need not exist (OCI 1.1), but a customer must be entitled to it.
    if (!verdict.allow && !(caller.principal.kind === 'vendor' && access.check(caller, 'pull', name).allow)) {
      return deny(request, reply, verdict as Extract<AccessVerdict, { allow: false }>, `repository:${name}:pull`, deps.base);
    }
    const reach = await access.reachable(caller, name);
    let list = (await store.listReferrers(name, digest)).filter((m) => reach === 'all' || reach.manifests.has(m.digest));
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
