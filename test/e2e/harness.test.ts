/**
 * Smoke test of the e2e harness itself: an open docker-registry, images built
 * by the layout builder, pushed and read back with the real skopeo.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDistribution, type Distribution } from '../helpers/distribution.js';
import { buildImageLayout, MEDIA_TYPES, type BuiltImage } from '../helpers/oci-layout.js';
import { copyToRegistry, inspect, skopeo } from '../helpers/skopeo.js';
import { describeE2E } from '../helpers/system-tools.js';

interface OciIndex {
  mediaType: string;
  manifests: { digest: string; platform: { os: string; architecture: string } }[];
}

describeE2E('e2e harness: docker-registry + OCI layout + skopeo', () => {
  let registry: Distribution;
  let layoutDir: string;
  let single: BuiltImage;
  let multi: BuiltImage;

  beforeAll(async () => {
    layoutDir = mkdtempSync(join(tmpdir(), 'portcullis-layout-'));
    single = await buildImageLayout(layoutDir, { ref: '1.0' });
    multi = await buildImageLayout(layoutDir, {
      ref: '2.0',
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
    });
    registry = await startDistribution();
  });

  afterAll(async () => {
    await registry?.stop();
    if (layoutDir) rmSync(layoutDir, { recursive: true, force: true });
  });

  it('builds deterministic, distinct images', async () => {
    expect(single.mediaType).toBe(MEDIA_TYPES.manifest);
    expect(multi.mediaType).toBe(MEDIA_TYPES.index);
    expect(multi.manifests.map((m) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    const digests = new Set([single.digest, multi.digest, ...multi.manifests.flatMap((m) => [m.digest, ...m.layers])]);
    expect(digests.size).toBe(2 + 2 * 2);
    // Same input, same digests: a rebuild elsewhere gives the same blobs.
    const again = mkdtempSync(join(tmpdir(), 'portcullis-layout-'));
    try {
      expect((await buildImageLayout(again, { ref: '1.0' })).digest).toBe(single.digest);
      expect((await buildImageLayout(again, { ref: '1.0', content: 'other' })).digest).not.toBe(single.digest);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it('pushes a single-platform image and a two-platform index with skopeo', async () => {
    const one = await copyToRegistry(layoutDir, '1.0', `${registry.host}/acme/app:1.0`);
    expect(one.code, one.stderr).toBe(0);
    const two = await copyToRegistry(layoutDir, '2.0', `${registry.host}/acme/app:2.0`, undefined, { all: true });
    expect(two.code, two.stderr).toBe(0);

    const tags = await skopeo(['list-tags', '--tls-verify=false', `docker://${registry.host}/acme/app`]);
    expect(tags.code, tags.stderr).toBe(0);
    expect((JSON.parse(tags.stdout) as { Tags: string[] }).Tags.sort()).toEqual(['1.0', '2.0']);
  });

  it('reads back the index unchanged and each platform by architecture', async () => {
    const raw = await inspect<OciIndex>(`${registry.host}/acme/app:2.0`, undefined, ['--raw']);
    expect(raw.ok, raw.result.stderr).toBe(true);
    if (!raw.ok) return;
    expect(raw.json.mediaType).toBe(MEDIA_TYPES.index);
    expect(raw.json.manifests.map((m) => m.digest)).toEqual(multi.manifests.map((m) => m.digest));

    type Inspected = { Architecture: string; Os: string; Digest: string; Layers: string[] };
    const arm = await inspect<Inspected>(`${registry.host}/acme/app:2.0`, undefined, ['--override-arch', 'arm64']);
    expect(arm.ok, arm.result.stderr).toBe(true);
    if (!arm.ok) return;
    expect(arm.json.Architecture).toBe('arm64');
    expect(arm.json.Os).toBe('linux');
    // skopeo reports the digest of what the tag points at (the index) and the chosen platform's layers.
    expect(arm.json.Digest).toBe(multi.digest);
    expect(arm.json.Layers).toEqual(multi.manifests[1]?.layers);

    const one = await inspect<{ Digest: string }>(`${registry.host}/acme/app:1.0`);
    expect(one.ok, one.result.stderr).toBe(true);
    if (one.ok) expect(one.json.Digest).toBe(single.digest);
  });

  it('reports a failed command instead of throwing, and keeps the registry log', async () => {
    const missing = await inspect(`${registry.host}/acme/nothing:1.0`);
    expect(missing.ok).toBe(false);
    expect(missing.result.code).not.toBe(0);
    expect(registry.logs()).toContain('/v2/acme/app/manifests/2.0');
  });
});
