/**
 * Small OCI images built by hand, and a client for the built-in registry's
 * /v2 API over `app.inject`, for in-process HTTP tests. Every response the
 * client sees is checked for what the whole /v2 surface owes: the
 * `Docker-Distribution-Api-Version` header and, on errors, the OCI error body.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { CreatedToken } from '../../src/service/tokens.js';

export const MT = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

export const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Bytes with their digest and the media type a descriptor of them carries. */
export interface Content {
  mediaType: string;
  bytes: Buffer;
  digest: string;
  size: number;
}

export function content(data: Buffer | string, mediaType: string): Content {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return { mediaType, bytes, digest: sha256(bytes), size: bytes.length };
}

export const blob = (data: Buffer | string, mediaType: string = MT.layer): Content => content(data, mediaType);

export function descriptor(c: Content, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType: c.mediaType, digest: c.digest, size: c.size, ...extra };
}

/** An image config with a distinct `created` so that each call's digest differs by `label`. */
export function imageConfig(label: string, architecture = 'amd64'): Content {
  return content(JSON.stringify({ architecture, os: 'linux', created: '2026-01-01T00:00:00Z', config: { Labels: { label } }, rootfs: { type: 'layers', diff_ids: [] } }), MT.config);
}

export interface ManifestOptions {
  config: Content;
  layers: Content[];
  subject?: Content;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function imageManifest(o: ManifestOptions): Content {
  const json = {
    schemaVersion: 2,
    mediaType: MT.manifest,
    ...(o.artifactType !== undefined && { artifactType: o.artifactType }),
    config: descriptor(o.config),
    layers: o.layers.map((l) => descriptor(l)),
    ...(o.subject !== undefined && { subject: descriptor(o.subject) }),
    ...(o.annotations !== undefined && { annotations: o.annotations }),
  };
  // Two-space indentation: the registry must keep the pushed bytes, not re-serialize them.
  return content(JSON.stringify(json, null, 2), MT.manifest);
}

export function imageIndex(o: { manifests: { manifest: Content; platform?: { os: string; architecture: string } }[]; subject?: Content; artifactType?: string; annotations?: Record<string, string> }): Content {
  const json = {
    schemaVersion: 2,
    mediaType: MT.index,
    ...(o.artifactType !== undefined && { artifactType: o.artifactType }),
    manifests: o.manifests.map((m) => descriptor(m.manifest, m.platform ? { platform: m.platform } : {})),
    ...(o.subject !== undefined && { subject: descriptor(o.subject) }),
    ...(o.annotations !== undefined && { annotations: o.annotations }),
  };
  return content(JSON.stringify(json), MT.index);
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
export const auth = (t: CreatedToken): string => basic(t.token.id, t.secret);

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  body?: Buffer | string;
  headers?: Record<string, string>;
  /** Defaults to application/octet-stream when there is a body. */
  contentType?: string;
}

/** `{errors:[{code,message,detail}]}` with the given status and code; returns the first error. */
export function expectOciError(res: LightMyRequestResponse, status: number, code: string): { code: string; message: string; detail: unknown } {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json() as { errors: { code: string; message: string; detail: unknown }[] };
  expect(body.errors[0]?.code, res.body).toBe(code);
  return body.errors[0]!;
}

function checkEnvelope(method: string, url: string, res: LightMyRequestResponse): void {
  expect(res.headers['docker-distribution-api-version'], `${method} ${url}`).toBe('registry/2.0');
  if (res.statusCode < 400 || method === 'HEAD' || res.body === '') return;
  const body = res.json() as { errors?: unknown };
  expect(Array.isArray(body.errors) && body.errors.length > 0, `${method} ${url}: ${res.body}`).toBe(true);
  for (const e of body.errors as Record<string, unknown>[]) {
    expect(typeof e.code, `${method} ${url}: ${res.body}`).toBe('string');
    expect(typeof e.message, `${method} ${url}: ${res.body}`).toBe('string');
    expect(e, `${method} ${url}: ${res.body}`).toHaveProperty('detail');
  }
}

/** The /v2 API as one caller (an Authorization header, or none). */
export class V2Client {
  constructor(
    private readonly app: FastifyInstance,
    readonly authorization?: string,
  ) {}

  as(authorization: string | undefined): V2Client {
    return new V2Client(this.app, authorization);
  }

  async request(method: Method, url: string, o: RequestOptions = {}): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {};
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    if (o.body !== undefined) headers['content-type'] = o.contentType ?? 'application/octet-stream';
    Object.assign(headers, o.headers);
    const options: InjectOptions = { method, url, headers, ...(o.body !== undefined && { payload: o.body }) };
    const res = await this.app.inject(options);
    checkEnvelope(method, url, res);
    return res;
  }

  get = (url: string, o?: RequestOptions) => this.request('GET', url, o);
  head = (url: string, o?: RequestOptions) => this.request('HEAD', url, o);
  put = (url: string, o?: RequestOptions) => this.request('PUT', url, o);
  post = (url: string, o?: RequestOptions) => this.request('POST', url, o);
  patch = (url: string, o?: RequestOptions) => this.request('PATCH', url, o);
  delete = (url: string, o?: RequestOptions) => this.request('DELETE', url, o);

  /** Monolithic upload (single POST, or POST then PUT); fails the test unless it ends in 201. */
  async pushBlob(repository: string, c: Content): Promise<LightMyRequestResponse> {
    let res = await this.post(`/v2/${repository}/blobs/uploads/?digest=${c.digest}`, { body: c.bytes });
    if (res.statusCode === 202) {
      // A registry may open a session instead (distribution 2.8 does): then the bytes go with the closing PUT.
      const location = String(res.headers.location);
      res = await this.put(`${location}${location.includes('?') ? '&' : '?'}digest=${c.digest}`, { body: c.bytes });
    }
    expect(res.statusCode, `push blob to ${repository}: ${res.body}`).toBe(201);
    return res;
  }

  async putManifest(repository: string, reference: string, m: Content, contentType = m.mediaType): Promise<LightMyRequestResponse> {
    return this.put(`/v2/${repository}/manifests/${reference}`, { body: m.bytes, contentType });
  }

  /** PUT a manifest; fails the test unless it answers 201. */
  async pushManifest(repository: string, reference: string, m: Content): Promise<LightMyRequestResponse> {
    const res = await this.putManifest(repository, reference, m);
    expect(res.statusCode, `push manifest ${repository}:${reference}: ${res.body}`).toBe(201);
    return res;
  }

  /** The config and layers (monolithic uploads), then the manifest under `reference`. */
  async pushImage(repository: string, reference: string, m: Content, blobs: Content[]): Promise<LightMyRequestResponse> {
    for (const b of blobs) await this.pushBlob(repository, b);
    return this.pushManifest(repository, reference, m);
  }
}

/** The `<url>` of a `Link: <url>; rel="next"` header, or undefined. */
export function nextLink(res: LightMyRequestResponse): string | undefined {
  const link = res.headers.link;
  if (typeof link !== 'string') return undefined;
  const m = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  expect(m, `Link header ${link}`).not.toBeNull();
  return m![1];
}
