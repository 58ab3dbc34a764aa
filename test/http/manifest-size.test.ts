/**
 * A manifest over the 4 MiB limit is refused with 413 SIZE_INVALID and an OCI
 * error body that the client actually receives, while it is still sending,
 * in both registry modes. Real sockets: app.inject cannot show a TCP reset.
 */
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MANIFEST_BYTES } from '../../src/core/oci-manifest.js';
import { buildApp } from '../../src/http/app.js';
import { startGateway, type Gateway } from '../helpers/gateway.js';
import { auth, MT } from '../helpers/oci-http.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { describeE2E } from '../helpers/system-tools.js';

/** 5 MiB of JSON that would be a manifest but for its size. */
const HUGE = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, annotations: { padding: 'x'.repeat(5 * 1024 * 1024) } }));

interface Answer {
  status: number;
  body: string;
}

/**
 * PUTs `body` in 64 KiB writes, as a client streaming a file does, with a
 * Content-Length or chunked. Rejects on a reset or any socket error.
 */
function put(url: string, authorization: string, body: Buffer, framing: 'content-length' | 'chunked'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'PUT',
      headers: { authorization, 'content-type': MT.manifest, ...(framing === 'content-length' ? { 'content-length': String(body.length) } : {}) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length) {
        const chunk = body.subarray(offset, offset + 65536);
        offset += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', writeMore);
      }
      req.end();
    };
    writeMore();
  });
}

function expectSizeInvalid(answer: Answer): void {
  expect(answer.status, answer.body).toBe(413);
  const parsed = JSON.parse(answer.body) as { errors: { code: string; message: string; detail: unknown }[] };
  expect(parsed.errors[0]).toEqual({ code: 'SIZE_INVALID', message: `a manifest may hold at most ${MAX_MANIFEST_BYTES} bytes`, detail: { limit: MAX_MANIFEST_BYTES } });
}

describe('a manifest over the size limit, built-in registry', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    inst = await startInstance('real-time');
    app = await buildApp(inst.runtime);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  it.each(['content-length', 'chunked'] as const)('answers 413 SIZE_INVALID to a 5 MiB PUT sent with %s', async (framing) => {
    expect(HUGE.length).toBeGreaterThan(MAX_MANIFEST_BYTES);
    expectSizeInvalid(await put(`${base}/v2/ops/app/manifests/1.0`, auth(inst.bootstrap), HUGE, framing));
    // Nothing was stored, and the server goes on answering.
    expect(await inst.runtime.store.listManifests('ops/app')).toEqual([]);
    const tags = await fetch(`${base}/v2/ops/app/tags/list`, { headers: { authorization: auth(inst.bootstrap) } });
    expect(tags.status).toBe(404);
  });

  it('still takes a manifest of exactly the limit as far as parsing it', async () => {
    const atLimit = Buffer.alloc(MAX_MANIFEST_BYTES, 0x20);
    const answer = await put(`${base}/v2/ops/app/manifests/1.0`, auth(inst.bootstrap), atLimit, 'content-length');
    expect(answer.status, answer.body).toBe(400);
    expect((JSON.parse(answer.body) as { errors: { code: string }[] }).errors[0]!.code).toBe('MANIFEST_INVALID');
  });
});

describeE2E('a manifest over the size limit, gateway mode', () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it.each(['content-length', 'chunked'] as const)('answers 413 SIZE_INVALID itself to a 5 MiB PUT sent with %s', async (framing) => {
    expectSizeInvalid(await put(`${gw.url}/v2/ops/app/manifests/1.0`, auth(gw.inst.bootstrap), HUGE, framing));
    // The upstream never saw it: the repository does not exist there.
    const tags = await fetch(`${gw.url}/v2/ops/app/tags/list`, { headers: { authorization: auth(gw.inst.bootstrap) } });
    expect(tags.status).toBe(404);
  });
});
