import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { presentAudit } from '../../src/present.js';
import { expectCliError, initDataDir, removeDataDir, runCliAsync, runCliJsonAsync, runOkAsync, type Banner } from '../helpers/cli.js';

type AuditJson = ReturnType<typeof presentAudit>;

interface VendorJson {
  id: string;
  name: string;
  namespaces: string[];
  operator: boolean;
  created_at: string;
}

interface IdJson {
  id: string;
}

interface TokenJson {
  username: string;
  type: string;
}

let dataDir: string;
let bootstrap: Banner;
const json = <T>(...args: string[]) => runCliJsonAsync<T>(dataDir, ...args);
const run = (...args: string[]) => runCliAsync(dataDir, ...args);
const ok = (...args: string[]) => runOkAsync(dataDir, ...args);

beforeAll(() => {
  ({ dataDir, banner: bootstrap } = initDataDir());
});
afterAll(() => removeDataDir(dataDir));

describe('audit', () => {
  /** Object ids of what the setup below did, by the action expected for them. */
  const ids: Record<string, string> = {};
  let events: AuditJson[];

  beforeAll(async () => {
    // Independent chains run side by side; each chain keeps its own order.
    await Promise.all([
      (async () => {
        const customer = await json<IdJson>('customer', 'create', '--name', 'acme');
        ids['customer.create'] = customer.id;
        await ok('customer', 'update', 'acme', '--contact', 'ops@acme.test');
        ids['customer.update'] = customer.id;
        const plan = await json<IdJson>('plan', 'create', '--name', 'gold', '--repos', 'acme/**');
        ids['plan.create'] = plan.id;
        const license = await json<IdJson>('license', 'create', '--customer', 'acme', '--plan', 'gold');
        ids['license.create'] = license.id;
        for (const action of ['suspend', 'resume', 'revoke']) {
          await ok('license', action, license.id);
          ids[`license.${action}`] = license.id;
        }
      })(),
      (async () => {
        const token = await json<TokenJson>('token', 'create', '--type', 'vendor', '--name', 'audited');
        ids['token.create'] = token.username;
        for (const action of ['disable', 'enable', 'revoke']) {
          await ok('token', action, token.username);
          ids[`token.${action}`] = token.username;
        }
      })(),
      (async () => {
        const spare = await json<IdJson>('plan', 'create', '--name', 'spare', '--repos', 'acme/spare');
        await ok('plan', 'delete', 'spare');
        ids['plan.delete'] = spare.id;
        const gone = await json<IdJson>('customer', 'create', '--name', 'gone');
        await ok('customer', 'delete', 'gone');
        ids['customer.delete'] = gone.id;
      })(),
    ]);
    events = await json<AuditJson[]>('audit');
  });

  it('records every change made through the CLI, with the object it touched', () => {
    expect(Object.keys(ids).sort()).toEqual(
      [
        'customer.create',
        'customer.delete',
        'customer.update',
        'license.create',
        'license.resume',
        'license.revoke',
        'license.suspend',
        'plan.create',
        'plan.delete',
        'token.create',
        'token.disable',
        'token.enable',
        'token.revoke',
      ].sort(),
    );
    for (const [action, objectId] of Object.entries(ids)) {
      const hit = events.find((e) => e.action === action && e.object_id === objectId);
      expect(hit, `${action} ${objectId}`).toBeDefined();
    }
  });

  it('names a cli: actor and a cli@ source for CLI changes', () => {
    const cliEvents = events.filter((e) => e.actor !== 'system');
    expect(cliEvents.length).toBeGreaterThanOrEqual(Object.keys(ids).length);
    for (const e of cliEvents) {
      expect(e.actor, e.action).toMatch(/^cli:.+/);
      expect(e.source, e.action).toMatch(/^cli@.+/);
    }
    expect(cliEvents[0]!.source).toBe(`cli@${hostname()}`);
  });

  it('keeps the system events of the first start', () => {
    expect(events.find((e) => e.action === 'token.create' && e.object_id === bootstrap.username)).toMatchObject({ actor: 'system', source: 'system' });
    expect(events.some((e) => e.action === 'vendor.create' && e.actor === 'system')).toBe(true);
  });

  it('lists events oldest first, with ids, times and object types', () => {
    const times = events.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    for (const e of events) {
      expect(e.id).toMatch(/^evt_/);
      expect(['vendor', 'token', 'customer', 'license', 'plan']).toContain(e.object_type);
    }
    expect(events.find((e) => e.action === 'token.disable')!.detail).toEqual({ from: 'active', to: 'disabled' });
  });

  describe.concurrent('filters', () => {
    it('--since 1h includes the recent events', async () => {
      const recent = await json<AuditJson[]>('audit', '--since', '1h');
      expect(recent.map((e) => e.id)).toEqual(events.map((e) => e.id));
    });

    it('--since a future date finds nothing', async () => {
      const [asJson, human] = await Promise.all([json<AuditJson[]>('audit', '--since', '2999-01-01'), run('audit', '--since', '2999-01-01')]);
      expect(asJson).toEqual([]);
      expect(human.stdout).toBe('(none)\n');
    });

    it('--since bogus fails with exit 2', async () => {
      expectCliError(await run('audit', '--since', 'bogus'), 2, /bogus/);
    });

    it('--object narrows the list to one object', async () => {
      const about = await json<AuditJson[]>('audit', '--object', ids['license.create']!);
      expect(about.map((e) => e.action)).toEqual(['license.create', 'license.suspend', 'license.resume', 'license.revoke']);
    });

    it('--limit keeps the latest events, still oldest first', async () => {
      const [latest, zero] = await Promise.all([json<AuditJson[]>('audit', '--limit', '2'), run('audit', '--limit', '0')]);
      expect(latest.map((e) => e.id)).toEqual(events.slice(-2).map((e) => e.id));
      expectCliError(zero, 2, /--limit/);
    });

    it('prints a table with a header in human output', async () => {
      const r = await run('audit');
      expect(r.status, r.stderr).toBe(0);
      const [header, ...rows] = r.stdout.trimEnd().split('\n');
      expect(header).toMatch(/^TIME\s+ACTOR\s+SOURCE\s+ACTION\s+OBJECT$/);
      expect(rows).toHaveLength(events.length);
    });
  });
});

describe('vendors', () => {
  let operator: VendorJson;
  let globex: VendorJson;
  let globexToken: TokenJson;

  it('the first start made the operator vendor; create makes a tenant owning <name>/**', async () => {
    const list = await json<VendorJson[]>('vendor', 'list');
    expect(list).toHaveLength(1);
    operator = list[0]!;
    expect(operator).toMatchObject({ name: 'operator', operator: true, namespaces: ['**'] });
    expect(operator.id).toMatch(/^ven_[0-9a-z]{16}$/);

    globex = await json<VendorJson>('vendor', 'create', '--name', 'globex');
    expect(globex).toMatchObject({ name: 'globex', namespaces: ['globex/**'], operator: false });
    expect(globex.id).toMatch(/^ven_[0-9a-z]{16}$/);
  });

  it('create takes --namespaces and prints details; refuses a duplicate or badly formed name', async () => {
    const [r, dup, upper] = await Promise.all([
      run('vendor', 'create', '--name', 'initech', '--namespaces', 'initech/**,shared/initech'),
      run('vendor', 'create', '--name', 'globex'),
      run('vendor', 'create', '--name', 'Globex'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^name:\s+initech$/m);
    expect(r.stdout).toMatch(/^namespaces:\s+initech\/\*\*,shared\/initech$/m);
    expect(r.stdout).toMatch(/^operator:\s+false$/m);
    expectCliError(dup, 1, /already exists/);
    expectCliError(upper, 2, /lower case/);
  });

  it('list and show', async () => {
    const [list, byName, byId, table, missing] = await Promise.all([
      json<VendorJson[]>('vendor', 'list'),
      json<VendorJson>('vendor', 'show', 'globex'),
      json<VendorJson>('vendor', 'show', globex.id),
      run('vendor', 'list'),
      run('vendor', 'show', 'nope'),
    ]);
    expect(list.map((v) => v.name).sort()).toEqual(['globex', 'initech', 'operator']);
    expect(byName).toEqual(globex);
    expect(byId).toEqual(globex);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+NAMESPACES\s+OPERATOR$/);
    expectCliError(missing, 1, /vendor nope not found/);
  });

  it('--vendor NAME acts for that vendor: its token list holds none of the operator tokens', async () => {
    globexToken = await runCliJsonAsync<TokenJson>(dataDir, '--vendor', 'globex', 'token', 'create', '--type', 'vendor', '--name', 'globex-ci');
    const [theirs, ours, afterSubcommand] = await Promise.all([
      runCliJsonAsync<TokenJson[]>(dataDir, '--vendor', 'globex', 'token', 'list'),
      json<TokenJson[]>('token', 'list'),
      // By id, and after the subcommand: global options go anywhere.
      run('token', 'list', '--vendor', globex.id, '--json'),
    ]);
    expect(theirs.map((t) => t.username)).toEqual([globexToken.username]);
    expect(ours.map((t) => t.username)).toContain(bootstrap.username);
    expect(ours.map((t) => t.username)).not.toContain(globexToken.username);
    expect(afterSubcommand.status, afterSubcommand.stderr).toBe(0);
    expect((JSON.parse(afterSubcommand.stdout) as TokenJson[]).map((t) => t.username)).toEqual([globexToken.username]);
  });

  it("a vendor cannot see or change another vendor's objects", async () => {
    const [show, revoke, customer] = await Promise.all([
      run('--vendor', 'globex', 'token', 'show', bootstrap.username),
      run('--vendor', 'globex', 'token', 'revoke', bootstrap.username),
      run('--vendor', 'globex', 'customer', 'show', 'acme'),
    ]);
    expectCliError(show, 1, /not found/);
    expectCliError(revoke, 1, /not found/);
    expectCliError(customer, 1, /not found/);
    expect(await json<TokenJson & { state: string }>('token', 'show', bootstrap.username)).toMatchObject({ username: bootstrap.username, state: 'active' });
  });

  it('customer names are unique per vendor only', async () => {
    const theirs = await runCliJsonAsync<IdJson>(dataDir, '--vendor', 'globex', 'customer', 'create', '--name', 'acme');
    const [ours, list] = await Promise.all([
      json<IdJson>('customer', 'show', 'acme'),
      runCliJsonAsync<{ name: string }[]>(dataDir, '--vendor', 'globex', 'customer', 'list'),
    ]);
    expect(theirs.id).not.toBe(ours.id);
    expect(list.map((c) => c.name)).toEqual(['acme']);
  });

  it("a vendor's audit log holds its own events only", async () => {
    const [theirs, ours] = await Promise.all([runCliJsonAsync<AuditJson[]>(dataDir, '--vendor', 'globex', 'audit'), json<AuditJson[]>('audit')]);
    expect(theirs.find((e) => e.action === 'vendor.create')).toMatchObject({ object_id: globex.id });
    expect(theirs.some((e) => e.action === 'token.create' && e.object_id === globexToken.username)).toBe(true);
    expect(theirs.some((e) => e.object_id === bootstrap.username)).toBe(false);
    expect(ours.some((e) => e.object_id === globexToken.username)).toBe(false);
    expect(ours.some((e) => e.action === 'vendor.create' && e.object_id === globex.id)).toBe(true);
  });

  it('only the operator vendor manages vendors', async () => {
    const [create, list, show] = await Promise.all([
      run('--vendor', 'globex', 'vendor', 'create', '--name', 'evil'),
      run('--vendor', 'globex', 'vendor', 'list'),
      run('--vendor', 'globex', 'vendor', 'show', 'operator'),
    ]);
    expectCliError(create, 1, /owner-level authority of the operator vendor/);
    // Another vendor sees itself only, and the operator not at all: "not found", never "forbidden".
    expect(list.status).toBe(0);
    expect(list.stdout).toContain('globex');
    expect(list.stdout).not.toMatch(/ven_\S+\s+operator/);
    expectCliError(show, 1, /vendor operator not found/);
    expect((await json<VendorJson[]>('vendor', 'list')).map((v) => v.name)).not.toContain('evil');
  });

  it('--vendor with an unknown vendor fails with "not found"', async () => {
    expectCliError(await run('--vendor', 'nope', 'token', 'list'), 1, /vendor nope not found/);
  });
});
