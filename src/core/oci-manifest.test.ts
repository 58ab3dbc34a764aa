import { describe, it, expect } from 'vitest';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  MAX_MANIFEST_BYTES,
  OCI_INDEX,
  OCI_MANIFEST,
  baseMediaType,
  children,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  isValidDigest,
  negotiate,
  parseManifest,
} from './oci-manifest.js';
import { errorOf } from '../../test/helpers/errors.js';

const dg = (c: string) => `sha256:${c.repeat(64)}`;
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
const desc = (c: string, mediaType = LAYER_TYPE, size = 10) => ({ mediaType, digest: dg(c), size });
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

const ociImage = {
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: desc('c', CONFIG_TYPE),
  layers: [desc('1'), desc('2')],
};
const ociIndex = {
  schemaVersion: 2,
  mediaType: OCI_INDEX,
  manifests: [
    { ...desc('a', OCI_MANIFEST), platform: { architecture: 'amd64', os: 'linux' } },
    { ...desc('b', OCI_MANIFEST), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  ],
};


describe('isValidDigest', () => {
  it.each([
    [dg('a'), true],
    [dg('0'), true],
    [`sha256:${'A'.repeat(64)}`, false],
    [`sha256:${'a'.repeat(63)}`, false],
    [`sha256:${'a'.repeat(65)}`, false],
    [`sha512:${'a'.repeat(128)}`, false],
    [`sha256:${'g'.repeat(64)}`, false],
    ['a'.repeat(64), false],
    ['', false],
  ])('%s → %s', (digest, expected) => {
    expect(isValidDigest(digest)).toBe(expected);
  });
});

describe('media type predicates', () => {
  it.each([
    [OCI_MANIFEST, false, true, true],
    [DOCKER_MANIFEST, false, true, true],
    [OCI_INDEX, true, false, true],
    [DOCKER_MANIFEST_LIST, true, false, true],
    [`${OCI_INDEX}; charset=utf-8`, true, false, true],
    [OCI_MANIFEST.toUpperCase(), false, true, true],
    ['application/vnd.docker.distribution.manifest.v1+prettyjws', false, false, false],
    ['application/json', false, false, false],
    ['', false, false, false],
  ])('%s: index %s, image %s, manifest %s', (type, index, image, manifest) => {
    expect(isIndexMediaType(type)).toBe(index);
    expect(isImageManifestMediaType(type)).toBe(image);
    expect(isManifestMediaType(type)).toBe(manifest);
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    [' ; q=1', undefined],
    ['Application/JSON; charset=utf-8', 'application/json'],
  ])('baseMediaType(%j) = %j', (ct, expected) => {
    expect(baseMediaType(ct)).toBe(expected);
  });
});

describe('parseManifest accepts', () => {
  it('an OCI image manifest', () => {
    expect(parseManifest(bytes(ociImage), OCI_MANIFEST)).toEqual({
      mediaType: OCI_MANIFEST,
      kind: 'image',
      config: desc('c', CONFIG_TYPE),
      layers: [desc('1'), desc('2')],
      manifests: [],
    });
  });

  it('an OCI index, keeping platforms', () => {
    const m = parseManifest(bytes(ociIndex), undefined);
    expect(m.kind).toBe('index');
    expect(m.mediaType).toBe(OCI_INDEX);
    expect(m.layers).toEqual([]);
    expect(m.manifests.map((d) => d.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
    ]);
  });

  it('an OCI 1.1 artifact with subject, artifactType and annotations', () => {
    const body = {
      ...ociImage,
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      subject: desc('d', OCI_MANIFEST),
      annotations: { 'org.opencontainers.image.created': '2025-01-01T00:00:00Z' },
      layers: [{ ...desc('e'), annotations: { sig: 'abc' } }],
    };
    const m = parseManifest(bytes(body), OCI_MANIFEST);
    expect(m.subject).toEqual(desc('d', OCI_MANIFEST));
    expect(m.artifactType).toBe('application/vnd.dev.cosign.artifact.sig.v1+json');
    expect(m.annotations).toEqual({ 'org.opencontainers.image.created': '2025-01-01T00:00:00Z' });
    expect(m.layers[0]?.annotations).toEqual({ sig: 'abc' });
  });

  const dockerImage = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: desc('c', 'application/vnd.docker.container.image.v1+json'),
    layers: [desc('1', 'application/vnd.docker.image.rootfs.diff.tar.gzip')],
  };
  const dockerList = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST_LIST,
    manifests: [{ ...desc('a', DOCKER_MANIFEST), platform: { architecture: 'amd64', os: 'linux' } }],
  };
  const { mediaType: _omit, ...noMediaType } = ociImage;

  it.each([
    ['Docker schema2 manifest', dockerImage, DOCKER_MANIFEST, DOCKER_MANIFEST, 'image'],
    ['Docker manifest list', dockerList, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST_LIST, 'index'],
    ['media type from Content-Type only', noMediaType, OCI_MANIFEST, OCI_MANIFEST, 'image'],
    ['Content-Type with parameters', ociImage, `${OCI_MANIFEST}; charset=utf-8`, OCI_MANIFEST, 'image'],
    ['no Content-Type', ociImage, undefined, OCI_MANIFEST, 'image'],
    ['unknown fields', { ...ociImage, extra: { x: 1 }, layers: [{ ...desc('1'), data: 'AA==' }] }, OCI_MANIFEST, OCI_MANIFEST, 'image'],
    ['empty layers (artifact)', { ...ociImage, layers: [] }, OCI_MANIFEST, OCI_MANIFEST, 'image'],
    ['size 0', { ...ociImage, config: desc('c', CONFIG_TYPE, 0) }, OCI_MANIFEST, OCI_MANIFEST, 'image'],
    ['empty index', { ...ociIndex, manifests: [] }, OCI_INDEX, OCI_INDEX, 'index'],
  ])('%s', (_name, body, contentType, mediaType, kind) => {
    const m = parseManifest(bytes(body), contentType);
    expect(m.mediaType).toBe(mediaType);
    expect(m.kind).toBe(kind);
  });
});

describe('parseManifest refuses', () => {
  const schema1 = { schemaVersion: 1, name: 'acme/app', tag: '1.0', fsLayers: [] };
  it.each([
    ['not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), OCI_MANIFEST, 'body is not valid UTF-8'],
    ['not JSON', bytes('{"schemaVersion": 2,'), OCI_MANIFEST, 'body is not valid JSON'],
    ['a JSON array', bytes('[]'), OCI_MANIFEST, 'body must be a JSON object'],
    ['JSON null', bytes('null'), OCI_MANIFEST, 'body must be a JSON object'],
    ['schema1 by Content-Type', bytes(schema1), 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'schema1 manifests are not supported'],
    ['schema1 by body', bytes(schema1), undefined, 'schema1 manifests are not supported'],
    ['schema1 mediaType field', bytes({ ...ociImage, mediaType: 'application/vnd.docker.distribution.manifest.v1+json' }), undefined, 'schema1 manifests are not supported'],
    ['no schemaVersion', bytes({ ...ociImage, schemaVersion: undefined }), OCI_MANIFEST, 'schemaVersion must be 2'],
    ['schemaVersion "2"', bytes({ ...ociImage, schemaVersion: '2' }), OCI_MANIFEST, 'schemaVersion must be 2'],
    ['schemaVersion 3', bytes({ ...ociImage, schemaVersion: 3 }), OCI_MANIFEST, 'schemaVersion must be 2'],
    ['body and header disagree', bytes(ociImage), DOCKER_MANIFEST, 'does not match Content-Type'],
    ['generic Content-Type with a typed body', bytes(ociImage), 'application/json', 'does not match Content-Type'],
    ['no media type at all', bytes({ ...ociImage, mediaType: undefined }), undefined, 'no mediaType in the body and no Content-Type'],
    ['a non-string mediaType', bytes({ ...ociImage, mediaType: 2 }), OCI_MANIFEST, 'mediaType must be a string'],
    ['an unknown media type', bytes({ ...ociImage, mediaType: 'application/vnd.example+json' }), undefined, 'unsupported media type'],
    ['an image without config', bytes({ ...ociImage, config: undefined }), OCI_MANIFEST, 'needs a config descriptor'],
    ['an image without layers', bytes({ ...ociImage, layers: undefined }), OCI_MANIFEST, 'layers must be a list of descriptors'],
    ['an index without manifests', bytes({ ...ociIndex, manifests: undefined }), OCI_INDEX, 'manifests must be a list of descriptors'],
    ['an upper-case digest', bytes({ ...ociImage, layers: [{ ...desc('1'), digest: `sha256:${'A'.repeat(64)}` }] }), OCI_MANIFEST, 'layers[0].digest must be sha256:'],
    ['a sha512 digest', bytes({ ...ociImage, config: { ...desc('c'), digest: `sha512:${'a'.repeat(128)}` } }), OCI_MANIFEST, 'config.digest must be sha256:'],
    ['a negative size', bytes({ ...ociImage, layers: [desc('1'), desc('2', LAYER_TYPE, -1)] }), OCI_MANIFEST, 'layers[1].size must be a non-negative integer'],
    ['a fractional size', bytes({ ...ociImage, layers: [desc('1', LAYER_TYPE, 1.5)] }), OCI_MANIFEST, 'layers[0].size must be a non-negative integer'],
    ['a string size', bytes({ ...ociImage, layers: [{ ...desc('1'), size: '10' }] }), OCI_MANIFEST, 'layers[0].size must be a non-negative integer'],
    ['a descriptor without mediaType', bytes({ ...ociImage, layers: [{ digest: dg('1'), size: 1 }] }), OCI_MANIFEST, 'layers[0].mediaType must be a non-empty string'],
    ['a descriptor that is not an object', bytes({ ...ociIndex, manifests: ['x'] }), OCI_INDEX, 'manifests[0] must be a descriptor object'],
    ['a bad subject', bytes({ ...ociImage, subject: { ...desc('d'), size: -2 } }), OCI_MANIFEST, 'subject.size must be a non-negative integer'],
    ['non-string annotations', bytes({ ...ociImage, annotations: { a: 1 } }), OCI_MANIFEST, 'annotations["a"] must be a string'],
    ['a platform without os', bytes({ ...ociIndex, manifests: [{ ...desc('a', OCI_MANIFEST), platform: { architecture: 'amd64' } }] }), OCI_INDEX, 'manifests[0].platform.os must be a string'],
    ['a non-string artifactType', bytes({ ...ociImage, artifactType: 7 }), OCI_MANIFEST, 'artifactType must be a string'],
    ['bad urls', bytes({ ...ociImage, layers: [{ ...desc('1'), urls: [1] }] }), OCI_MANIFEST, 'layers[0].urls must be a list of strings'],
    ['a body over the limit', new Uint8Array(MAX_MANIFEST_BYTES + 1), OCI_MANIFEST, `larger than ${MAX_MANIFEST_BYTES} bytes`],
  ])('%s', (_name, body, contentType, message) => {
    const e = errorOf(() => parseManifest(body, contentType));
    expect(e.code).toBe('invalid_input');
    expect(e.field).toBe('manifest');
    expect(e.message).toContain(message);
    expect(e.message).toMatch(/^invalid manifest: /);
  });
});

describe('children', () => {
  it('of an image: config and layers as blobs, each digest once, no subject', () => {
    const m = parseManifest(bytes({ ...ociImage, layers: [desc('1'), desc('2'), desc('1')], subject: desc('d', OCI_MANIFEST) }), undefined);
    expect(children(m)).toEqual([
      { digest: dg('c'), kind: 'blob', mediaType: CONFIG_TYPE },
      { digest: dg('1'), kind: 'blob', mediaType: LAYER_TYPE },
      { digest: dg('2'), kind: 'blob', mediaType: LAYER_TYPE },
    ]);
  });

  it('of an index: its manifests', () => {
    expect(children(parseManifest(bytes(ociIndex), undefined))).toEqual([
      { digest: dg('a'), kind: 'manifest', mediaType: OCI_MANIFEST },
      { digest: dg('b'), kind: 'manifest', mediaType: OCI_MANIFEST },
    ]);
  });
});

describe('negotiate', () => {
  const all = `${OCI_MANIFEST}, ${OCI_INDEX}, ${DOCKER_MANIFEST}, ${DOCKER_MANIFEST_LIST}`;
  const cases: [accept: string | string[] | undefined, type: string, admitted: boolean][] = [
    [undefined, OCI_MANIFEST, true],
    [undefined, DOCKER_MANIFEST, true],
    [undefined, OCI_INDEX, false],
    [undefined, DOCKER_MANIFEST_LIST, false],
    ['', OCI_MANIFEST, true],
    ['', OCI_INDEX, false],
    [[], DOCKER_MANIFEST_LIST, false],
    ['*/*', OCI_INDEX, true],
    ['*/*', DOCKER_MANIFEST_LIST, true],
    ['application/*', OCI_INDEX, true],
    ['text/*', OCI_INDEX, false],
    [all, OCI_INDEX, true],
    [all, DOCKER_MANIFEST_LIST, true],
    [OCI_MANIFEST, OCI_MANIFEST, true],
    [OCI_MANIFEST, OCI_INDEX, false],
    [OCI_MANIFEST, DOCKER_MANIFEST, false],
    [DOCKER_MANIFEST, OCI_MANIFEST, false],
    [`${OCI_MANIFEST},${DOCKER_MANIFEST}`, OCI_INDEX, false],
    [[OCI_MANIFEST, OCI_INDEX], OCI_INDEX, true],
    [[DOCKER_MANIFEST, `${DOCKER_MANIFEST_LIST}, ${OCI_MANIFEST}`], DOCKER_MANIFEST_LIST, true],
    [`${OCI_INDEX};q=0.5`, OCI_INDEX, true],
    [`${DOCKER_MANIFEST}; q=0.9, ${OCI_MANIFEST}; q=0.1`, OCI_MANIFEST, true],
    [OCI_INDEX.toUpperCase(), OCI_INDEX, true],
    ['application/json', OCI_MANIFEST, false],
    ['application/json', OCI_INDEX, false],
    [' , ', OCI_MANIFEST, true],
  ];
  it.each(cases)('Accept %j admits %s: %s', (accept, type, admitted) => {
    expect(negotiate(type, accept)).toBe(admitted);
  });
});
