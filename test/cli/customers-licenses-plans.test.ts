import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, initDataDir, removeDataDir, runCliAsync, runCliJsonAsync } from '../helpers/cli.js';

interface CustomerJson {
  id: string;
  name: string;
  contact: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

interface PlanJson {
  id: string;
  name: string;
  description: string | null;
  repositories: string[];
  actions: string[];
}

interface LicenseJson {
  id: string;
  customer_id: string;
  name: string | null;
  repositories: string[];
  plan_id: string | null;
  tags: string[];
  valid_from: string;
  valid_until: string | null;
  status: string;
}

interface TokenJson {
  username: string;
  customer_id: string | null;
  status: string;
  state: string;
}

let dataDir: string;

beforeAll(() => {
  ({ dataDir } = initDataDir());
});
afterAll(() => removeDataDir(dataDir));

const json = <T>(...args: string[]) => runCliJsonAsync<T>(dataDir, ...args);
const run = (...args: string[]) => runCliAsync(dataDir, ...args);
const customerNames = async () => (await json<CustomerJson[]>('customer', 'list')).map((c) => c.name);
const planNames = async () => (await json<PlanJson[]>('plan', 'list')).map((p) => p.name).sort();
const licenseIds = async (...args: string[]) => (await json<LicenseJson[]>('license', 'list', ...args)).map((l) => l.id);

/**
 * The three areas share one data dir but run side by side (the runner has one
 * worker, and each command costs a process start); the steps inside each area
 * run in order. Each area uses its own customers and plans, and only asserts
 * on those.
 */
const step = it.sequential;

describe.concurrent('customers, plans and licenses', () => {
  describe('customers', () => {
    let acme: CustomerJson;

    step('create prints the new customer; create --json prints JSON', async () => {
      const [human, globex] = await Promise.all([
        run('customer', 'create', '--name', 'acme', '--contact', 'ops@acme.test'),
        json<CustomerJson>('customer', 'create', '--name', 'globex'),
      ]);
      expect(human.status, human.stderr).toBe(0);
      expect(human.stderr).toBe('');
      expect(human.stdout).toMatch(/^id:\s+cus_[0-9a-z]{16}$/m);
      expect(human.stdout).toMatch(/^name:\s+acme$/m);
      expect(human.stdout).toMatch(/^contact:\s+ops@acme\.test$/m);
      expect(globex).toMatchObject({ name: 'globex', contact: null, deleted_at: null });
      expect(globex.id).toMatch(/^cus_[0-9a-z]{16}$/);
    });

    step('show finds a customer by name or by id', async () => {
      acme = await json<CustomerJson>('customer', 'show', 'acme');
      expect(acme).toMatchObject({ name: 'acme', contact: 'ops@acme.test', deleted_at: null });
      expect(acme.id).toMatch(/^cus_[0-9a-z]{16}$/);
      expect(await json<CustomerJson>('customer', 'show', acme.id)).toEqual(acme);
    });

    step('refuses a duplicate name and a name that looks like an id', async () => {
      const [dup, idLike] = await Promise.all([run('customer', 'create', '--name', 'acme'), run('customer', 'create', '--name', 'cus_fake')]);
      expectCliError(dup, 1, /a customer named acme already exists/);
      expectCliError(idLike, 2, /cus_/);
    });

    step('list shows every customer, as JSON or as a table', async () => {
      const [list, table] = await Promise.all([json<CustomerJson[]>('customer', 'list'), run('customer', 'list')]);
      expect(list.map((c) => c.name)).toEqual(expect.arrayContaining(['acme', 'globex']));
      expect(list.find((c) => c.name === 'acme')).toEqual(acme);
      expect(table.status).toBe(0);
      const [header, ...rows] = table.stdout.trimEnd().split('\n');
      expect(header).toMatch(/^ID\s+NAME\s+CONTACT\s+CREATED$/);
      expect(rows).toHaveLength(list.length);
      expect(rows.find((r) => r.startsWith(acme.id))).toMatch(/\sacme\s+ops@acme\.test\s/);
    });

    step('show of an unknown customer fails with "not found"', async () => {
      expectCliError(await run('customer', 'show', 'cus_0000000000000000'), 1, /customer cus_0000000000000000 not found/);
    });

    step('update changes the name and the contact, and an empty contact clears it', async () => {
      const renamed = await json<CustomerJson>('customer', 'update', 'globex', '--name', 'globex-corp', '--contact', 'it@globex.test');
      expect(renamed).toMatchObject({ name: 'globex-corp', contact: 'it@globex.test' });
      const cleared = await json<CustomerJson>('customer', 'update', renamed.id, '--contact', '');
      expect(cleared).toMatchObject({ id: renamed.id, name: 'globex-corp', contact: null });
      const names = await customerNames();
      expect(names).toEqual(expect.arrayContaining(['acme', 'globex-corp']));
      expect(names).not.toContain('globex');
    });

    step('update refuses a name another customer has', async () => {
      expectCliError(await run('customer', 'update', 'globex-corp', '--name', 'acme'), 1, /already exists/);
    });

    step('delete of a customer with nothing attached needs no --force', async () => {
      const temp = await json<CustomerJson>('customer', 'create', '--name', 'temp');
      const r = await run('customer', 'delete', 'temp');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`deleted ${temp.id} (temp); revoked 0 token(s) and 0 license(s)\n`);
    });

    describe('delete of a customer with tokens or licenses', () => {
      let doomed: CustomerJson;
      let licensed: CustomerJson;
      let token: TokenJson;
      let license: LicenseJson;

      beforeAll(async () => {
        [doomed, licensed] = await Promise.all([
          json<CustomerJson>('customer', 'create', '--name', 'doomed'),
          json<CustomerJson>('customer', 'create', '--name', 'licensed'),
        ]);
        [token, license] = await Promise.all([
          json<TokenJson>('token', 'create', '--type', 'customer', '--name', 'doomed-pull', '--customer', 'doomed'),
          json<LicenseJson>('license', 'create', '--customer', 'doomed', '--repos', 'acme/app'),
          json<LicenseJson>('license', 'create', '--customer', 'licensed', '--repos', 'acme/lib'),
        ]);
      });

      step('fails without --force, naming --force, and changes nothing', async () => {
        const [withToken, licenseOnly] = await Promise.all([run('customer', 'delete', 'doomed'), run('customer', 'delete', licensed.id)]);
        expectCliError(withToken, 1, /--force/);
        expectCliError(licenseOnly, 1, /--force/);
        expect((await json<TokenJson>('token', 'show', token.username)).status).toBe('active');
      });

      step('with --force revokes its tokens and licenses and deletes it', async () => {
        const r = await json<CustomerJson & { revoked_tokens: string[]; revoked_licenses: string[] }>('customer', 'delete', 'doomed', '--force');
        expect(r.id).toBe(doomed.id);
        expect(r.deleted_at).not.toBeNull();
        expect(r.revoked_tokens).toEqual([token.username]);
        expect(r.revoked_licenses).toEqual([license.id]);

        const [tokens, licenses, names] = await Promise.all([
          json<TokenJson[]>('token', 'list'),
          json<LicenseJson[]>('license', 'list', '--status', 'revoked'),
          customerNames(),
        ]);
        expect(tokens.find((t) => t.username === token.username)).toMatchObject({ status: 'revoked', customer_id: doomed.id });
        expect(licenses.find((l) => l.id === license.id)).toMatchObject({ status: 'revoked', customer_id: doomed.id });
        expect(names).not.toContain('doomed');
        expect(names).toContain('licensed');
      });

      step("the deleted customer's id still finds its revoked tokens and licenses", async () => {
        const [tokens, licenses] = await Promise.all([
          json<TokenJson[]>('token', 'list', '--customer', doomed.id),
          json<LicenseJson[]>('license', 'list', '--customer', doomed.id),
        ]);
        expect(tokens.map((t) => [t.username, t.status])).toEqual([[token.username, 'revoked']]);
        expect(licenses.map((l) => [l.id, l.status])).toEqual([[license.id, 'revoked']]);
      });

      step('human output of delete --force counts what it revoked; the name can be used again', async () => {
        const [r, again] = await Promise.all([run('customer', 'delete', 'licensed', '--force'), json<CustomerJson>('customer', 'create', '--name', 'doomed')]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe(`deleted ${licensed.id} (licensed); revoked 0 token(s) and 1 license(s)\n`);
        expect(again.id).not.toBe(doomed.id);
      });
    });
  });

  describe('plans', () => {
    let gold: PlanJson;

    step('create stores repositories, actions and description; defaults actions to pull', async () => {
      const [g, human] = await Promise.all([
        json<PlanJson>('plan', 'create', '--name', 'gold', '--repos', 'acme/*,acme/tools/**', '--actions', 'push,pull', '--description', 'everything'),
        run('plan', 'create', '--name', 'basic', '--repos', 'acme/app'),
      ]);
      gold = g;
      expect(gold.id).toMatch(/^pln_[0-9a-z]{16}$/);
      expect(gold).toMatchObject({ name: 'gold', repositories: ['acme/*', 'acme/tools/**'], actions: ['pull', 'push'], description: 'everything' });
      expect(human.status, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/^name:\s+basic$/m);
      expect(human.stdout).toMatch(/^repositories:\s+acme\/app$/m);
      expect(human.stdout).toMatch(/^actions:\s+pull$/m);
    });

    step('refuses a duplicate name, an unknown action and a bad pattern', async () => {
      const [dup, action, pattern] = await Promise.all([
        run('plan', 'create', '--name', 'gold', '--repos', 'acme/x'),
        run('plan', 'create', '--name', 'p2', '--repos', 'acme/x', '--actions', 'fly'),
        run('plan', 'create', '--name', 'p3', '--repos', 'Acme/X'),
      ]);
      expectCliError(dup, 1, /already exists/);
      expectCliError(action, 2, /fly/);
      expectCliError(pattern, 2, /Acme\/X/);
    });

    step('list and show', async () => {
      const [names, byName, byId, table, missing] = await Promise.all([
        planNames(),
        json<PlanJson>('plan', 'show', 'gold'),
        json<PlanJson>('plan', 'show', gold.id),
        run('plan', 'list'),
        run('plan', 'show', 'nope'),
      ]);
      expect(names).toEqual(expect.arrayContaining(['basic', 'gold']));
      expect(byName).toEqual(gold);
      expect(byId).toEqual(gold);
      expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+REPOSITORIES\s+ACTIONS$/);
      expectCliError(missing, 1, /plan nope not found/);
    });

    step('delete removes an unreferenced plan', async () => {
      const r = await run('plan', 'delete', 'basic');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^deleted pln_[0-9a-z]{16} \(basic\)\n$/);
      const names = await planNames();
      expect(names).toContain('gold');
      expect(names).not.toContain('basic');
    });

    step('delete is refused while a license references the plan', async () => {
      await json<CustomerJson>('customer', 'create', '--name', 'gold-buyer');
      const lic = await json<LicenseJson>('license', 'create', '--customer', 'gold-buyer', '--plan', 'gold');
      expectCliError(await run('plan', 'delete', 'gold'), 1, new RegExp(`referenced by 1 license\\(s\\): ${lic.id}`));
      expect(await planNames()).toContain('gold');
    });
  });

  describe('licenses', () => {
    let buyer: CustomerJson;
    let silver: PlanJson;
    let byRepos: LicenseJson;

    beforeAll(async () => {
      [buyer, silver] = await Promise.all([
        json<CustomerJson>('customer', 'create', '--name', 'initech'),
        json<PlanJson>('plan', 'create', '--name', 'silver', '--repos', 'initech/**'),
      ]);
    });

    step('create with --repos and --tags', async () => {
      byRepos = await json<LicenseJson>('license', 'create', '--customer', 'initech', '--repos', 'acme/app,acme/libs/*', '--tags', '1.*,stable', '--name', 'main');
      expect(byRepos.id).toMatch(/^lic_[0-9a-z]{16}$/);
      expect(byRepos).toMatchObject({
        customer_id: buyer.id,
        name: 'main',
        repositories: ['acme/app', 'acme/libs/*'],
        plan_id: null,
        tags: ['1.*', 'stable'],
        valid_until: null,
        status: 'active',
      });
      expect(Math.abs(Date.parse(byRepos.valid_from) - Date.now())).toBeLessThan(60_000);
    });

    describe.concurrent('create', () => {
      it('prints details in human output', async () => {
        const r = await run('license', 'create', '--customer', buyer.id, '--repos', 'acme/app');
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^id:\s+lic_[0-9a-z]{16}$/m);
        expect(r.stdout).toMatch(/^tags:\s+\(all\)$/m);
        expect(r.stdout).toMatch(/^valid until:\s+no end$/m);
        expect(r.stdout).toMatch(/^status:\s+active$/m);
      });

      it('with --plan', async () => {
        const l = await json<LicenseJson>('license', 'create', '--customer', 'initech', '--plan', 'silver');
        expect(l).toMatchObject({ plan_id: silver.id, repositories: [], tags: [] });
      });

      it('refuses neither --repos nor --plan', async () => {
        expectCliError(await run('license', 'create', '--customer', 'initech'), 2, /repository patterns or a plan/);
      });

      it('refuses both --repos and --plan', async () => {
        expectCliError(await run('license', 'create', '--customer', 'initech', '--repos', 'acme/app', '--plan', 'silver'), 2, /not both/);
      });

      it('refuses an unknown customer or plan', async () => {
        const [customer, plan] = await Promise.all([
          run('license', 'create', '--customer', 'nobody', '--repos', 'acme/app'),
          run('license', 'create', '--customer', 'initech', '--plan', 'platinum'),
        ]);
        expectCliError(customer, 1, /customer nobody not found/);
        expectCliError(plan, 1, /plan platinum not found/);
      });

      it('refuses the repository pattern Acme/App with a clear message', async () => {
        expectCliError(await run('license', 'create', '--customer', 'initech', '--repos', 'Acme/App'), 2, /"Acme\/App".*lower case/);
      });

      it('refuses the tag pattern semver:>=x', async () => {
        expectCliError(await run('license', 'create', '--customer', 'initech', '--repos', 'acme/app', '--tags', 'semver:>=x'), 2, /semver:>=x/);
      });

      it('keeps a semver range with a space (the --tags help example) as one pattern', async () => {
        // `portcullis license create --help` offers "semver:>=1.2 <2" as an example tag pattern.
        const r = await run('license', 'create', '--customer', 'initech', '--repos', 'acme/app', '--tags', 'semver:>=1.2 <2,stable', '--json');
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect((JSON.parse(r.stdout) as LicenseJson).tags).toEqual(['semver:>=1.2 <2', 'stable']);
      });

      it('--until 1y ends the license a calendar year after it starts', async () => {
        const l = await json<LicenseJson>('license', 'create', '--customer', 'initech', '--repos', 'acme/app', '--until', '1y');
        const from = new Date(l.valid_from);
        const until = new Date(l.valid_until!);
        expect(until.getUTCFullYear()).toBe(from.getUTCFullYear() + 1);
        if (!l.valid_from.slice(4).startsWith('-02-29')) expect(l.valid_until!.slice(4)).toBe(l.valid_from.slice(4));
      });

      it('--until with a future date is kept', async () => {
        const l = await json<LicenseJson>('license', 'create', '--customer', 'initech', '--repos', 'acme/app', '--until', '2999-12-31');
        expect(l.valid_until).toBe('2999-12-31T00:00:00.000Z');
      });

      it('refuses --until 2001-01-01', async () => {
        expectCliError(await run('license', 'create', '--customer', 'initech', '--repos', 'acme/app', '--until', '2001-01-01'), 2, /valid_until/);
      });
    });

    step('show finds a license by id; an unknown id is not found', async () => {
      const [shown, missing] = await Promise.all([json<LicenseJson>('license', 'show', byRepos.id), run('license', 'show', 'lic_0000000000000000')]);
      expect(shown).toMatchObject({ id: byRepos.id, tags: ['1.*', 'stable'] });
      expectCliError(missing, 1, /license lic_0000000000000000 not found/);
    });

    step('suspend, resume and revoke change the status', async () => {
      const suspend = await run('license', 'suspend', byRepos.id);
      expect(suspend.status, suspend.stderr).toBe(0);
      expect(suspend.stdout).toBe(`${byRepos.id} suspended\n`);
      expect(await licenseIds('--status', 'suspended')).toEqual([byRepos.id]);

      expect((await json<LicenseJson>('license', 'resume', byRepos.id)).status).toBe('active');
      expect((await json<LicenseJson>('license', 'revoke', byRepos.id)).status).toBe('revoked');
    });

    step('resume after revoke is refused: revocation is final', async () => {
      const [resume, suspend] = await Promise.all([run('license', 'resume', byRepos.id), run('license', 'suspend', byRepos.id)]);
      expectCliError(resume, 1, /final/);
      expectCliError(suspend, 1, /final/);
    });

    step('list filters by customer and status', async () => {
      const [mine, active, revoked, table] = await Promise.all([
        json<LicenseJson[]>('license', 'list', '--customer', 'initech'),
        json<LicenseJson[]>('license', 'list', '--customer', buyer.id, '--status', 'active'),
        licenseIds('--status', 'revoked'),
        run('license', 'list', '--customer', 'initech'),
      ]);
      expect(mine.length).toBeGreaterThanOrEqual(5);
      expect(mine.every((l) => l.customer_id === buyer.id)).toBe(true);
      expect(active.length).toBe(mine.length - 1);
      expect(active.every((l) => l.status === 'active')).toBe(true);
      expect(active.map((l) => l.id)).not.toContain(byRepos.id);
      expect(revoked).toContain(byRepos.id);
      expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+CUSTOMER\s+REPOSITORIES\s+PLAN\s+TAGS\s+VALID UNTIL\s+STATUS$/);
      expect(table.stdout.trimEnd().split('\n')).toHaveLength(mine.length + 1);
    });
  });
});
