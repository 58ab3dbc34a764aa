import { validateHeaderValue, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AccessEntry } from '../../core/access.js';
import { OCI_INDEX } from '../../core/oci-manifest.js';
import { clientLocation, FORWARDED_REQUEST_HEADERS, pickHeaders, RELAYED_RESPONSE_HEADERS } from '../../core/upstream-proxy.js';
import type { GraphSource } from '../../registry/graph-source.js';
import { CATALOG_ACCESS, discard, parseJson, repositoryAccess, UpstreamError, type Upstream } from '../../registry/upstream.js';
import { bodyStream, hasBody, manifestTooLarge, readManifestBody, type ManifestEvent, type ReferrerDescriptor, type RegistryBackend, type Reply, type V2Call } from './registry.js';

/**
 * Gateway mode (DESIGN §2, mode 2): each request, once the front has allowed
 * it, goes to the upstream with a service token for exactly what it needs.
 * Bodies are piped both ways, so backpressure holds and nothing is buffered;
 * a redirect to storage is relayed as it is.
 */

export interface GatewayDeps {
  upstream: Upstream;
  graphs: GraphSource;
  onManifest?: ManifestEvent;
}

interface Forward {
  path: string;
  access: AccessEntry[];
  /** Pass the client's body on (uploads), or these bytes read from it (a manifest). */
  body?: boolean | Buffer;
  /** Sees the upstream's answer before the client does. */
  onResponse?: (status: number, headers: IncomingHttpHeaders) => void;
}

function queryString(query: Record<string, string | undefined>, keep: readonly string[]): string {
  const params = new URLSearchParams();
  for (const key of keep) {
    const value = query[key];
    if (value !== undefined) params.set(key, value);
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function rawQuery(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i);
}

export function gatewayBackend(deps: GatewayDeps): RegistryBackend {
  const { upstream, graphs } = deps;

  /** What the client sees of the upstream's headers; its own URLs become relative ones. */
  function relayedHeaders(headers: IncomingHttpHeaders | Record<string, string>, what: string): Record<string, string> {
    const out = pickHeaders(headers, RELAYED_RESPONSE_HEADERS);
    if (out.location !== undefined) {
      const location = clientLocation(out.location, upstream.origin);
      if (location === undefined) throw new UpstreamError('failed', `the upstream registry answered ${what} with a Location that is no http(s) URL`);
      out.location = location;
    }
    return out;
  }

  async function forward({ request, reply }: V2Call, f: Forward): Promise<Reply> {
    const headers = pickHeaders(request.headers, FORWARDED_REQUEST_HEADERS);
    if (Buffer.isBuffer(f.body)) headers['content-length'] = String(f.body.length);
    const res = await upstream.send({
      method: request.method,
      path: f.path,
      headers,
      body: Buffer.isBuffer(f.body) ? f.body : f.body && hasBody(request) ? bodyStream(request) : null,
      access: f.access,
    });
    let headersOut: Record<string, string>;
    try {
      upstream.judge(res.statusCode, { method: request.method, path: f.path });
      headersOut = relayedHeaders(res.headers, `${request.method} ${f.path.split('?')[0]}`);
    } catch (err) {
      discard(res.body);
      throw err;
    }
    f.onResponse?.(res.statusCode, res.headers);
    reply.code(res.statusCode).headers(headersOut);
    if (request.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304) {
      discard(res.body);
      return reply.send();
    }
    return reply.send(res.body);
  }

  const digestOf = (headers: IncomingHttpHeaders): string | undefined => {
    const d = headers['docker-content-digest'];
    return typeof d === 'string' ? d : undefined;
  };

  return {
    async repositories() {
      return (await upstream.list('/v2/_catalog', 'repositories', [CATALOG_ACCESS])) ?? [];
    },

    tags: (name) => upstream.list(`/v2/${name}/tags/list`, 'tags', [repositoryAccess(name, 'pull')]),

    async referrers(name, digest) {
      const res = await upstream.fetch({ method: 'GET', path: `/v2/${name}/referrers/${digest}`, access: [repositoryAccess(name, 'pull')], headers: { accept: OCI_INDEX } }, 4 * 1024 * 1024);
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw new UpstreamError('failed', `the upstream answered referrers of ${digest} with HTTP ${res.status}`);
      const index = parseJson(res.body, `referrers of ${digest}`) as { manifests?: unknown } | null;
      if (!Array.isArray(index?.manifests)) throw new UpstreamError('failed', `the upstream's referrers of ${digest} are not an index`);
      return index.manifests.filter(
        (m): m is ReferrerDescriptor => typeof m === 'object' && m !== null && typeof (m as ReferrerDescriptor).digest === 'string' && typeof (m as ReferrerDescriptor).mediaType === 'string',
      );
    },

    async manifest(call, ref) {
      const { request, name } = call;
      const reference = ref.kind === 'tag' ? ref.tag : ref.digest;
      const tag = ref.kind === 'tag' ? ref.tag : null;
      const path = `/v2/${name}/manifests/${reference}`;
      switch (request.method) {
        case 'PUT': {
          // Bounded here as in the built-in registry: the upstream would cut the connection, and the gateway reads manifests up to this size only.
          const bytes = await readManifestBody(request);
          if (!bytes) return manifestTooLarge(call.reply);
          return forward(call, {
            path,
            access: [repositoryAccess(name, 'pull', 'push')],
            body: bytes,
            onResponse: (status, headers) => {
              if (status !== 201) return;
              graphs.changed(name);
              const digest = digestOf(headers);
              if (digest) deps.onManifest?.(request, 'push', name, tag, digest);
            },
          });
        }
        case 'DELETE':
          return forward(call, { path, access: [repositoryAccess(name, 'delete')], onResponse: (status) => status < 300 && graphs.changed(name) });
        default:
          return forward(call, {
            path,
            access: [repositoryAccess(name, 'pull')],
            onResponse: (status, headers) => {
              const digest = digestOf(headers);
              if (request.method === 'GET' && status === 200 && digest) deps.onManifest?.(request, 'pull', name, tag, digest);
            },
          });
      }
    },

    async blob(call, digest) {
      const { request, reply, name } = call;
      const path = `/v2/${name}/blobs/${digest}`;
      if (request.method !== 'GET') return forward(call, { path, access: [repositoryAccess(name, request.method === 'DELETE' ? 'delete' : 'pull')] });
      const access = [repositoryAccess(name, 'pull')];
      const relay = await upstream.relay({ path, headers: pickHeaders(request.headers, FORWARDED_REQUEST_HEADERS), access });
      if (!relay) return forward(call, { path, access });
      let headers: OutgoingHttpHeaders;
      try {
        upstream.judge(relay.head.statusCode, { method: 'GET', path });
        headers = { ...(reply.getHeaders() as OutgoingHttpHeaders), ...relayedHeaders(relay.head.headers, `GET ${path}`) };
        // Checked before Fastify steps aside: a header Node refuses to write then would leave the client with no answer at all.
        for (const [name, value] of Object.entries(headers)) if (value !== undefined) validateHeaderValue(name, Array.isArray(value) ? value.join(', ') : String(value));
      } catch (err) {
        relay.close();
        throw err instanceof UpstreamError ? err : new UpstreamError('failed', `the upstream registry answered GET ${path} with a header that cannot be relayed`);
      }
      // The relay writes to the socket itself: Fastify steps aside, so the headers set so far go with the relay's.
      reply.hijack();
      reply.raw.writeHead(relay.head.statusCode, headers);
      await relay.pipeTo(reply.raw);
      return reply;
    },

    startUpload(call, mount) {
      const { name, query } = call;
      const access = [repositoryAccess(name, 'pull', 'push')];
      if (mount) {
        access.push(repositoryAccess(mount.from, 'pull'));
        return forward(call, { path: `/v2/${name}/blobs/uploads/${queryString({ mount: mount.digest, from: mount.from }, ['mount', 'from'])}`, access });
      }
      // A refused mount becomes a plain upload: the client sends the bytes itself.
      return forward(call, { path: `/v2/${name}/blobs/uploads/${queryString(query, ['digest'])}`, access, body: true });
    },

    upload(call, id) {
      // The upstream's _state parameter is signed by it and passes untouched.
      // Cancelling is part of pushing for the caller; the upstream asks `delete` for it.
      const actions = call.request.method === 'DELETE' ? ['delete'] : ['pull', 'push'];
      return forward(call, { path: `/v2/${call.name}/blobs/uploads/${id}${rawQuery(call.request.url)}`, access: [repositoryAccess(call.name, ...actions)], body: true });
    },
  };
}
