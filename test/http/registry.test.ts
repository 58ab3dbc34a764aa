/**
 * The built-in registry over HTTP, in process, against the OCI Distribution
 * Spec 1.1: uploads (monolithic, POST+PUT, chunked), mounts, blob and
 * manifest reads and deletes, tags and catalog listing, referrers, and the
 * authorization rules of DESIGN §4 as the /v2 API applies them. Images are
 * built by hand (test/helpers/oci-http.ts) and pushed through the API itself.
 * (The skopeo round trip lives in test/e2e/builtin-registry.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createCustomer } from '../../src/service/customers.js';
import { changeLicenseStatus, createLicense } from '../../src/service/licenses.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createVendor } from '../../src/service/vendors.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import {
  auth,
  blob,
  content,
  expectOciError,
  imageConfig,
  imageIndex,
  imageManifest,
  MT,
  nextLink,
  sha256,
  V2Client,
} from '../helpers/oci-http.js';

const SIGNATURE = 'application/vnd.example.signature.v1';
const SBOM_CONFIG = 'application/vnd.example.sbom.config.v1+json';
const REALM = 'http://127.0.0.1:5000/token';

/** `<location>?digest=…`, keeping any query the registry put in the Location. */
const withDigest = (location: string, digest: string) => `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`;
const header = (value: string | string[] | number | undefined) => (value === undefined ? undefined : String(value));

// acme/app: 1.0 → m1 (amd64), 1.1 → index of m1 and m3 (arm64), 2.0 → m2.
const cfg1 = imageConfig('app 1.0');
const layer1 = blob('layer one: 0123456789abcdefghijklmnopqrstuvwxyz');
const m1 = imageManifest({ config: cfg1, layers: [layer1] });
const cfg3 = imageConfig('app 1.1 arm64', 'arm64');
const layer3 = blob('layer three, for arm64');
const m3 = imageManifest({ config: cfg3, layers: [layer3] });
const index11 = imageIndex({
  manifests: [
    { manifest: m1, platform: { os: 'linux', architecture: 'amd64' } },
    { manifest: m3, platform: { os: 'linux', architecture: 'arm64' } },
  ],
});
const cfg2 = imageConfig('app 2.0');
const layer2 = blob('layer two: only 2.0 reaches this');
const m2 = imageManifest({ config: cfg2, layers: [layer2] });

// Referrers: a signature and an SBOM of m1 (reachable from 1.0), a signature of m2 (only from 2.0).
const EMPTY = content('{}', MT.empty);
const sigLayer1 = blob('signature of m1', 'application/vnd.example.signature.payload.v1+json');
const sig1 = imageManifest({ artifactType: SIGNATURE, config: EMPTY, layers: [sigLayer1], subject: m1, annotations: { 'org.example.signature.fingerprint': 'abcd' } });
const sbomConfig = content('{"format":"spdx"}', SBOM_CONFIG);
const sbomLayer = blob('{"spdxVersion":"SPDX-2.3"}', 'application/spdx+json');
// No artifactType: the referrers API must report the config's media type.
const sbom1 = imageManifest({ config: sbomConfig, layers: [sbomLayer], subject: m1, annotations: { 'org.example.sbom.format': 'json' } });
const sigLayer2 = blob('signature of m2', 'application/vnd.example.signature.payload.v1+json');
const sig2 = imageManifest({ artifactType: SIGNATURE, config: EMPTY, layers: [sigLayer2], subject: m2 });

// beta/x, another vendor's repository.
const betaCfg = imageConfig('beta x');
const betaLayer = blob('beta layer, not for acme');
const betaM = imageManifest({ config: betaCfg, layers: [betaLayer] });

describe('built-in registry over HTTP (OCI Distribution 1.1)', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let acme: Caller;
  const t: Record<string, CreatedToken> = {};
  const pushed: Record<string, Awaited<ReturnType<V2Client['pushManifest']>>> = {};
  let initechLicense: string;
  /** One client per caller. */
  let vendor: V2Client;
  let pullOnly: V2Client;
  let customer: V2Client;
  let initech: V2Client;
  let betaVendor: V2Client;
  let operator: V2Client;
  let anonymous: V2Client;

  beforeAll(async () => {
    inst = await startInstance();
    app = await buildApp(inst.runtime);
    const rt = inst.runtime;
    const acmeVendor = await createVendor(rt, inst.caller, { name: 'acme' });
    acme = ownerCaller(acmeVendor, { name: 'test', source: 'test' });
    const betaV = await createVendor(rt, inst.caller, { name: 'beta' });
    const beta: Caller = ownerCaller(betaV, { name: 'test', source: 'test' });
    const globex = await createCustomer(rt, acme, { name: 'globex' });
    await createLicense(rt, acme, { customer: globex.id, repositories: 'acme/app', tags: '1.*', validUntil: '30d' });
    const initechCustomer = await createCustomer(rt, acme, { name: 'initech' });
    initechLicense = (await createLicense(rt, acme, { customer: initechCustomer.id, repositories: 'acme/app' })).id;

    t.vendor = await createToken(rt, acme, { type: 'vendor', name: 'ci' });
    t.pullOnly = await createToken(rt, acme, { type: 'vendor', name: 'reader', scopes: 'pull' });
    t.customer = await createToken(rt, acme, { type: 'customer', name: 'prod', customer: globex.id });
    t.initech = await createToken(rt, acme, { type: 'customer', name: 'initech', customer: initechCustomer.id });
    t.beta = await createToken(rt, beta, { type: 'vendor', name: 'beta-ci' });

    anonymous = new V2Client(app);
    vendor = anonymous.as(auth(t.vendor));
    pullOnly = anonymous.as(auth(t.pullOnly));
    customer = anonymous.as(auth(t.customer));
    initech = anonymous.as(auth(t.initech));
    betaVendor = anonymous.as(auth(t.beta));
    operator = anonymous.as(auth(inst.bootstrap));

    pushed.m1 = await vendor.pushImage('acme/app', '1.0', m1, [cfg1, layer1]);
    pushed.m3 = await vendor.pushImage('acme/app', m3.digest, m3, [cfg3, layer3]);
    pushed.index11 = await vendor.pushManifest('acme/app', '1.1', index11);
    pushed.m2 = await vendor.pushImage('acme/app', '2.0', m2, [cfg2, layer2]);
    pushed.sig1 = await vendor.pushImage('acme/app', sig1.digest, sig1, [EMPTY, sigLayer1]);
    pushed.sbom1 = await vendor.pushImage('acme/app', sbom1.digest, sbom1, [sbomConfig, sbomLayer]);
    pushed.sig2 = await vendor.pushImage('acme/app', sig2.digest, sig2, [EMPTY, sigLayer2]);
    pushed.beta = await betaVendor.pushImage('beta/x', '1.0', betaM, [betaCfg, betaLayer]);
  });

  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  describe('the /v2 envelope', () => {
    it('GET /v2/ answers 200 {} with the API version header', async () => {
      const res = await vendor.get('/v2/');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});
    });

    it('an unauthenticated request gets 401, the Bearer challenge, the version header and an OCI error', async () => {
      const res = await anonymous.get('/v2/acme/app/tags/list');
      expectOciError(res, 401, 'UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toBe(`Bearer realm="${REALM}",service="portcullis",scope="repository:acme/app:pull"`);
    });

    it('an unknown endpoint and a method an endpoint does not take are OCI errors too', async () => {
      expectOciError(await vendor.get('/v2/acme/app/nothing-here'), 404, 'NAME_UNKNOWN');
      expect((await vendor.post('/v2/acme/app/tags/list')).statusCode).toBe(405);
      expect((await vendor.request('PATCH', `/v2/acme/app/blobs/${layer1.digest}`, { body: 'x' })).statusCode).toBe(405);
    });
  });

  describe('blob uploads', () => {
    const repo = 'acme/uploads';

    it('a single POST with ?digest= stores the blob: 201 with Location and Docker-Content-Digest', async () => {
      const b = blob('monolithic single POST');
      const res = await vendor.post(`/v2/${repo}/blobs/uploads/?digest=${b.digest}`, { body: b.bytes });
      expect(res.statusCode).toBe(201);
      expect(res.headers.location).toBe(`/v2/${repo}/blobs/${b.digest}`);
      expect(res.headers['docker-content-digest']).toBe(b.digest);
      expect(res.body).toBe('');
      const got = await vendor.get(`/v2/${repo}/blobs/${b.digest}`);
      expect(got.statusCode).toBe(200);
      expect(got.rawPayload).toEqual(b.bytes);
    });

    it('a blob larger than the 1 MiB JSON body limit streams through, monolithic and chunked', async () => {
      const big = blob(Buffer.alloc(2 * 1024 * 1024 + 17, 7));
      await vendor.pushBlob(repo, big);
      const head = await vendor.head(`/v2/${repo}/blobs/${big.digest}`);
      expect(header(head.headers['content-length'])).toBe(String(big.size));

      const big2 = blob(Buffer.alloc(1536 * 1024, 9));
      const start = await vendor.post(`/v2/${repo}/blobs/uploads/`);
      const patch = await vendor.patch(start.headers.location as string, { body: big2.bytes, headers: { 'content-range': `0-${big2.size - 1}` } });
      expect(patch.statusCode, patch.body).toBe(202);
      expect(patch.headers.range).toBe(`0-${big2.size - 1}`);
      expect((await vendor.put(withDigest(patch.headers.location as string, big2.digest))).statusCode).toBe(201);
    });

    it('POST then PUT with the whole body: 202 with an upload URL, then 201', async () => {
      const b = blob('POST then PUT');
      const start = await vendor.post(`/v2/${repo}/blobs/uploads/`);
      expect(start.statusCode).toBe(202);
      const location = start.headers.location as string;
      expect(location).toMatch(new RegExp(`^/v2/${repo}/blobs/uploads/[^/?]+`));
      const put = await vendor.put(withDigest(location, b.digest), { body: b.bytes });
      expect(put.statusCode, put.body).toBe(201);
      expect(put.headers.location).toBe(`/v2/${repo}/blobs/${b.digest}`);
      expect(put.headers['docker-content-digest']).toBe(b.digest);
      expect((await vendor.get(`/v2/${repo}/blobs/${b.digest}`)).rawPayload).toEqual(b.bytes);
    });

    it('chunked: POST 202 (Location, Docker-Upload-UUID, Range 0-0), two PATCHes, GET status 204, PUT ?digest= 201', async () => {
      const part1 = Buffer.from('0123456789');
      const part2 = Buffer.from('abcdefghijklmnop');
      const whole = blob(Buffer.concat([part1, part2]));

      const start = await vendor.post(`/v2/${repo}/blobs/uploads/`, { headers: { 'content-length': '0' } });
      expect(start.statusCode).toBe(202);
      const uuid = header(start.headers['docker-upload-uuid'])!;
      expect(uuid).toBeTruthy();
      expect(start.headers.location).toBe(`/v2/${repo}/blobs/uploads/${uuid}`);
      expect(start.headers.range).toBe('0-0');
      expect(header(start.headers['content-length'])).toBe('0');

      const p1 = await vendor.patch(start.headers.location as string, { body: part1, headers: { 'content-range': `0-${part1.length - 1}` } });
      expect(p1.statusCode, p1.body).toBe(202);
      expect(p1.headers.range).toBe('0-9');
      expect(p1.headers.location).toBe(start.headers.location);

      const p2 = await vendor.patch(p1.headers.location as string, { body: part2, headers: { 'content-range': `10-${10 + part2.length - 1}` } });
      expect(p2.statusCode, p2.body).toBe(202);
      expect(p2.headers.range).toBe(`0-${whole.size - 1}`);

      const status = await vendor.get(p2.headers.location as string);
      expect(status.statusCode).toBe(204);
      expect(status.headers.range).toBe(`0-${whole.size - 1}`);
      expect(status.headers.location).toBe(start.headers.location);
      expect(status.body).toBe('');

      const put = await vendor.put(withDigest(p2.headers.location as string, whole.digest));
      expect(put.statusCode, put.body).toBe(201);
      expect(put.headers.location).toBe(`/v2/${repo}/blobs/${whole.digest}`);
      expect(put.headers['docker-content-digest']).toBe(whole.digest);
      expect((await vendor.get(`/v2/${repo}/blobs/${whole.digest}`)).rawPayload).toEqual(whole.bytes);
      // The session is closed.
      expectOciError(await vendor.get(p2.headers.location as string), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('a PATCH without Content-Range appends (docker streams that way), and the last chunk may come with the PUT', async () => {
      const whole = blob('streamed chunk + final chunk in the PUT');
      const start = await vendor.post(`/v2/${repo}/blobs/uploads/`);
      const p = await vendor.patch(start.headers.location as string, { body: whole.bytes.subarray(0, 8) });
      expect(p.statusCode).toBe(202);
      expect(p.headers.range).toBe('0-7');
      const put = await vendor.put(withDigest(p.headers.location as string, whole.digest), { body: whole.bytes.subarray(8) });
      expect(put.statusCode, put.body).toBe(201);
      expect((await vendor.get(`/v2/${repo}/blobs/${whole.digest}`)).rawPayload).toEqual(whole.bytes);
    });

    it('a PATCH whose Content-Range does not start at the current size is 416 with the Range held so far', async () => {
      const start = await vendor.post(`/v2/${repo}/blobs/uploads/`);
      const location = start.headers.location as string;
      expect((await vendor.patch(location, { body: 'abcde', headers: { 'content-range': '0-4' } })).statusCode).toBe(202);

      const gap = await vendor.patch(location, { body: 'fghij', headers: { 'content-range': '7-11' } });
      expect(gap.statusCode).toBe(416);
      expect(gap.headers.range).toBe('0-4');
      const overlap = await vendor.patch(location, { body: 'xyz', headers: { 'content-range': '0-2' } });
      expect(overlap.statusCode).toBe(416);
      expect(overlap.headers.range).toBe('0-4');

      // The session survives a 416: the client resumes from the Range it was told.
      expect((await vendor.get(location)).headers.range).toBe('0-4');
      const resume = await vendor.patch(location, { body: 'fghij', headers: { 'content-range': '5-9' } });
      expect(resume.statusCode).toBe(202);
      expect(resume.headers.range).toBe('0-9');
      expect((await vendor.put(withDigest(location, sha256('abcdefghij')))).statusCode).toBe(201);
    });

    it('finishing with a digest that does not match is 400 DIGEST_INVALID and stores nothing', async () => {
      const data = Buffer.from(`uploaded bytes ${randomUUID()}`);
      const wrong = sha256('something else entirely');
      const start = await vendor.post(`/v2/${repo}/blobs/uploads/`);
      await vendor.patch(start.headers.location as string, { body: data, headers: { 'content-range': `0-${data.length - 1}` } });
      expectOciError(await vendor.put(withDigest(start.headers.location as string, wrong)), 400, 'DIGEST_INVALID');

      expect(await inst.runtime.blobs.stat(sha256(data))).toBeUndefined();
      expect(await inst.runtime.blobs.stat(wrong)).toBeUndefined();
      expect((await vendor.head(`/v2/${repo}/blobs/${sha256(data)}`)).statusCode).toBe(404);
      expect((await vendor.head(`/v2/${repo}/blobs/${wrong}`)).statusCode).toBe(404);
    });

    it('a single POST whose body does not match ?digest= is 400 DIGEST_INVALID and stores nothing; a malformed digest too', async () => {
      const data = Buffer.from(`monolithic mismatch ${randomUUID()}`);
      const wrong = sha256('not the body');
      expectOciError(await vendor.post(`/v2/${repo}/blobs/uploads/?digest=${wrong}`, { body: data }), 400, 'DIGEST_INVALID');
      expect(await inst.runtime.blobs.stat(wrong)).toBeUndefined();
      expect(await inst.runtime.blobs.stat(sha256(data))).toBeUndefined();
      expectOciError(await vendor.post(`/v2/${repo}/blobs/uploads/?digest=sha256:1234`, { body: data }), 400, 'DIGEST_INVALID');
    });

    it('DELETE cancels an upload (204); the session is then unknown: 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const start = await vendor.post(`/v2/${repo}/blobs/uploads/`);
      const location = start.headers.location as string;
      await vendor.patch(location, { body: 'partial', headers: { 'content-range': '0-6' } });
      const del = await vendor.delete(location);
      expect(del.statusCode).toBe(204);
      expectOciError(await vendor.get(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectOciError(await vendor.patch(location, { body: 'more', headers: { 'content-range': '7-10' } }), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectOciError(await vendor.put(withDigest(location, sha256('partial'))), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectOciError(await vendor.delete(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('an upload id from nowhere is 404 BLOB_UPLOAD_UNKNOWN for GET, PATCH, PUT and DELETE', async () => {
      for (const id of [randomUUID(), 'not-a-uuid']) {
        const location = `/v2/${repo}/blobs/uploads/${id}`;
        expectOciError(await vendor.get(location), 404, 'BLOB_UPLOAD_UNKNOWN');
        expectOciError(await vendor.patch(location, { body: 'x', headers: { 'content-range': '0-0' } }), 404, 'BLOB_UPLOAD_UNKNOWN');
        expectOciError(await vendor.put(withDigest(location, sha256('x')), { body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
        expectOciError(await vendor.delete(location), 404, 'BLOB_UPLOAD_UNKNOWN');
      }
      // An id that tries to climb out of the uploads directory routes nowhere.
      expect((await vendor.get(`/v2/${repo}/blobs/uploads/..%2f..%2fblobs`)).statusCode).toBe(404);
    });

    it('a chunk shorter than its Content-Range, or a PUT without ?digest=, is 400 and the session keeps its size', async () => {
      const start = await vendor.post(`/v2/${repo}/blobs/uploads/`);
      const location = start.headers.location as string;
      expect((await vendor.patch(location, { body: 'abc', headers: { 'content-range': '0-2' } })).statusCode).toBe(202);
      expectOciError(await vendor.patch(location, { body: 'de', headers: { 'content-range': '3-9' } }), 400, 'BLOB_UPLOAD_INVALID');
      expect((await vendor.get(location)).headers.range).toBe('0-2');
      expectOciError(await vendor.put(location), 400, 'DIGEST_INVALID');
      expect((await vendor.get(location)).statusCode).toBe(204);
      await vendor.delete(location);
    });

    it('an upload session belongs to the repository it was started in: not usable under another repository or vendor', async () => {
      const start = await vendor.post(`/v2/${repo}/blobs/uploads/`);
      const id = header(start.headers['docker-upload-uuid'])!;
      await vendor.patch(start.headers.location as string, { body: 'mine', headers: { 'content-range': '0-3' } });

      // Another vendor, in its own namespace, with the id: nothing to see, append to or cancel.
      const foreign = `/v2/beta/x/blobs/uploads/${id}`;
      expectOciError(await betaVendor.get(foreign), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectOciError(await betaVendor.patch(foreign, { body: 'theirs', headers: { 'content-range': '4-9' } }), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectOciError(await betaVendor.delete(foreign), 404, 'BLOB_UPLOAD_UNKNOWN');
      // The same vendor under another of its repositories: the session is not there either.
      expectOciError(await vendor.get(`/v2/acme/elsewhere/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');

      const status = await vendor.get(start.headers.location as string);
      expect(status.statusCode).toBe(204);
      expect(status.headers.range).toBe('0-3');
      await vendor.delete(start.headers.location as string);
    });
  });

  describe('blob size limit (registry.max_blob_bytes)', () => {
    const LIMIT = 2048;
    let runtime: Runtime;
    let small: FastifyInstance;
    let dataDir: string;
    let client: V2Client;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'portcullis-test-'));
      const config = loadConfig({ env: { PORTCULLIS_REGISTRY_MAX_BLOB_BYTES: String(LIMIT) }, cwd: dataDir, flags: { data_dir: dataDir } });
      expect(config.registry.max_blob_bytes).toBe(LIMIT);
      const opened = await openRuntime(config, { initialize: true, now: () => new Date('2026-11-24T12:00:00Z') });
      runtime = opened.runtime;
      small = await buildApp(runtime);
      client = new V2Client(small, auth(opened.created!));
    });

    afterAll(async () => {
      await small?.close();
      await runtime?.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('a blob of exactly the limit is accepted', async () => {
      await client.pushBlob('ops/limit', blob(Buffer.alloc(LIMIT, 1)));
    });

    it('a single POST over the limit is 413 SIZE_INVALID and stores nothing', async () => {
      const big = blob(Buffer.alloc(LIMIT + 1, 2));
      expectOciError(await client.post(`/v2/ops/limit/blobs/uploads/?digest=${big.digest}`, { body: big.bytes }), 413, 'SIZE_INVALID');
      expect(await runtime.blobs.stat(big.digest)).toBeUndefined();
    });

    it('a POST then PUT over the limit is 413 too', async () => {
      const big = blob(Buffer.alloc(LIMIT + 100, 3));
      const start = await client.post('/v2/ops/limit/blobs/uploads/');
      expectOciError(await client.put(withDigest(start.headers.location as string, big.digest), { body: big.bytes }), 413, 'SIZE_INVALID');
      expect(await runtime.blobs.stat(big.digest)).toBeUndefined();
    });

    it('a PATCH that would take the upload over the limit is 413, and the upload keeps what it had', async () => {
      const start = await client.post('/v2/ops/limit/blobs/uploads/');
      const location = start.headers.location as string;
      expect((await client.patch(location, { body: Buffer.alloc(1500, 4), headers: { 'content-range': '0-1499' } })).statusCode).toBe(202);
      expectOciError(await client.patch(location, { body: Buffer.alloc(1000, 4), headers: { 'content-range': '1500-2499' } }), 413, 'SIZE_INVALID');
      expectOciError(await client.patch(location, { body: Buffer.alloc(1000, 4) }), 413, 'SIZE_INVALID');
      expect((await client.get(location)).headers.range).toBe('0-1499');
    });
  });

  describe('cross-repository mount', () => {
    it('mounts a blob the caller may pull from another repository: 201, Location, Docker-Content-Digest, no body', async () => {
      const res = await vendor.post(`/v2/acme/other/blobs/uploads/?mount=${layer1.digest}&from=acme/app`, { headers: { 'content-length': '0' } });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers.location).toBe(`/v2/acme/other/blobs/${layer1.digest}`);
      expect(res.headers['docker-content-digest']).toBe(layer1.digest);
      expect(res.body).toBe('');
      const head = await vendor.head(`/v2/acme/other/blobs/${layer1.digest}`);
      expect(head.statusCode).toBe(200);
      expect(header(head.headers['content-length'])).toBe(String(layer1.size));
    });

    it('falls back to an ordinary upload (202) when the source is another vendor’s repository', async () => {
      const res = await vendor.post(`/v2/acme/other/blobs/uploads/?mount=${betaLayer.digest}&from=beta/x`);
      expect(res.statusCode).toBe(202);
      expect(res.headers.location).toMatch(/^\/v2\/acme\/other\/blobs\/uploads\/[^/]+$/);
      expect(res.headers.range).toBe('0-0');
      expect((await vendor.head(`/v2/acme/other/blobs/${betaLayer.digest}`)).statusCode).toBe(404);
      expect((await vendor.delete(res.headers.location as string)).statusCode).toBe(204);
    });

    it('falls back to 202 when the source repository does not hold the digest', async () => {
      const res = await vendor.post(`/v2/acme/other/blobs/uploads/?mount=${sha256('never pushed')}&from=acme/app`);
      expect(res.statusCode).toBe(202);
      await vendor.delete(res.headers.location as string);
    });
  });

  describe('beside a gc process that takes a file under a push (src/registry/gc.ts)', () => {
    const repo = 'acme/gc-race';

    /** What a gc sweeping at that instant does to the file: trash, then discard. */
    async function gcTakes(digest: string): Promise<void> {
      const trashed = await inst.runtime.blobs.trash(digest);
      expect(trashed).toBeDefined();
      await inst.runtime.blobs.discard(trashed!);
    }

    /** Runs `fn` once right after the next putVerified of `digest` stored it. */
    function afterNextStore(digest: string, fn: () => Promise<void>) {
      const blobs = inst.runtime.blobs;
      const original = blobs.putVerified.bind(blobs);
      return vi.spyOn(blobs, 'putVerified').mockImplementationOnce(async (d, ...rest) => {
        const stored = await original(d, ...rest);
        expect(d).toBe(digest);
        await fn();
        return stored;
      });
    }

    it('an upload whose file went between store and link is not acknowledged (503), and no manifest can use it until pushed again', async () => {
      const cfg = imageConfig('gc race');
      const layer = blob('a layer gc takes under the push');
      const image = imageManifest({ config: cfg, layers: [layer] });
      await vendor.pushBlob(repo, cfg);
      const spy = afterNextStore(layer.digest, () => gcTakes(layer.digest));
      try {
        const res = await vendor.post(`/v2/${repo}/blobs/uploads/?digest=${layer.digest}`, { body: layer.bytes });
        expectOciError(res, 503, 'UNAVAILABLE');
        expect(res.headers['retry-after']).toBe('1');
      } finally {
        spy.mockRestore();
      }
      expect((await vendor.head(`/v2/${repo}/blobs/${layer.digest}`)).statusCode).toBe(404);
      const refused = await vendor.putManifest(repo, 'race', image);
      expectOciError(refused, 400, 'MANIFEST_BLOB_UNKNOWN');
      expect(refused.json().errors[0].message).toContain('missing from storage');

      expect((await vendor.pushBlob(repo, layer)).statusCode).toBe(201);
      expect((await vendor.putManifest(repo, 'race', image)).statusCode).toBe(201);
      expect((await vendor.get(`/v2/${repo}/blobs/${layer.digest}`)).rawPayload).toEqual(layer.bytes);
    });

    it('a manifest whose own file went before the manifest was recorded is stored again (pushing identical bytes again)', async () => {
      const cfg = imageConfig('gc race manifest');
      const image = imageManifest({ config: cfg, layers: [] });
      await vendor.pushBlob(repo, cfg);
      expect((await vendor.putManifest(repo, 'again', image)).statusCode).toBe(201);
      const spy = afterNextStore(image.digest, () => gcTakes(image.digest));
      try {
        expect((await vendor.putManifest(repo, 'again', image)).statusCode).toBe(201);
      } finally {
        spy.mockRestore();
      }
      const res = await vendor.get(`/v2/${repo}/manifests/again`, { headers: { accept: image.mediaType } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.rawPayload).toEqual(image.bytes);
    });

    it('a mount whose file goes before the link falls back to an ordinary upload (202)', async () => {
      const layer = blob('a layer gc takes under a mount');
      await vendor.pushBlob('acme/gc-source', layer);
      const store = inst.runtime.store;
      const original = store.linkBlob.bind(store);
      const spy = vi.spyOn(store, 'linkBlob').mockImplementationOnce(async (...args) => {
        await gcTakes(layer.digest);
        return original(...args);
      });
      try {
        const res = await vendor.post(`/v2/${repo}/blobs/uploads/?mount=${layer.digest}&from=acme/gc-source`);
        expect(res.statusCode, res.body).toBe(202);
        expect((await vendor.delete(res.headers.location as string)).statusCode).toBe(204);
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('blob reads and deletes', () => {
    it('GET serves the bytes with Content-Length and Docker-Content-Digest', async () => {
      const res = await vendor.get(`/v2/acme/app/blobs/${layer1.digest}`);
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload).toEqual(layer1.bytes);
      expect(header(res.headers['content-length'])).toBe(String(layer1.size));
      expect(res.headers['docker-content-digest']).toBe(layer1.digest);
    });

    it('HEAD answers the same headers without a body', async () => {
      const res = await vendor.head(`/v2/acme/app/blobs/${layer1.digest}`);
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
      expect(header(res.headers['content-length'])).toBe(String(layer1.size));
      expect(res.headers['docker-content-digest']).toBe(layer1.digest);
    });

    it('Range bytes=2-5 is 206 with Content-Range; bytes=2- runs to the end', async () => {
      const res = await vendor.get(`/v2/acme/app/blobs/${layer1.digest}`, { headers: { range: 'bytes=2-5' } });
      expect(res.statusCode).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes 2-5/${layer1.size}`);
      expect(header(res.headers['content-length'])).toBe('4');
      expect(res.rawPayload).toEqual(layer1.bytes.subarray(2, 6));

      const tail = await vendor.get(`/v2/acme/app/blobs/${layer1.digest}`, { headers: { range: 'bytes=2-' } });
      expect(tail.statusCode).toBe(206);
      expect(tail.headers['content-range']).toBe(`bytes 2-${layer1.size - 1}/${layer1.size}`);
      expect(tail.rawPayload).toEqual(layer1.bytes.subarray(2));
    });

    it('an unsatisfiable range is 416 with Content-Range bytes */size', async () => {
      const res = await vendor.get(`/v2/acme/app/blobs/${layer1.digest}`, { headers: { range: `bytes=${layer1.size}-${layer1.size + 10}` } });
      expect(res.statusCode).toBe(416);
      expect(res.headers['content-range']).toBe(`bytes */${layer1.size}`);
    });

    it('a blob that is not in the repository is 404 BLOB_UNKNOWN, even when another repository holds it', async () => {
      expectOciError(await vendor.get(`/v2/acme/app/blobs/${sha256('never pushed')}`), 404, 'BLOB_UNKNOWN');
      expectOciError(await vendor.get(`/v2/acme/empty/blobs/${layer1.digest}`), 404, 'BLOB_UNKNOWN');
      expect((await vendor.head(`/v2/acme/empty/blobs/${layer1.digest}`)).statusCode).toBe(404);
    });

    it('a malformed digest is 400 DIGEST_INVALID', async () => {
      expectOciError(await vendor.get('/v2/acme/app/blobs/sha256:xyz'), 400, 'DIGEST_INVALID');
      expectOciError(await vendor.get(`/v2/acme/app/blobs/sha256:${'A'.repeat(64)}`), 400, 'DIGEST_INVALID');
    });

    it('a manifest can be fetched through /blobs/ by its digest', async () => {
      const res = await vendor.get(`/v2/acme/app/blobs/${m1.digest}`);
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload).toEqual(m1.bytes);
    });

    it('DELETE unlinks the blob from the repository: 202, then 404 BLOB_UNKNOWN', async () => {
      const b = blob(`to be deleted ${randomUUID()}`);
      await vendor.pushBlob('acme/deletes', b);
      const del = await vendor.delete(`/v2/acme/deletes/blobs/${b.digest}`);
      expect(del.statusCode).toBe(202);
      expectOciError(await vendor.get(`/v2/acme/deletes/blobs/${b.digest}`), 404, 'BLOB_UNKNOWN');
      expect((await vendor.head(`/v2/acme/deletes/blobs/${b.digest}`)).statusCode).toBe(404);
      expectOciError(await vendor.delete(`/v2/acme/deletes/blobs/${b.digest}`), 404, 'BLOB_UNKNOWN');
    });
  });

  describe('manifests', () => {
    const repo = 'acme/web';
    const cfg = imageConfig('web');
    const layer = blob('web layer');
    const web = imageManifest({ config: cfg, layers: [layer], annotations: { 'org.opencontainers.image.version': '3.0' } });

    beforeAll(async () => {
      await vendor.pushBlob(repo, cfg);
      await vendor.pushBlob(repo, layer);
    });

    it('PUT by tag is 201 with Location and Docker-Content-Digest', async () => {
      const res = await vendor.putManifest(repo, '3.0', web);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers.location).toBe(`/v2/${repo}/manifests/${web.digest}`);
      expect(res.headers['docker-content-digest']).toBe(web.digest);
      expect(res.headers['oci-subject']).toBeUndefined();
    });

    it('GET by tag and by digest returns the pushed bytes with Content-Type, Docker-Content-Digest and Content-Length', async () => {
      for (const ref of ['3.0', web.digest]) {
        const res = await vendor.get(`/v2/${repo}/manifests/${ref}`, { headers: { accept: MT.manifest } });
        expect(res.statusCode, ref).toBe(200);
        expect(res.headers['content-type'], ref).toBe(MT.manifest);
        expect(res.headers['docker-content-digest'], ref).toBe(web.digest);
        expect(header(res.headers['content-length']), ref).toBe(String(web.size));
        expect(res.rawPayload, ref).toEqual(web.bytes);
      }
    });

    it('HEAD by tag and by digest has the same headers and no body', async () => {
      for (const ref of ['3.0', web.digest]) {
        const res = await vendor.head(`/v2/${repo}/manifests/${ref}`);
        expect(res.statusCode, ref).toBe(200);
        expect(res.headers['content-type'], ref).toBe(MT.manifest);
        expect(res.headers['docker-content-digest'], ref).toBe(web.digest);
        expect(header(res.headers['content-length']), ref).toBe(String(web.size));
        expect(res.body, ref).toBe('');
      }
    });

    it('PUT by digest is 201 and makes no tag; a digest that does not match the body is 400 DIGEST_INVALID', async () => {
      const other = imageManifest({ config: cfg, layers: [layer], annotations: { variant: 'by-digest' } });
      const res = await vendor.putManifest(repo, other.digest, other);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['docker-content-digest']).toBe(other.digest);
      expect(res.headers.location).toBe(`/v2/${repo}/manifests/${other.digest}`);
      expect((await vendor.get(`/v2/${repo}/tags/list`)).json().tags).toEqual(['3.0']);

      const third = imageManifest({ config: cfg, layers: [layer], annotations: { variant: 'mismatch' } });
      expectOciError(await vendor.putManifest(repo, other.digest, third), 400, 'DIGEST_INVALID');
      expectOciError(await vendor.get(`/v2/${repo}/manifests/${third.digest}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('Content-Type parameters are ignored on PUT', async () => {
      const m = imageManifest({ config: cfg, layers: [layer], annotations: { variant: 'charset' } });
      const res = await vendor.putManifest(repo, m.digest, m, `${MT.manifest}; charset=utf-8`);
      expect(res.statusCode, res.body).toBe(201);
    });

    it('a manifest naming a blob or a manifest that was not pushed is 400 MANIFEST_BLOB_UNKNOWN with the digest', async () => {
      const missing = blob(`never uploaded ${randomUUID()}`);
      const m = imageManifest({ config: cfg, layers: [layer, missing] });
      const err = expectOciError(await vendor.putManifest(repo, 'broken', m), 400, 'MANIFEST_BLOB_UNKNOWN');
      expect(err.detail).toEqual({ digest: missing.digest });
      expectOciError(await vendor.get(`/v2/${repo}/manifests/broken`), 404, 'MANIFEST_UNKNOWN');

      // A blob held by another repository is not enough: it must be in this one (or mounted).
      const elsewhere = imageManifest({ config: cfg, layers: [layer1] });
      expectOciError(await vendor.putManifest(repo, 'elsewhere', elsewhere), 400, 'MANIFEST_BLOB_UNKNOWN');

      const ghost = imageManifest({ config: cfg, layers: [blob('ghost child')] });
      const idx = imageIndex({ manifests: [{ manifest: web }, { manifest: ghost }] });
      const idxErr = expectOciError(await vendor.putManifest(repo, 'broken-index', idx), 400, 'MANIFEST_BLOB_UNKNOWN');
      expect(idxErr.detail).toEqual({ digest: ghost.digest });
    });

    it('a subject that is not in the repository does not stop the push (OCI 1.1), and OCI-Subject is answered', async () => {
      const absent = imageManifest({ config: cfg, layers: [blob('an image never pushed')] });
      const ref = imageManifest({ artifactType: SIGNATURE, config: cfg, layers: [layer], subject: absent });
      const res = await vendor.putManifest(repo, ref.digest, ref);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['oci-subject']).toBe(absent.digest);
    });

    it('malformed JSON, a schema it is not, or a Content-Type contradicting mediaType is 400 MANIFEST_INVALID', async () => {
      expectOciError(await vendor.put(`/v2/${repo}/manifests/bad`, { body: '{"schemaVersion": 2, "mediaType": ', contentType: MT.manifest }), 400, 'MANIFEST_INVALID');
      expectOciError(await vendor.put(`/v2/${repo}/manifests/bad`, { body: '[]', contentType: MT.manifest }), 400, 'MANIFEST_INVALID');
      expectOciError(await vendor.put(`/v2/${repo}/manifests/bad`, { body: JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, layers: [] }), contentType: MT.manifest }), 400, 'MANIFEST_INVALID');
      expectOciError(await vendor.putManifest(repo, 'bad', web, MT.index), 400, 'MANIFEST_INVALID');
      expectOciError(await vendor.get(`/v2/${repo}/manifests/bad`), 404, 'MANIFEST_UNKNOWN');
    });

    it('a manifest over 4 MiB is refused with 413', async () => {
      const huge = imageManifest({ config: cfg, layers: [layer], annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
      const res = await vendor.putManifest(repo, 'huge', huge);
      expectOciError(res, 413, 'SIZE_INVALID');
    });

    it('an unknown tag or digest is 404 MANIFEST_UNKNOWN', async () => {
      expectOciError(await vendor.get(`/v2/${repo}/manifests/9.9`), 404, 'MANIFEST_UNKNOWN');
      expectOciError(await vendor.get(`/v2/${repo}/manifests/${sha256('no manifest')}`), 404, 'MANIFEST_UNKNOWN');
      expect((await vendor.head(`/v2/${repo}/manifests/9.9`)).statusCode).toBe(404);
    });

    it('an index by tag is 404 MANIFEST_UNKNOWN unless Accept names the index type; with it, 200', async () => {
      expectOciError(await vendor.get('/v2/acme/app/manifests/1.1'), 404, 'MANIFEST_UNKNOWN');
      expectOciError(await vendor.get('/v2/acme/app/manifests/1.1', { headers: { accept: MT.manifest } }), 404, 'MANIFEST_UNKNOWN');
      const res = await vendor.get('/v2/acme/app/manifests/1.1', { headers: { accept: `${MT.manifest}, ${MT.index}` } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(MT.index);
      expect(res.headers['docker-content-digest']).toBe(index11.digest);
      expect(res.rawPayload).toEqual(index11.bytes);
      expect(pushed.index11!.headers.location).toBe(`/v2/acme/app/manifests/${index11.digest}`);
    });

    it('a bad tag is 400 TAG_INVALID; a bad digest reference 400 DIGEST_INVALID', async () => {
      for (const tag of ['-lead', '.hidden', 'x'.repeat(129)]) {
        expectOciError(await vendor.get(`/v2/${repo}/manifests/${tag}`), 400, 'TAG_INVALID');
        expectOciError(await vendor.putManifest(repo, tag, web), 400, 'TAG_INVALID');
      }
      expectOciError(await vendor.get(`/v2/${repo}/manifests/sha256:abc`), 400, 'DIGEST_INVALID');
    });

    it('a tag moves when pushed again', async () => {
      const next = imageManifest({ config: cfg, layers: [layer], annotations: { variant: 'moved' } });
      await vendor.pushManifest(repo, 'moving', web);
      await vendor.pushManifest(repo, 'moving', next);
      expect((await vendor.head(`/v2/${repo}/manifests/moving`)).headers['docker-content-digest']).toBe(next.digest);
    });

    it('DELETE by digest is 202 and takes the tags pointing at it along', async () => {
      const repoD = 'acme/deletes';
      const dcfg = imageConfig('deletes');
      const dlayer = blob('deletes layer');
      const a = imageManifest({ config: dcfg, layers: [dlayer], annotations: { name: 'a' } });
      const b = imageManifest({ config: dcfg, layers: [dlayer], annotations: { name: 'b' } });
      await vendor.pushImage(repoD, 'a1', a, [dcfg, dlayer]);
      await vendor.pushManifest(repoD, 'a2', a);
      await vendor.pushManifest(repoD, 'b', b);

      expect((await vendor.delete(`/v2/${repoD}/manifests/${a.digest}`)).statusCode).toBe(202);
      expectOciError(await vendor.get(`/v2/${repoD}/manifests/${a.digest}`), 404, 'MANIFEST_UNKNOWN');
      expectOciError(await vendor.get(`/v2/${repoD}/manifests/a1`), 404, 'MANIFEST_UNKNOWN');
      expectOciError(await vendor.get(`/v2/${repoD}/manifests/a2`), 404, 'MANIFEST_UNKNOWN');
      expect((await vendor.get(`/v2/${repoD}/tags/list`)).json()).toEqual({ name: repoD, tags: ['b'] });
      expectOciError(await vendor.delete(`/v2/${repoD}/manifests/${a.digest}`), 404, 'MANIFEST_UNKNOWN');
      expectOciError(await vendor.delete(`/v2/acme/no-such-repo/manifests/${a.digest}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('DELETE by tag is 202 and removes only the tag', async () => {
      const repoD = 'acme/deletes';
      const before = await vendor.head(`/v2/${repoD}/manifests/b`);
      const digest = header(before.headers['docker-content-digest'])!;
      expect((await vendor.delete(`/v2/${repoD}/manifests/b`)).statusCode).toBe(202);
      expectOciError(await vendor.get(`/v2/${repoD}/manifests/b`), 404, 'MANIFEST_UNKNOWN');
      expect((await vendor.get(`/v2/${repoD}/manifests/${digest}`)).statusCode).toBe(200);
      expect((await vendor.get(`/v2/${repoD}/tags/list`)).json()).toEqual({ name: repoD, tags: [] });
      expectOciError(await vendor.delete(`/v2/${repoD}/manifests/b`), 404, 'MANIFEST_UNKNOWN');
    });
  });

  describe('tags/list and _catalog', () => {
    const repo = 'acme/tags';
    // ASCII order: digits, upper case, lower case.
    const TAGS = ['1.10', '1.9', 'A', 'a', 'b', 'latest'];

    beforeAll(async () => {
      const cfg = imageConfig('tags');
      const layer = blob('tags layer');
      const m = imageManifest({ config: cfg, layers: [layer] });
      await vendor.pushImage(repo, 'latest', m, [cfg, layer]);
      for (const tag of ['b', '1.9', 'A', '1.10', 'a']) await vendor.pushManifest(repo, tag, m);
    });

    it('lists the tags in lexical order', async () => {
      const res = await vendor.get(`/v2/${repo}/tags/list`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ name: repo, tags: TAGS });
      expect(res.headers.link).toBeUndefined();
    });

    it('paginates with n and a Link header, and follows it to the end', async () => {
      const first = await vendor.get(`/v2/${repo}/tags/list?n=2`);
      expect(first.json().tags).toEqual(['1.10', '1.9']);
      expect(first.headers.link).toBe(`</v2/${repo}/tags/list?n=2&last=1.9>; rel="next"`);

      const seen: string[] = [];
      let url: string | undefined = `/v2/${repo}/tags/list?n=2`;
      let pages = 0;
      while (url !== undefined && pages < 10) {
        const res = await vendor.get(url);
        expect(res.statusCode).toBe(200);
        seen.push(...(res.json().tags as string[]));
        url = nextLink(res);
        pages++;
      }
      expect(seen).toEqual(TAGS);
      expect(pages).toBe(3);
    });

    it('last starts after the given tag, with or without n; n=0 is an empty list without a Link', async () => {
      expect((await vendor.get(`/v2/${repo}/tags/list?last=a`)).json().tags).toEqual(['b', 'latest']);
      const page = await vendor.get(`/v2/${repo}/tags/list?n=1&last=A`);
      expect(page.json().tags).toEqual(['a']);
      expect(page.headers.link).toBe(`</v2/${repo}/tags/list?n=1&last=a>; rel="next"`);
      const last = await vendor.get(`/v2/${repo}/tags/list?n=2&last=b`);
      expect(last.json().tags).toEqual(['latest']);
      expect(last.headers.link).toBeUndefined();
      const zero = await vendor.get(`/v2/${repo}/tags/list?n=0`);
      expect(zero.json()).toEqual({ name: repo, tags: [] });
      expect(zero.headers.link).toBeUndefined();
    });

    it('a customer sees only the tags its license patterns allow', async () => {
      const res = await customer.get('/v2/acme/app/tags/list');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ name: 'acme/app', tags: ['1.0', '1.1'] });
      expect((await vendor.get('/v2/acme/app/tags/list')).json().tags).toEqual(['1.0', '1.1', '2.0']);
    });

    it('an unknown repository is 404 NAME_UNKNOWN', async () => {
      expectOciError(await vendor.get('/v2/acme/nothing/tags/list'), 404, 'NAME_UNKNOWN');
    });

    it('a bad n is a 400 naming it, whether or not the repository exists', async () => {
      for (const path of ['/v2/acme/app/tags/list?n=abc', '/v2/acme/nothing/tags/list?n=-1', '/v2/_catalog?n=1.5']) {
        expect(expectOciError(await vendor.get(path), 400, 'UNSUPPORTED').message, path).toMatch(/\bn\b/);
      }
    });

    it('_catalog lists what the caller may pull, paginated with n and Link', async () => {
      const all = await vendor.get('/v2/_catalog');
      expect(all.statusCode).toBe(200);
      const repos = all.json().repositories as string[];
      expect(repos).toEqual(expect.arrayContaining(['acme/app', 'acme/tags', 'acme/web']));
      expect(repos).not.toContain('beta/x');
      expect(repos.every((r) => r.startsWith('acme/'))).toBe(true);
      expect(repos).toEqual([...repos].sort());

      const seen: string[] = [];
      let url: string | undefined = '/v2/_catalog?n=1';
      let pages = 0;
      while (url !== undefined && pages < 50) {
        const res = await vendor.get(url);
        const items = res.json().repositories as string[];
        expect(items.length).toBeLessThanOrEqual(1);
        seen.push(...items);
        url = nextLink(res);
        pages++;
      }
      expect(seen).toEqual(repos);

      const first = await vendor.get('/v2/_catalog?n=1');
      expect(first.json().repositories).toEqual(['acme/app']);
      expect(first.headers.link).toMatch(/^<\/v2\/_catalog\?n=1&last=acme(%2F|\/)app>; rel="next"$/);
    });

    it('_catalog is filtered: a customer sees its licensed repository, each vendor its own, the operator all', async () => {
      expect((await customer.get('/v2/_catalog')).json()).toEqual({ repositories: ['acme/app'] });
      expect((await betaVendor.get('/v2/_catalog')).json()).toEqual({ repositories: ['beta/x'] });
      const everything = (await operator.get('/v2/_catalog')).json().repositories as string[];
      expect(everything).toEqual(expect.arrayContaining(['acme/app', 'beta/x']));
    });
  });

  describe('referrers API', () => {
    it('a manifest with a subject is answered with OCI-Subject', () => {
      expect(pushed.sig1!.headers['oci-subject']).toBe(m1.digest);
      expect(pushed.sbom1!.headers['oci-subject']).toBe(m1.digest);
      expect(pushed.m1!.headers['oci-subject']).toBeUndefined();
    });

    it('lists the referrers of a manifest as an OCI index, with artifactType (or the config type when it has none)', async () => {
      const res = await vendor.get(`/v2/acme/app/referrers/${m1.digest}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/vnd\.oci\.image\.index\.v1\+json(;|$)/);
      const body = res.json();
      expect(body).toMatchObject({ schemaVersion: 2, mediaType: MT.index });
      const byDigest = Object.fromEntries((body.manifests as { digest: string }[]).map((d) => [d.digest, d]));
      expect(Object.keys(byDigest).sort()).toEqual([sig1.digest, sbom1.digest].sort());
      expect(byDigest[sig1.digest]).toMatchObject({ mediaType: MT.manifest, digest: sig1.digest, size: sig1.size, artifactType: SIGNATURE });
      expect(byDigest[sbom1.digest]).toMatchObject({ mediaType: MT.manifest, digest: sbom1.digest, size: sbom1.size, artifactType: SBOM_CONFIG });
    });

    it('the descriptors carry the annotations of the referring manifests', async () => {
      const res = await vendor.get(`/v2/acme/app/referrers/${m1.digest}`);
      const byDigest = Object.fromEntries((res.json().manifests as { digest: string }[]).map((d) => [d.digest, d]));
      expect(byDigest[sig1.digest]).toMatchObject({ annotations: { 'org.example.signature.fingerprint': 'abcd' } });
      expect(byDigest[sbom1.digest]).toMatchObject({ annotations: { 'org.example.sbom.format': 'json' } });
    });

    it('?artifactType= filters and says so in OCI-Filters-Applied', async () => {
      const res = await vendor.get(`/v2/acme/app/referrers/${m1.digest}?artifactType=${encodeURIComponent(SIGNATURE)}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['oci-filters-applied']).toBe('artifactType');
      expect((res.json().manifests as { digest: string }[]).map((d) => d.digest)).toEqual([sig1.digest]);
      const none = await vendor.get(`/v2/acme/app/referrers/${m1.digest}?artifactType=application%2Fx-nothing`);
      expect(none.json().manifests).toEqual([]);
      expect((await vendor.get(`/v2/acme/app/referrers/${m1.digest}`)).headers['oci-filters-applied']).toBeUndefined();
    });

    it('no referrers, or a subject that does not exist, is 200 with an empty list, never 404', async () => {
      const empty = await vendor.get(`/v2/acme/app/referrers/${m3.digest}`);
      expect(empty.statusCode).toBe(200);
      expect(empty.json()).toEqual({ schemaVersion: 2, mediaType: MT.index, manifests: [] });
      const ghost = await vendor.get(`/v2/acme/app/referrers/${sha256('no such manifest')}`);
      expect(ghost.statusCode).toBe(200);
      expect(ghost.json().manifests).toEqual([]);
    });

    it('a malformed digest is 400', async () => {
      expectOciError(await vendor.get('/v2/acme/app/referrers/sha256:nope'), 400, 'DIGEST_INVALID');
    });

    it('a customer sees the referrers of a tag it may pull, and 403 for a digest only a tag outside its patterns reaches', async () => {
      const res = await customer.get(`/v2/acme/app/referrers/${m1.digest}`);
      expect(res.statusCode).toBe(200);
      expect((res.json().manifests as { digest: string }[]).map((d) => d.digest).sort()).toEqual([sig1.digest, sbom1.digest].sort());
      const denied = expectOciError(await customer.get(`/v2/acme/app/referrers/${m2.digest}`), 403, 'DENIED');
      expect(denied.message).toContain(m2.digest);
    });

    it('a customer may fetch the referrers of what it may pull, and their blobs, but not those of other tags', async () => {
      expect((await customer.get(`/v2/acme/app/manifests/${sig1.digest}`)).statusCode).toBe(200);
      expect((await customer.get(`/v2/acme/app/blobs/${sigLayer1.digest}`)).statusCode).toBe(200);
      expectOciError(await customer.get(`/v2/acme/app/manifests/${sig2.digest}`), 403, 'DENIED');
      expectOciError(await customer.get(`/v2/acme/app/blobs/${sigLayer2.digest}`), 403, 'DENIED');
    });
  });

  describe('authorization', () => {
    it('a customer token is pull-only: push and delete are 403 DENIED', async () => {
      const upload = expectOciError(await customer.post('/v2/acme/app/blobs/uploads/'), 403, 'DENIED');
      expect(upload.message).toBe('customer tokens are pull-only');
      const put = expectOciError(await customer.putManifest('acme/app', '1.9', m1), 403, 'DENIED');
      expect(put.message).toBe('customer tokens are pull-only');
      expectOciError(await customer.delete(`/v2/acme/app/manifests/${m1.digest}`), 403, 'DENIED');
      expectOciError(await customer.delete(`/v2/acme/app/blobs/${layer1.digest}`), 403, 'DENIED');
      expect((await vendor.head('/v2/acme/app/manifests/1.9')).statusCode).toBe(404);
    });

    it('a vendor token without the push scope may pull but not push or delete', async () => {
      expect((await pullOnly.get('/v2/acme/app/manifests/1.0')).statusCode).toBe(200);
      const upload = expectOciError(await pullOnly.post('/v2/acme/app/blobs/uploads/'), 403, 'DENIED');
      expect(upload.message).toBe('token lacks the push scope');
      expect(expectOciError(await pullOnly.putManifest('acme/app', '1.9', m1), 403, 'DENIED').message).toBe('token lacks the push scope');
      expect(expectOciError(await pullOnly.delete('/v2/acme/app/manifests/2.0'), 403, 'DENIED').message).toBe('token lacks the push scope');
    });

    it('a vendor token outside its namespaces is 403 naming the repository and the vendor, for pull and push', async () => {
      const pull = expectOciError(await vendor.get('/v2/beta/x/tags/list'), 403, 'DENIED');
      expect(pull.message).toContain('beta/x is outside the namespaces of vendor acme');
      const push = expectOciError(await vendor.post('/v2/beta/x/blobs/uploads/'), 403, 'DENIED');
      expect(push.message).toContain('beta/x is outside the namespaces of vendor acme');
      expectOciError(await vendor.get(`/v2/beta/x/blobs/${betaLayer.digest}`), 403, 'DENIED');
      expectOciError(await betaVendor.get(`/v2/acme/app/manifests/${m1.digest}`), 403, 'DENIED');
    });

    it('a customer pulls tags inside its patterns, and by digest only what those tags reach', async () => {
      expect((await customer.get('/v2/acme/app/manifests/1.0')).statusCode).toBe(200);
      expect((await customer.get('/v2/acme/app/manifests/1.1', { headers: { accept: MT.index } })).statusCode).toBe(200);
      const tag = expectOciError(await customer.get('/v2/acme/app/manifests/2.0'), 403, 'DENIED');
      expect(tag.message).toBe('tag 2.0 is outside 1.*');
      expect((await customer.head('/v2/acme/app/manifests/2.0')).statusCode).toBe(403);

      for (const c of [m1, m3, index11]) expect((await customer.get(`/v2/acme/app/manifests/${c.digest}`)).statusCode).toBe(200);
      for (const c of [cfg1, layer1, cfg3, layer3]) expect((await customer.get(`/v2/acme/app/blobs/${c.digest}`)).statusCode).toBe(200);
      expectOciError(await customer.get(`/v2/acme/app/manifests/${m2.digest}`), 403, 'DENIED');
      for (const c of [cfg2, layer2]) expectOciError(await customer.get(`/v2/acme/app/blobs/${c.digest}`), 403, 'DENIED');
      expect((await customer.head(`/v2/acme/app/blobs/${layer2.digest}`)).statusCode).toBe(403);

      const unlicensed = expectOciError(await customer.get('/v2/acme/other/tags/list'), 403, 'DENIED');
      expect(unlicensed.message).toBe('no active license covers acme/other');
    });

    it('the digest closure follows the repository: a new allowed tag opens a digest, removing it closes it again', async () => {
      expectOciError(await customer.get(`/v2/acme/app/blobs/${layer2.digest}`), 403, 'DENIED');
      await vendor.pushManifest('acme/app', '1.5', m2);
      expect((await customer.get(`/v2/acme/app/blobs/${layer2.digest}`)).statusCode).toBe(200);
      expect((await customer.get(`/v2/acme/app/manifests/${m2.digest}`)).statusCode).toBe(200);
      expect((await vendor.delete('/v2/acme/app/manifests/1.5')).statusCode).toBe(202);
      expectOciError(await customer.get(`/v2/acme/app/blobs/${layer2.digest}`), 403, 'DENIED');
    });

    it('a Bearer JWT is bounded by its grant: another repository is 401 insufficient_scope with the scope needed', async () => {
      const tokenRes = await app.inject({ method: 'GET', url: '/token?service=portcullis&scope=repository:acme/app:pull', headers: { authorization: auth(t.vendor!) } });
      expect(tokenRes.statusCode).toBe(200);
      const bearer = anonymous.as(`Bearer ${tokenRes.json().token as string}`);

      expect((await bearer.get('/v2/acme/app/tags/list')).statusCode).toBe(200);
      expect((await bearer.get(`/v2/acme/app/blobs/${layer1.digest}`)).statusCode).toBe(200);

      const other = await bearer.get('/v2/acme/other/tags/list');
      expectOciError(other, 401, 'UNAUTHORIZED');
      const challenge = header(other.headers['www-authenticate'])!;
      expect(challenge).toMatch(new RegExp(`^Bearer realm="${REALM}"`));
      expect(challenge).toContain('error="insufficient_scope"');
      expect(challenge).toContain('scope="repository:acme/other:pull"');

      // Pull only: a push in the granted repository needs more scope too.
      const push = await bearer.post('/v2/acme/app/blobs/uploads/');
      expectOciError(push, 401, 'UNAUTHORIZED');
      expect(header(push.headers['www-authenticate'])).toContain('error="insufficient_scope"');
      expect(header(push.headers['www-authenticate'])).toContain('scope="repository:acme/app:pull,push"');
    });

    it('tag rules hold for a Bearer JWT too: it grants the repository, not tags outside the license', async () => {
      const tokenRes = await app.inject({ method: 'GET', url: '/token?service=portcullis&scope=repository:acme/app:pull', headers: { authorization: auth(t.customer!) } });
      const bearer = anonymous.as(`Bearer ${tokenRes.json().token as string}`);
      expect((await bearer.get('/v2/acme/app/manifests/1.0')).statusCode).toBe(200);
      expect(expectOciError(await bearer.get('/v2/acme/app/manifests/2.0'), 403, 'DENIED').message).toBe('tag 2.0 is outside 1.*');
      expectOciError(await bearer.get(`/v2/acme/app/blobs/${layer2.digest}`), 403, 'DENIED');
    });

    it('a license that has ended stops pulls from that moment', async () => {
      const saved = inst.clock.now;
      try {
        inst.clock.now = new Date(saved.getTime() + 31 * 86_400_000);
        const res = expectOciError(await customer.get('/v2/acme/app/manifests/1.0'), 403, 'DENIED');
        expect(res.message).toBe(`license for acme/app ended ${new Date(saved.getTime() + 30 * 86_400_000).toISOString().slice(0, 10)}`);
        expectOciError(await customer.get(`/v2/acme/app/blobs/${layer1.digest}`), 403, 'DENIED');
      } finally {
        inst.clock.now = saved;
      }
      expect((await customer.get('/v2/acme/app/manifests/1.0')).statusCode).toBe(200);
    });

    it('a suspended license stops the next request with 403; resuming it lets the customer back in', async () => {
      expect((await initech.get('/v2/acme/app/manifests/2.0')).statusCode).toBe(200);
      await changeLicenseStatus(inst.runtime, acme, initechLicense, 'suspend');
      try {
        const res = expectOciError(await initech.get('/v2/acme/app/manifests/2.0'), 403, 'DENIED');
        expect(res.message).toBe(`license ${initechLicense} for acme/app is suspended`);
        expectOciError(await initech.get(`/v2/acme/app/blobs/${layer1.digest}`), 403, 'DENIED');
        expect((await initech.get('/v2/_catalog')).json()).toEqual({ repositories: [] });
      } finally {
        await changeLicenseStatus(inst.runtime, acme, initechLicense, 'resume');
      }
      expect((await initech.get('/v2/acme/app/manifests/2.0')).statusCode).toBe(200);
    });

    it('an invalid repository name is 400 NAME_INVALID', async () => {
      expectOciError(await vendor.get('/v2/Acme/App/tags/list'), 400, 'NAME_INVALID');
      expectOciError(await vendor.get(`/v2/acme/-app/manifests/1.0`), 400, 'NAME_INVALID');
      expectOciError(await vendor.post('/v2/acme/App/blobs/uploads/'), 400, 'NAME_INVALID');
    });
  });
});

