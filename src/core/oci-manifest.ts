import { invalid, type PortcullisError } from './errors.js';
import { quote } from './text.js';

/**
 * Manifests as the OCI Image Spec and Docker schema2 define them: just enough
 * parsing to validate a push, find what a manifest references, and decide what
 * a client's Accept header admits. Unknown fields are allowed, as both specs
 * require; the stored bytes stay the pushed bytes, so nothing is lost.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const DOCKER_SCHEMA1_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json',
]);

/** Distribution's default limit; a bigger body is refused before it is parsed. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

const IMAGE_TYPES: ReadonlySet<string> = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);
// Only sha256: the store addresses blobs by it, and every client uses it.
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const FIELD = 'manifest';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface ParsedManifest {
  /** One of the four constants above, whatever case the client used. */
  mediaType: string;
  kind: 'image' | 'index';
  config?: Descriptor;
  layers: Descriptor[];
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ManifestChild {
  digest: string;
  kind: 'manifest' | 'blob';
  mediaType: string;
}

export function isValidDigest(digest: string): boolean {
  return typeof digest === 'string' && DIGEST_RE.test(digest);
}

/** `Application/JSON; charset=utf-8` → `application/json`; empty → undefined. */
export function baseMediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const base = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return base === '' ? undefined : base;
}

export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_TYPES.has(baseMediaType(mediaType) ?? '');
}

export function isImageManifestMediaType(mediaType: string): boolean {
  return IMAGE_TYPES.has(baseMediaType(mediaType) ?? '');
}

/** Any manifest type this registry stores: an image manifest or an index. */
export function isManifestMediaType(mediaType: string): boolean {
  return isImageManifestMediaType(mediaType) || isIndexMediaType(mediaType);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(why: string): PortcullisError {
  return invalid(`invalid manifest: ${why}`, FIELD);
}

function optionalString(v: unknown, where: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${where} must be a string`);
  return v;
}

function annotationsAt(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw bad(`${where} must be an object of strings`);
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw bad(`${where}[${quote(key)}] must be a string`);
  }
  return { ...(v as Record<string, string>) };
}

function platformAt(v: unknown, where: string): Platform | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw bad(`${where} must be an object`);
  if (typeof v.architecture !== 'string') throw bad(`${where}.architecture must be a string`);
  if (typeof v.os !== 'string') throw bad(`${where}.os must be a string`);
  const variant = optionalString(v.variant, `${where}.variant`);
  return { architecture: v.architecture, os: v.os, ...(variant !== undefined && { variant }) };
}

function urlsAt(v: unknown, where: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((u) => typeof u === 'string')) throw bad(`${where} must be a list of strings`);
  return [...(v as string[])];
}

function descriptorAt(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw bad(`${where} must be a descriptor object`);
  if (typeof v.mediaType !== 'string' || v.mediaType === '') throw bad(`${where}.mediaType must be a non-empty string`);
  if (typeof v.digest !== 'string' || !isValidDigest(v.digest)) {
    throw bad(`${where}.digest must be sha256: followed by 64 lower-case hex digits`);
  }
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw bad(`${where}.size must be a non-negative integer`);
  }
  const artifactType = optionalString(v.artifactType, `${where}.artifactType`);
  const annotations = annotationsAt(v.annotations, `${where}.annotations`);
  const platform = platformAt(v.platform, `${where}.platform`);
  const urls = urlsAt(v.urls, `${where}.urls`);
  return {
    mediaType: v.mediaType,
    digest: v.digest,
    size: v.size,
    ...(artifactType !== undefined && { artifactType }),
    ...(annotations !== undefined && { annotations }),
    ...(platform !== undefined && { platform }),
    ...(urls !== undefined && { urls }),
  };
}

function descriptorsAt(v: unknown, where: string): Descriptor[] {
  if (!Array.isArray(v)) throw bad(`${where} must be a list of descriptors`);
  return v.map((d, i) => descriptorAt(d, `${where}[${i}]`));
}

function schema1(): PortcullisError {
  return bad('schema1 manifests are not supported; push a Docker schema2 or OCI manifest');
}

function decode(bytes: Uint8Array): Json {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) throw bad(`larger than ${MAX_MANIFEST_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad('body is not valid UTF-8');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw bad(`body is not valid JSON (${e instanceof Error ? e.message : 'parse error'})`);
  }
  if (!isObject(body)) throw bad('body must be a JSON object');
  return body;
}

/** The manifest's own mediaType field wins; Content-Type only fills in when the body has none. */
function resolveMediaType(body: Json, contentType: string | undefined): string {
  const header = baseMediaType(contentType);
  if (body.mediaType !== undefined && typeof body.mediaType !== 'string') throw bad('mediaType must be a string');
  const declared = baseMediaType(body.mediaType);
  if (declared !== undefined && DOCKER_SCHEMA1_TYPES.has(declared)) throw schema1();
  if (declared !== undefined && header !== undefined && declared !== header) {
    throw bad(`mediaType ${quote(declared)} does not match Content-Type ${quote(header)}`);
  }
  const mediaType = declared ?? header;
  if (mediaType === undefined) throw bad('no mediaType in the body and no Content-Type');
  if (!IMAGE_TYPES.has(mediaType) && !INDEX_TYPES.has(mediaType)) {
    throw bad(`unsupported media type ${quote(mediaType)}`);
  }
  return mediaType;
}

export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  if (DOCKER_SCHEMA1_TYPES.has(baseMediaType(contentType) ?? '')) throw schema1();
  const body = decode(bytes);
  if (body.schemaVersion === 1) throw schema1();
  if (body.schemaVersion !== 2) throw bad('schemaVersion must be 2');
  const mediaType = resolveMediaType(body, contentType);
  const kind = INDEX_TYPES.has(mediaType) ? 'index' : 'image';

  const subject = body.subject === undefined ? undefined : descriptorAt(body.subject, 'subject');
  const artifactType = optionalString(body.artifactType, 'artifactType');
  const annotations = annotationsAt(body.annotations, 'annotations');
  const common = {
    mediaType,
    ...(subject !== undefined && { subject }),
    ...(artifactType !== undefined && { artifactType }),
    ...(annotations !== undefined && { annotations }),
  };

  if (kind === 'index') {
    return { ...common, kind, layers: [], manifests: descriptorsAt(body.manifests, 'manifests') };
  }
  if (body.config === undefined) throw bad('an image manifest needs a config descriptor');
  const config = descriptorAt(body.config, 'config');
  return { ...common, kind, config, layers: descriptorsAt(body.layers, 'layers'), manifests: [] };
}

/**
 * What a manifest holds on to, each digest once (a layer may repeat, and an
 * artifact may use the empty descriptor as both config and layer). The subject
 * is left out: it points back at the manifest this one describes, it does not
 * keep it alive.
 */
export function children(m: ParsedManifest): ManifestChild[] {
  const seen = new Set<string>();
  const out: ManifestChild[] = [];
  const add = (d: Descriptor, kind: ManifestChild['kind']) => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    out.push({ digest: d.digest, kind, mediaType: d.mediaType });
  };
  if (m.kind === 'index') {
    for (const d of m.manifests) add(d, 'manifest');
  } else {
    if (m.config) add(m.config, 'blob');
    for (const d of m.layers) add(d, 'blob');
  }
  return out;
}

function acceptedRanges(accept: readonly string[] | string | undefined): string[] {
  if (accept === undefined) return [];
  const headers = typeof accept === 'string' ? [accept] : accept;
  return headers
    .flatMap((h) => h.split(','))
    .map((r) => baseMediaType(r))
    .filter((r): r is string => r !== undefined);
}

/**
 * Does the client's Accept admit a stored manifest of this media type?
 *
 * - No Accept (or an empty one) admits image manifests only. Distribution
 *   answers 404 MANIFEST_UNKNOWN for an index the client did not ask for,
 *   because an old client would try to run the index as an image; treating
 *   OCI and schema2 manifests as the default keeps `curl` and old clients working.
 * - Otherwise the type must be listed, or covered by `*\/*` or `application/*`.
 * - Parameters, q-values included, are ignored, as distribution does; values may
 *   come comma-separated in one header or in several headers.
 *
 * Whether to apply this to fetches by digest is the caller's call.
 */
export function negotiate(mediaType: string, accept: readonly string[] | string | undefined): boolean {
  const type = baseMediaType(mediaType) ?? '';
  const ranges = acceptedRanges(accept);
  if (ranges.length === 0) return IMAGE_TYPES.has(type);
  return ranges.some((r) => r === '*/*' || r === type || (r.endsWith('/*') && type.startsWith(r.slice(0, -1))));
}
