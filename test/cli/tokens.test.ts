import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, initDataDir, lines, removeDataDir, runCliAsync, runCliJsonAsync, type Banner } from '../helpers/cli.js';

interface TokenJson {
  username: string;
  type: 'vendor' | 'customer';
  name: string;
  customer_id: string | null;
  scopes: string[];
  status: string;
  state: string;
  expires_at: string | null;
  rate_limit: number | null;
  created_by: string;
  created_at: string;
  [key: string]: unknown;
}

interface CreatedTokenJson extends TokenJson {
  secret: string;
  full_token: string;
}

interface CustomerJson {
  id: string;
  name: string;
}

const DAY_MS = 86_400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dataDir: string;
let bootstrap: Banner;
let acme: CustomerJson;
let beta: CustomerJson;
/** Tokens made once for the whole file, by the real CLI. */
let vDefault: CreatedTokenJson;
let vCustom: CreatedTokenJson;
let cByName: CreatedTokenJson;
let cById: CreatedTokenJson;
let vShort: CreatedTokenJson;
let vDisabled: CreatedTokenJson;
let cRevoked: CreatedTokenJson;

const createToken = (...args: string[]) => runCliJsonAsync<CreatedTokenJson>(dataDir, 'token', 'create', ...args);
const listUsernames = async (...args: string[]) =>
  (await runCliJsonAsync<TokenJson[]>(dataDir, 'token', 'list', ...args)).map((t) => t.username).sort();
const run = (...args: string[]) => runCliAsync(dataDir, ...args);

beforeAll(async () => {
  ({ dataDir, banner: bootstrap } = initDataDir());
  [vShort, acme, beta] = await Promise.all([
    createToken('--type', 'vendor', '--name', 'short-lived', '--expires', '1s'),
    runCliJsonAsync<CustomerJson>(dataDir, 'customer', 'create', '--name', 'acme'),
    runCliJsonAsync<CustomerJson>(dataDir, 'customer', 'create', '--name', 'beta'),
  ]);
  [vDefault, vCustom, cByName, cById, vDisabled, cRevoked] = await Promise.all([
    createToken('--type', 'vendor', '--name', 'ci'),
    createToken('--type', 'vendor', '--name', 'ops', '--scopes', 'push,admin:tokens:read', '--expires', '30d', '--rate-limit', '50'),
    createToken('--type', 'customer', '--name', 'acme-pull', '--customer', 'acme'),
    createToken('--type', 'customer', '--name', 'beta-pull', '--customer', beta.id),
    createToken('--type', 'vendor', '--name', 'paused'),
    createToken('--type', 'customer', '--name', 'acme-old', '--customer', 'acme'),
  ]);
  const changes = await Promise.all([run('token', 'disable', vDisabled.username), run('token', 'revoke', cRevoked.username)]);
  for (const r of changes) expect(r.status, r.stderr).toBe(0);
});

afterAll(() => removeDataDir(dataDir));

describe.concurrent('token create', () => {
  it('makes a vendor token with the default scopes pull,push', async () => {
    expect(vDefault.username).toMatch(/^vtok_[0-9a-z]{16}$/);
    expect(vDefault).toMatchObject({ type: 'vendor', name: 'ci', customer_id: null, scopes: ['pull', 'push'], status: 'active', state: 'active' });
    expect(vDefault.expires_at).toBeNull();
    expect(vDefault.rate_limit).toBeNull();
    expect(vDefault.created_by).toMatch(/^cli:/);
  });

  it('--json prints username, secret and full_token', async () => {
    expect(vDefault.secret).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(vDefault.full_token).toBe(`${vDefault.username}.${vDefault.secret}`);
    // Every token gets its own secret.
    expect(new Set([vDefault, vCustom, cByName, cById].map((t) => t.secret)).size).toBe(4);
  });

  it('takes custom vendor scopes with --scopes', async () => {
    expect(vCustom.scopes).toEqual(['push', 'admin:tokens:read']);
  });

  it('prints the secret once in human output, with a docker login hint', async () => {
    const r = await run('token', 'create', '--type', 'vendor', '--name', 'human');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const username = /^username:\s+(vtok_[0-9a-z]{16})$/m.exec(r.stdout)?.[1];
    const secret = /^secret:\s+([0-9A-Za-z]{32})$/m.exec(r.stdout)?.[1];
    expect(username).toBeDefined();
    expect(secret).toBeDefined();
    expect(r.stdout).toMatch(/^scopes:\s+pull,push$/m);
    expect(r.stdout).toContain(`docker login <registry> -u ${username}`);
    expect(lines(r.stdout).filter((l) => l.startsWith('secret:'))).toHaveLength(1);
  });

  it('makes customer tokens by customer name or id, pull only', async () => {
    expect(cByName.username).toMatch(/^ctok_[0-9a-z]{16}$/);
    expect(cByName).toMatchObject({ type: 'customer', customer_id: acme.id, scopes: ['pull'], state: 'active' });
    expect(cById.username).toMatch(/^ctok_[0-9a-z]{16}$/);
    expect(cById).toMatchObject({ type: 'customer', customer_id: beta.id, scopes: ['pull'] });
  });

  it('accepts --scopes pull on a customer token', async () => {
    const t = await createToken('--type', 'customer', '--name', 'explicit-pull', '--customer', 'beta', '--scopes', 'pull');
    expect(t.scopes).toEqual(['pull']);
  });

  it('refuses --scopes push on a customer token', async () => {
    const r = await run('token', 'create', '--type', 'customer', '--name', 'x', '--customer', 'acme', '--scopes', 'push');
    expectCliError(r, 2, /pull/);
  });

  it('refuses a customer token without --customer, and a vendor token with one', async () => {
    expectCliError(await run('token', 'create', '--type', 'customer', '--name', 'x'), 2, /customer/);
    expectCliError(await run('token', 'create', '--type', 'vendor', '--name', 'x', '--customer', 'acme'), 2, /customer/);
  });

  it('refuses a customer token for an unknown customer', async () => {
    expectCliError(await run('token', 'create', '--type', 'customer', '--name', 'x', '--customer', 'nobody'), 1, /not found/);
  });

  it('refuses an unknown scope', async () => {
    expectCliError(await run('token', 'create', '--type', 'vendor', '--name', 'x', '--scopes', 'pull,admin:nope:read'), 2, /nope/);
  });

  it('--expires 30d sets expires_at about 30 days ahead', async () => {
    const created = Date.parse(vCustom.created_at);
    const expires = Date.parse(vCustom.expires_at!);
    expect(expires - created).toBe(30 * DAY_MS);
    expect(Math.abs(expires - (Date.now() + 30 * DAY_MS))).toBeLessThan(5 * 60_000);
  });

  it('refuses --expires in the past', async () => {
    expectCliError(await run('token', 'create', '--type', 'vendor', '--name', 'x', '--expires', '2001-01-01'), 2, /past/);
  });

  it('refuses a malformed --expires', async () => {
    expectCliError(await run('token', 'create', '--type', 'vendor', '--name', 'x', '--expires', 'soon'), 2, /expiry/);
  });

  it('stores --rate-limit 50', async () => {
    expect(vCustom.rate_limit).toBe(50);
    const shown = await runCliJsonAsync<TokenJson>(dataDir, 'token', 'show', vCustom.username);
    expect(shown.rate_limit).toBe(50);
    const human = await run('token', 'show', vCustom.username);
    expect(human.stdout).toMatch(/^rate limit:\s+50\/h$/m);
  });

  it('refuses --rate-limit abc', async () => {
    expectCliError(await run('token', 'create', '--type', 'vendor', '--name', 'x', '--rate-limit', 'abc'), 2, /rate.limit/);
  });
});

describe.concurrent('token list', () => {
  it('lists every token, the bootstrap token included', async () => {
    const all = await listUsernames();
    for (const t of [bootstrap.username, vDefault.username, vCustom.username, cByName.username, cById.username, vDisabled.username, cRevoked.username]) {
      expect(all).toContain(t);
    }
  });

  it('--type vendor and --type customer split the list', async () => {
    const vendor = await runCliJsonAsync<TokenJson[]>(dataDir, 'token', 'list', '--type', 'vendor');
    const customer = await runCliJsonAsync<TokenJson[]>(dataDir, 'token', 'list', '--type', 'customer');
    expect(vendor.length).toBeGreaterThan(0);
    expect(customer.length).toBeGreaterThan(0);
    expect(vendor.every((t) => t.type === 'vendor')).toBe(true);
    expect(customer.every((t) => t.type === 'customer')).toBe(true);
    expect(vendor.map((t) => t.username)).toContain(bootstrap.username);
    expect(customer.map((t) => t.username)).toEqual(expect.arrayContaining([cByName.username, cById.username, cRevoked.username]));
  });

  it('--customer filters by customer name or id', async () => {
    const [byName, byId] = await Promise.all([listUsernames('--customer', 'acme'), listUsernames('--customer', beta.id)]);
    expect(byName).toEqual([cByName.username, cRevoked.username].sort());
    expect(byId).toContain(cById.username);
    expect(byId).not.toContain(cByName.username);
  });

  it('--status active/disabled/revoked/expired filter by the current state', async () => {
    const wait = Date.parse(vShort.expires_at!) + 50 - Date.now();
    if (wait > 0) await sleep(wait);
    const byStatus = (status: string) => runCliJsonAsync<TokenJson[]>(dataDir, 'token', 'list', '--status', status);
    const [active, disabled, revoked, expired] = await Promise.all(['active', 'disabled', 'revoked', 'expired'].map(byStatus));

    expect(active!.every((t) => t.state === 'active')).toBe(true);
    expect(active!.map((t) => t.username)).toEqual(expect.arrayContaining([bootstrap.username, vDefault.username, cByName.username]));
    expect(active!.map((t) => t.username)).not.toContain(vShort.username);

    expect(disabled!.map((t) => t.username)).toEqual([vDisabled.username]);
    expect(revoked!.map((t) => t.username)).toEqual([cRevoked.username]);
    expect(expired!.map((t) => t.username)).toEqual([vShort.username]);
    expect(expired![0]).toMatchObject({ status: 'active', state: 'expired' });
  });

  it('combines --type, --customer and --status', async () => {
    expect(await listUsernames('--type', 'customer', '--customer', 'acme', '--status', 'active')).toEqual([cByName.username]);
  });

  it('prints a header row with USERNAME and aligned columns', async () => {
    const r = await run('token', 'list');
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    const header = rows[0]!;
    expect(header).toMatch(/^USERNAME\s+TYPE\s+NAME\s+CUSTOMER\s+STATUS\s+EXPIRES\s+LAST USED$/);
    // Each column starts where its header starts, on every row.
    // Header cells are separated by at least two spaces ("LAST USED" holds one).
    const cells = [...header.matchAll(/\S+(?: \S+)*/g)];
    expect(cells.map((m) => m[0])).toEqual(['USERNAME', 'TYPE', 'NAME', 'CUSTOMER', 'STATUS', 'EXPIRES', 'LAST USED']);
    const starts = cells.slice(1).map((m) => m.index);
    const body = rows.slice(1);
    expect(body.length).toBeGreaterThanOrEqual(8);
    for (const row of body) {
      expect(row).toMatch(/^[vc]tok_[0-9a-z]{16} /);
      for (const start of starts) {
        expect(row[start - 1], `${row} @${start}`).toBe(' ');
        expect(row[start], `${row} @${start}`).toMatch(/\S/);
      }
    }
    const revokedRow = body.find((row) => row.startsWith(cRevoked.username))!;
    expect(revokedRow.slice(starts[3]!).split(/\s+/)[0]).toBe('revoked');
  });
});

describe.concurrent('token show', () => {
  it('shows a token and never its secret', async () => {
    const human = await run('token', 'show', vDefault.username);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^username:\\s+${vDefault.username}$`, 'm'));
    expect(human.stdout).toMatch(/^status:\s+active$/m);
    expect(human.stdout).not.toContain(vDefault.secret);
    expect(human.stdout).not.toMatch(/secret/i);

    const json = await runCliJsonAsync<TokenJson>(dataDir, 'token', 'show', vDefault.username);
    expect(json).toMatchObject({ username: vDefault.username, name: 'ci', scopes: ['pull', 'push'] });
    expect(JSON.stringify(json)).not.toContain(vDefault.secret);
    expect(Object.keys(json).some((k) => /secret|full_token|hash/.test(k))).toBe(false);
  });
});

describe('token disable, enable, revoke', () => {
  let life: CreatedTokenJson;

  beforeAll(async () => {
    life = await createToken('--type', 'vendor', '--name', 'lifecycle');
  });

  const state = async () => (await runCliJsonAsync<TokenJson>(dataDir, 'token', 'show', life.username)).state;

  it('disable stops the token and says so', async () => {
    const r = await run('token', 'disable', life.username);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${life.username} disabled\n`);
  });

  it('disable again changes nothing and succeeds', async () => {
    const t = await runCliJsonAsync<TokenJson>(dataDir, 'token', 'disable', life.username);
    expect(t.state).toBe('disabled');
  });

  it('enable lets it work again', async () => {
    const r = await run('token', 'enable', life.username);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${life.username} active\n`);
  });

  it('revoke ends it', async () => {
    const t = await runCliJsonAsync<TokenJson>(dataDir, 'token', 'revoke', life.username);
    expect(t).toMatchObject({ username: life.username, status: 'revoked', state: 'revoked' });
  });

  it('enable after revoke fails: revocation is final', async () => {
    expectCliError(await run('token', 'enable', life.username), 1, /final/);
    expectCliError(await run('token', 'disable', life.username), 1, /final/);
    expect(await state()).toBe('revoked');
  });

  it('a revoked token stays listed', async () => {
    expect(await listUsernames()).toContain(life.username);
  });
});
