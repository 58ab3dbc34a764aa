/**
 * Key rotation against the real registry (Debian's docker-registry, CNCF
 * distribution 2.8): a registry that trusts the instance CA stops trusting a
 * rotated-out key when that key's short leaf certificate ends, and the kid
 * path never trusts a key, because the bundle holds the CA alone.
 *
 * The attacker kept the old key's private key and its certificate chain (both
 * were in keys/, and the chain is in every token it signed) and forges a JWT
 * with a far `exp`, as anyone holding a rotated-out key could.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { renewSigningCertificate } from '../../src/auth/certificate-renewal.js';
import { certificateSettings, issueCertificateChain } from '../../src/auth/certificates.js';
import type { SigningKey } from '../../src/auth/signing-keys.js';
import { buildApp } from '../../src/http/app.js';
import { keyCertificateBundle, rotateKey } from '../../src/service/keys.js';
import { startDistribution, type Distribution } from '../helpers/distribution.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { describeE2E } from '../helpers/system-tools.js';

const DAY_MS = 86_400_000;
const toPem = (der: Buffer) => new X509Certificate(der).toString();

describeE2E('key rotation: docker-registry stops trusting a rotated-out key', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let portcullis: string;
  let registry: Distribution;
  let oldStyleRegistry: Distribution | undefined;
  let work: string;
  let oldKey: SigningKey;
  /** What the attacker kept: the old key's chain as it was when the key signed (leaf, CA). */
  let keptChain: Buffer[];
  let bundleFile: string;
  const realNow = Date.now();

  beforeAll(async () => {
    // Eight days ago, on a clock the test moves: the instance starts, gets its CA, and rotates a minute later.
    inst = await startInstance(new Date(realNow - 8 * DAY_MS));
    app = await buildApp(inst.runtime);
    portcullis = await app.listen({ host: '127.0.0.1', port: 0 });
    work = mkdtempSync(join(tmpdir(), 'portcullis-rotation-'));
    bundleFile = join(work, 'bundle.pem');
    writeFileSync(bundleFile, (await keyCertificateBundle(inst.runtime, inst.caller)).bundle);
    inst.runtime.keys.refresh(true);
    oldKey = inst.runtime.keys.current();
    keptChain = oldKey.certificateChain;
    expect(keptChain).toHaveLength(2);

    inst.clock.now = new Date(realNow - 8 * DAY_MS + 60_000);
    await rotateKey(inst.runtime, inst.caller);
    inst.runtime.keys.refresh(true);
    expect(inst.runtime.keys.current().name).not.toBe(oldKey.name);

    inst.clock.now = new Date();
    registry = await startDistribution({ auth: { realm: `${portcullis}/token`, service: 'portcullis', issuer: 'portcullis', rootCertBundle: bundleFile } });
  });

  afterAll(async () => {
    await registry?.stop();
    await oldStyleRegistry?.stop();
    await app?.close();
    await inst?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A JWT from Portcullis' own /token, for the bootstrap vendor token, on the real clock. */
  const portcullisJwt = async (): Promise<string> => {
    inst.clock.now = new Date();
    const { id } = inst.bootstrap.token;
    const res = await fetch(`${portcullis}/token?service=portcullis&scope=repository:acme/app:pull`, {
      headers: { authorization: `Basic ${Buffer.from(`${id}:${inst.bootstrap.secret}`).toString('base64')}` },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };

  /** The attacker's JWT: signed with the old key's file, `exp` a month away, push rights. */
  const forge = (header: { x5c?: Buffer[] }): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const privateKey = createPrivateKey(readFileSync(join(inst.dataDir, 'keys', `${oldKey.name}.pem`), 'utf8'));
    return new SignJWT({ iss: 'portcullis', sub: 'attacker', aud: 'portcullis', iat: now, nbf: now, exp: now + 30 * 86_400, jti: 'forged', access: [{ type: 'repository', name: 'acme/app', actions: ['pull', 'push'] }] })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: oldKey.kid, ...(header.x5c ? { x5c: header.x5c.map((der) => der.toString('base64')) } : {}) })
      .sign(privateKey);
  };

  /** 200: the registry took the JWT; 401: it refused it. */
  const registryAnswer = async (reg: Distribution, jwt: string): Promise<number> => {
    const res = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Bearer ${jwt}` } });
    await res.arrayBuffer();
    return res.status;
  };

  it("an expired leaf is an outage for the current key until serve's renewal gives it a new one", async () => {
    const stale = await portcullisJwt();
    expect(decodeProtectedHeader(stale).kid).toBe(inst.runtime.keys.current().kid);
    expect(await registryAnswer(registry, stale)).toBe(401);

    const renewed = await renewSigningCertificate(inst.runtime);
    expect(renewed).toMatchObject({ state: 'issued', reason: 'expired', key: { name: inst.runtime.keys.current().name } });
    const fresh = await portcullisJwt();
    expect(decodeProtectedHeader(fresh).x5c).toHaveLength(2);
    expect(await registryAnswer(registry, fresh)).toBe(200);
  });

  it('the rotated-out key, with the chain the attacker kept, is refused: its leaf ended and was never renewed', async () => {
    // Renewal looked at the current key only: the old key's chain on disk is still the one it signed with.
    inst.runtime.keys.refresh(true);
    const onDisk = inst.runtime.keys.all().find((k) => k.name === oldKey.name)!;
    expect(onDisk.certificateChain).toEqual(keptChain);
    expect(Date.parse(new X509Certificate(keptChain[0]!).validTo)).toBeLessThan(Date.now());

    expect(await registryAnswer(registry, await forge({ x5c: keptChain }))).toBe(401);
    expect(registry.logs()).toMatch(/certificate has expired or is not yet valid/);
    // Without x5c the registry looks the kid up in its bundle, which holds the CA alone.
    expect(await registryAnswer(registry, await forge({}))).toBe(401);
    expect(registry.logs()).toMatch(/token signed by untrusted key with ID/);
  });

  it('the same forgery with a leaf that has not ended is accepted: what stops the attacker is the leaf’s end', async () => {
    // A control for the test itself: the forged JWT is well formed, so the refusals above are the leaf's doing.
    const unexpired = (await issueCertificateChain(certificateSettings(inst.runtime.config), oldKey, new Date()))!;
    expect(await registryAnswer(registry, await forge({ x5c: unexpired }))).toBe(200);
  });

  it('a bundle that also holds leaf certificates (as older versions wrote it) trusts a rotated-out key by kid, whatever its dates', async () => {
    const oldStyle = join(work, 'old-style-bundle.pem');
    writeFileSync(oldStyle, `${toPem(keptChain[1]!)}${toPem(keptChain[0]!)}`);
    oldStyleRegistry = await startDistribution({ auth: { realm: `${portcullis}/token`, service: 'portcullis', issuer: 'portcullis', rootCertBundle: oldStyle } });
    expect(await registryAnswer(oldStyleRegistry, await forge({}))).toBe(200);
    // The bundle Portcullis writes now is the CA alone.
    expect(readFileSync(bundleFile, 'utf8').match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
  });
});
