import { Readable } from 'node:stream';
import { PortcullisError } from '../../core/errors.js';
import { children, isIndexMediaType, isValidDigest, negotiate, parseManifest } from '../../core/oci-manifest.js';
import type { Reference } from '../../core/oci-reference.js';
import { BlobStoreError, sha256Digest, type BlobStore } from '../../registry/blob-store.js';
import { linkStoredBlob } from '../../registry/gc.js';
import type { Store } from '../../store/store.js';
import { ociError } from '../error-catalogue.js';
import { bodyStream, fail, hasBody, manifestTooLarge, readManifestBody, type ManifestEvent, type RegistryBackend, type Reply, type V2Call } from './registry.js';

/**
 * The built-in registry: OCI Distribution 1.1 over the blob store and the
 * store's registry metadata (DESIGN §2, mode 1).
 */

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

export interface BuiltinDeps {
  store: Store;
  blobs: BlobStore;
  now: () => Date;
  onManifest?: ManifestEvent;
}

export function builtinBackend(deps: BuiltinDeps): RegistryBackend {
  const { store, blobs, now } = deps;

  function created(reply: Reply, name: string, digest: string): Reply {
    return reply.code(201).headers({ location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': '0' }).send();
  }

  async function finished(reply: Reply, name: string, stored: { digest: string; size: number }): Promise<Reply> {
    if (await linkStoredBlob(store, blobs, name, stored, now())) return created(reply, name, stored.digest);
    // A gc running beside us took the file between store and link: never acknowledge a blob that is not there.
    return fail(reply.header('retry-after', '1'), 503, 'UNAVAILABLE', `blob ${stored.digest} was removed by garbage collection while it was being stored; push it again`);
  }

  function uploadHeaders(reply: Reply, name: string, id: string, size: number): Reply {
    return reply.headers({
      location: `/v2/${name}/blobs/uploads/${id}`,
      'docker-upload-uuid': id,
      range: `0-${Math.max(0, size - 1)}`,
      'content-length': '0',
    });
  }

  async function putManifest({ request, reply, name }: V2Call, ref: Reference): Promise<Reply> {
    const bytes = await readManifestBody(request);
    if (!bytes) return manifestTooLarge(reply);
    const digest = sha256Digest(bytes);
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
      // Looked at after the link was: a file seen now stays while the link does (gc.ts, invariant 3).
      if (child.kind === 'blob' && !(await blobs.stat(child.digest))) {
        return fail(reply, 400, 'MANIFEST_BLOB_UNKNOWN', `blob ${child.digest} of ${name} is missing from storage: push it again`, { digest: child.digest });
      }
    }
    try {
      await blobs.putVerified(digest, Readable.from([bytes]), bytes.length);
    } catch (err) {
      return blobError(reply, err);
    }
    const at = now();
    const gone = await store.transaction(async (tx) => {
      // Touched in the transaction that stores the manifest: gc drops only links older than its grace that no manifest references.
      for (const child of refs) {
        if (child.kind === 'blob' && !(await tx.touchBlobLink(name, child.digest, at))) return child;
      }
      await tx.putManifest({
        repository: name,
        digest,
        mediaType: parsed.mediaType,
        size: bytes.length,
        subject: parsed.subject?.digest ?? null,
        artifactType: parsed.artifactType ?? parsed.config?.mediaType ?? null,
        annotations: parsed.annotations ?? null,
        children: refs.map((c) => ({ digest: c.digest, kind: c.kind })),
        createdAt: at,
      });
      if (ref.kind === 'tag') await tx.setTag(name, ref.tag, digest, at);
      return undefined;
    });
    if (gone) return fail(reply, 400, 'MANIFEST_BLOB_UNKNOWN', `blob ${gone.digest} is not in ${name}: push it first`, { digest: gone.digest });
    // gc may have taken the manifest's own file before the manifest referenced it (gc.ts, invariant 3);
    // stored again now that it does, the file stays.
    if (!(await blobs.stat(digest))) {
      try {
        await blobs.putVerified(digest, Readable.from([bytes]), bytes.length);
      } catch (err) {
        return blobError(reply, err);
      }
    }
    deps.onManifest?.(request, 'push', name, ref.kind === 'tag' ? ref.tag : null, digest);
    if (parsed.subject) reply.header('oci-subject', parsed.subject.digest);
    return reply.code(201).headers({ location: `/v2/${name}/manifests/${digest}`, 'docker-content-digest': digest }).send();
  }

  return {
    repositories: () => store.listRepositories(),

    async tags(name) {
      const tags = await store.listTags(name);
      if (tags.length === 0 && (await store.listManifests(name)).length === 0) return undefined;
      return tags.map((t) => t.tag);
    },

    referrers: (name, digest) => store.listReferrers(name, digest),

    async manifest(call, ref) {
      const { request, reply, name } = call;
      if (request.method === 'PUT') return putManifest(call, ref);
      if (request.method === 'DELETE') {
        const gone = ref.kind === 'tag' ? await store.deleteTag(name, ref.tag) : await store.deleteManifest(name, ref.digest);
        if (!gone) return fail(reply, 404, 'MANIFEST_UNKNOWN', `manifest ${ref.kind === 'tag' ? ref.tag : ref.digest} is not in ${name}`);
        return reply.code(202).send();
      }
      const digest = ref.kind === 'tag' ? await store.resolveTag(name, ref.tag) : ref.digest;
      if (digest === undefined) return fail(reply, 404, 'MANIFEST_UNKNOWN', `manifest ${name}:${ref.kind === 'tag' ? ref.tag : ''} is not known`);
      const record = await store.getManifest(name, digest);
      if (!record) return fail(reply, 404, 'MANIFEST_UNKNOWN', `manifest ${digest} is not in ${name}`);
      // An index only goes to clients that said they read indexes (distribution does the same).
      if (ref.kind === 'tag' && isIndexMediaType(record.mediaType) && !negotiate(record.mediaType, request.headers.accept)) {
        return fail(reply, 404, 'MANIFEST_UNKNOWN', `${name}:${ref.tag} is an index; ask for ${record.mediaType} in Accept`);
      }
      reply.headers({ 'content-type': record.mediaType, 'docker-content-digest': digest, etag: `"${digest}"`, 'content-length': String(record.size) });
      if (request.method === 'HEAD') return reply.send();
      const opened = await blobs.open(digest);
      if (!opened) return fail(reply, 404, 'MANIFEST_UNKNOWN', `manifest ${digest} is missing from storage`);
      deps.onManifest?.(request, 'pull', name, ref.kind === 'tag' ? ref.tag : null, digest);
      return reply.send(opened.stream);
    },

    async blob({ request, reply, name }, digest) {
      const method = request.method;
      if (method === 'DELETE') {
        if (!(await store.unlinkBlob(name, digest))) return fail(reply, 404, 'BLOB_UNKNOWN', `blob ${digest} is not in ${name}`);
        return reply.code(202).send();
      }
      const linked = (await store.getBlobLink(name, digest)) ?? (await store.getManifest(name, digest));
      if (!linked) return fail(reply, 404, 'BLOB_UNKNOWN', `blob ${digest} is not in ${name}`);
      let opened;
      try {
        opened = await blobs.open(digest, method === 'HEAD' ? undefined : parseRange(request.headers.range));
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
    },

    async startUpload({ request, reply, name, query }, mount) {
      if (mount) {
        const link = await store.getBlobLink(mount.from, mount.digest);
        const stored = link && (await blobs.stat(mount.digest)) && { digest: mount.digest, size: link.size };
        // Gone under us (gc): an ordinary upload instead, as for any mount that cannot be done.
        if (stored && (await linkStoredBlob(store, blobs, name, stored, now()))) return created(reply, name, stored.digest);
      }
      try {
        if (query.digest !== undefined) {
          if (!isValidDigest(query.digest)) return fail(reply, 400, 'DIGEST_INVALID', `bad digest "${query.digest}"`);
          const length = Number(request.headers['content-length'] ?? Number.NaN);
          return await finished(reply, name, await blobs.putVerified(query.digest, bodyStream(request), Number.isFinite(length) ? length : undefined));
        }
        const { id } = await blobs.startUpload(name);
        return uploadHeaders(reply.code(202), name, id, 0).send();
      } catch (err) {
        return blobError(reply, err);
      }
    },

    async upload({ request, reply, name, query }, id) {
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
            if (query.digest === undefined || !isValidDigest(query.digest)) return fail(reply, 400, 'DIGEST_INVALID', 'finishing an upload needs ?digest=sha256:…');
            return await finished(reply, name, await blobs.finishUpload(id, query.digest, hasBody(request) ? bodyStream(request) : undefined));
          }
          default:
            if (!(await blobs.cancelUpload(id))) return fail(reply, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown');
            return reply.code(204).send();
        }
      } catch (err) {
        return blobError(reply, err);
      }
    },
  };
}
