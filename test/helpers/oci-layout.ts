/**
 * Builds OCI image layouts on disk (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
 * so e2e tests can push real images with `skopeo copy oci:DIR:REF docker://…`
 * without internet access or a container engine.
 *
 * Everything is deterministic (fixed mtime, fixed `created`, gzip without a
 * timestamp): the same call gives the same digests, and a different ref,
 * platform or `content` gives different ones.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

const REF_ANNOTATION = 'org.opencontainers.image.ref.name';
/** 2026-01-01T00:00:00Z: any fixed time keeps the digests stable. */
const FIXED_TIME = new Date('2026-01-01T00:00:00Z');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageOptions {
  /** Tag in the layout (`org.opencontainers.image.ref.name`); an existing entry with that ref is replaced. */
  ref: string;
  /** One platform → an image manifest; several → an image index. Default linux/amd64. */
  platforms?: Platform[];
  /** Extra text in each layer's file, to make images with the same ref differ. */
  content?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface BuiltManifest {
  digest: string;
  size: number;
  platform: Platform;
  config: string;
  layers: string[];
}

export interface BuiltImage {
  ref: string;
  /** Digest of what the ref points at: the manifest (one platform) or the index. */
  digest: string;
  mediaType: typeof MEDIA_TYPES.index | typeof MEDIA_TYPES.manifest;
  size: number;
  /** One per platform, in the order given. */
  manifests: BuiltManifest[];
}

const sha256 = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Writes a content-addressed blob and returns its descriptor. */
async function writeBlob(dir: string, mediaType: string, data: Buffer): Promise<Descriptor> {
  const digest = sha256(data);
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), data);
  return { mediaType, digest, size: data.length };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

/**
 * A one-file ustar archive. Hand-written because the format is tiny and the
 * system tar's output varies between versions (digests must not).
 */
export function tarFile(name: string, body: Buffer, mtime = FIXED_TIME): Buffer {
  const header = Buffer.alloc(512);
  const put = (offset: number, length: number, value: string): void => {
    header.write(value, offset, length, 'ascii');
  };
  const octal = (n: number, width: number): string => n.toString(8).padStart(width - 1, '0') + '\0';
  put(0, 100, name);
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8)); // uid
  put(116, 8, octal(0, 8)); // gid
  put(124, 12, octal(body.length, 12));
  put(136, 12, octal(Math.floor(mtime.getTime() / 1000), 12));
  put(148, 8, ' '.repeat(8)); // checksum is computed with its own field as spaces
  put(156, 1, '0'); // regular file
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(265, 32, 'root');
  put(297, 32, 'root');
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]); // two zero blocks end the archive
}

function platformName(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

async function writeImageManifest(dir: string, ref: string, platform: Platform, content: string): Promise<BuiltManifest> {
  const text = `ref: ${ref}\nplatform: ${platformName(platform)}\n${content ? `content: ${content}\n` : ''}`;
  const tar = tarFile('portcullis-test.txt', Buffer.from(text));
  const layer = await writeBlob(dir, MEDIA_TYPES.layer, gzipSync(tar));
  const config = await writeBlob(
    dir,
    MEDIA_TYPES.config,
    json({
      created: FIXED_TIME.toISOString(),
      ...platform,
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    }),
  );
  const manifest = await writeBlob(
    dir,
    MEDIA_TYPES.manifest,
    json({ schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config, layers: [layer] }),
  );
  return { digest: manifest.digest, size: manifest.size, platform, config: config.digest, layers: [layer.digest] };
}

interface IndexJson {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/**
 * Adds an image under `ref` to the OCI layout in `dir` (created if needed);
 * several refs can share a layout. Not safe to call concurrently on one dir
 * (index.json is read, changed and rewritten): await each call.
 */
export async function buildImageLayout(dir: string, options: ImageOptions): Promise<BuiltImage> {
  const { ref, platforms = [{ os: 'linux', architecture: 'amd64' }], content = '' } = options;
  if (platforms.length === 0) throw new Error('buildImageLayout: at least one platform');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  const manifests: BuiltManifest[] = [];
  for (const platform of platforms) manifests.push(await writeImageManifest(dir, ref, platform, content));

  let top: Descriptor;
  if (manifests.length === 1) {
    const [m] = manifests as [BuiltManifest];
    top = { mediaType: MEDIA_TYPES.manifest, digest: m.digest, size: m.size, platform: m.platform };
  } else {
    const index = json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: manifests.map((m) => ({ mediaType: MEDIA_TYPES.manifest, digest: m.digest, size: m.size, platform: m.platform })),
    });
    top = await writeBlob(dir, MEDIA_TYPES.index, index);
  }

  const indexPath = join(dir, 'index.json');
  const layout: IndexJson = existsSync(indexPath)
    ? (JSON.parse(await readFile(indexPath, 'utf8')) as IndexJson)
    : { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [] };
  // Replace rather than duplicate: two entries with one ref make `oci:DIR:REF` ambiguous.
  layout.manifests = layout.manifests.filter((d) => d.annotations?.[REF_ANNOTATION] !== ref);
  layout.manifests.push({ ...top, annotations: { [REF_ANNOTATION]: ref } });
  await writeFile(indexPath, JSON.stringify(layout, null, 2));

  return { ref, digest: top.digest, mediaType: top.mediaType as BuiltImage['mediaType'], size: top.size, manifests };
}
