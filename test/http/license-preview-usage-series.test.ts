import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { createCustomer } from '../../src/service/customers.js';
import { createLicense } from '../../src/service/licenses.js';
import { createPlan } from '../../src/service/plans.js';
import { createToken, type CreatedToken } from '../../src/service/tokens.js';
import { createVendor } from '../../src/service/vendors.js';
import type { UsageEvent } from '../../src/core/model.js';
import { startInstance, type TestInstance } from '../helpers/runtime.js';
import { ownerCaller } from '../../src/service/context.js';

/** The dashboard's two read-only helpers: the license preview and the pulls-per-day chart. */
describe('license preview and usage series', () => {
  let inst: TestInstance;
  let app: FastifyInstance;
  let admin: CreatedToken;
  let acmeAdmin: CreatedToken;
  let licenseId: string;
  let acmeLicenseId: string;
  const ids: Record<string, string> = {};

  const call = (method: 'GET' | 'POST', url: string, token: CreatedToken, payload?: object) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token.token.id}.${token.secret}` }, ...(payload ? { payload } : {}) });

  async function image(repository: string, tags: string[]) {
    const digest = `sha256:${Buffer.from(repository).toString('hex').padEnd(64, '0').slice(0, 64)}`;
    await inst.runtime.store.putManifest({ repository, digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 2, subject: null, artifactType: null, annotations: null, children: [], createdAt: inst.clock.now });
    for (const tag of tags) await inst.runtime.store.setTag(repository, tag, digest, inst.clock.now);
  }

  beforeAll(async () => {
    inst = await startInstance();
    app = await buildApp(inst.runtime);
    const rt = inst.runtime;
    admin = await createToken(rt, inst.caller, { type: 'vendor', name: 'admin', scopes: 'admin:*:*' });
    await image('app/web', ['1.0', '1.1', '2.0', 'latest']);
    await image('app/db', ['5']);
    await image('tools/cli', ['1.0']);
    const vendor = await createVendor(rt, inst.caller, { name: 'acme', namespaces: 'acme/**' });
    const acme = ownerCaller(vendor, { name: 'test', source: 'test' });
    await image('acme/secret', ['1.0']);
    acmeAdmin = await createToken(rt, acme, { type: 'vendor', name: 'acme admin', scopes: 'admin:*:*' });
    const acmeCustomer = await createCustomer(rt, acme, { name: 'hooli' });
    acmeLicenseId = (await createLicense(rt, acme, { customer: acmeCustomer.id, repositories: 'acme/**' })).id;

    const globex = await createCustomer(rt, inst.caller, { name: 'globex' });
    const initech = await createCustomer(rt, inst.caller, { name: 'initech' });
    ids.globex = globex.id;
    ids.initech = initech.id;
    await createPlan(rt, inst.caller, { name: 'tools', repositories: 'tools/*' });
    licenseId = (await createLicense(rt, inst.caller, { customer: globex.id, repositories: 'app/*', tags: '1.*' })).id;

    const at = (daysAgo: number) => new Date(inst.clock.now.getTime() - daysAgo * 86_400_000);
    let n = 0;
    const ev = (daysAgo: number, repository: string, customerId: string | null, action: 'pull' | 'push' = 'pull', vendorId = inst.caller.vendorId): UsageEvent => ({
      id: `evt_${String(n++).padStart(4, '0')}`,
      at: at(daysAgo),
      vendorId,
      tokenId: 'ctok_aaaaaaaaaaaaaaaa',
      customerId,
      action,
      repository,
      tag: '1.0',
      digest: 'sha256:' + '0'.repeat(64),
      ip: '192.0.2.1',
      userAgent: 'skopeo/1.13',
    });
    await rt.store.insertUsage([
      ev(0, 'app/web', globex.id),
      ev(0, 'app/web', globex.id),
      ev(1, 'app/db', initech.id),
      ev(1, 'app/db', null, 'push'),
      ev(40, 'app/web', globex.id),
      ev(0, 'acme/secret', acmeCustomer.id, 'pull', vendor.id),
    ]);
  });
  afterAll(async () => {
    await app?.close();
    await inst?.cleanup();
  });

  it('previews which existing repositories and tags patterns would open', async () => {
    const res = await call('POST', '/api/v1/licenses/preview', admin, { repositories: ['app/*'], tags: ['1.*'] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      repositories: [
        { name: 'app/db', tags: [{ tag: '5', opened: false }] },
        { name: 'app/web', tags: [{ tag: '1.0', opened: true }, { tag: '1.1', opened: true }, { tag: '2.0', opened: false }, { tag: 'latest', opened: false }] },
      ],
      truncated: false,
    });
  });

  it('previews a plan; a vendor sees only repositories inside its namespaces', async () => {
    const plan = await call('POST', '/api/v1/licenses/preview', admin, { plan: 'tools' });
    expect(plan.json().repositories.map((r: { name: string }) => r.name)).toEqual(['tools/cli']);
    const acme = await call('POST', '/api/v1/licenses/preview', acmeAdmin, { repositories: ['**'] });
    expect(acme.json().repositories.map((r: { name: string }) => r.name)).toEqual(['acme/secret']);
  });

  it('previews a license on record, 404 for another vendor\'s', async () => {
    const res = await call('GET', `/api/v1/licenses/${licenseId}/preview`, admin);
    expect(res.statusCode).toBe(200);
    const web = res.json().repositories.find((r: { name: string }) => r.name === 'app/web');
    expect(web.tags.filter((t: { opened: boolean }) => t.opened).map((t: { tag: string }) => t.tag)).toEqual(['1.0', '1.1']);
    expect((await call('GET', `/api/v1/licenses/${acmeLicenseId}/preview`, admin)).statusCode).toBe(404);
  });

  it.each([
    [{ repositories: ['app/['] }, 'repositories'],
    [{ repositories: ['app/*'], tags: ['bad tag!'] }, 'tags'],
    [{}, 'repositories'],
    [{ repositories: ['app/*'], plan: 'tools' }, 'plan'],
  ])('refuses a bad preview %j naming %s', async (body, field) => {
    const res = await call('POST', '/api/v1/licenses/preview', admin, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
  });

  it('404 for an unknown plan in a preview', async () => {
    expect((await call('POST', '/api/v1/licenses/preview', admin, { plan: 'nope' })).statusCode).toBe(404);
  });

  it('charts pulls per day for each customer, named, within the range', async () => {
    const res = await call('GET', '/api/v1/usage/series?since=3d', admin);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.days).toHaveLength(4);
    expect(body.days.at(-1)).toBe(inst.clock.now.toISOString().slice(0, 10));
    expect(body.series).toEqual([
      { key: ids.globex, label: 'globex', counts: [0, 0, 0, 2] },
      { key: ids.initech, label: 'initech', counts: [0, 0, 1, 0] },
    ]);
    expect(body.truncated).toBe(false);
  });

  it('charts per repository, filtered by customer, 30 days by default', async () => {
    const res = await call('GET', `/api/v1/usage/series?by=repository&customer=globex`, admin);
    const body = res.json();
    expect(body.days).toHaveLength(31);
    expect(body.series.map((s: { key: string; counts: number[] }) => [s.key, s.counts.reduce((a, b) => a + b, 0)])).toEqual([['app/web', 2]]);
  });

  it('keeps each vendor to its own pulls, and refuses bad ranges', async () => {
    const acme = (await call('GET', '/api/v1/usage/series?by=repository', acmeAdmin)).json();
    expect(acme.series.map((s: { key: string }) => s.key)).toEqual(['acme/secret']);
    const tooLong = await call('GET', '/api/v1/usage/series?since=2y', admin);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().field).toBe('since');
    expect((await call('GET', '/api/v1/usage/series?by=tag', admin)).statusCode).toBe(400);
  });
});
