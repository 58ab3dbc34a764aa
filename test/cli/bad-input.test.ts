import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, initDataDir, makeDataDir, removeDataDir, runCliAsync, runCliJsonAsync, runCliWithAsync } from '../helpers/cli.js';

/**
 * Every failure follows one contract: a non-zero exit (2 for bad input or
 * usage, 1 for not found / conflict), nothing on stdout, and exactly one line
 * on stderr starting with `portcullis: `.
 */

const UNKNOWN_VENDOR_TOKEN = 'vtok_0000000000000000';

let dataDir: string;
/** Holds config files; never initialised as an instance. */
let scratch: string;

beforeAll(() => {
  ({ dataDir } = initDataDir());
  scratch = makeDataDir();
});
afterAll(() => {
  removeDataDir(dataDir);
  removeDataDir(scratch);
});

function writeConfig(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

describe.concurrent('unknown option, on every command', () => {
  const T = UNKNOWN_VENDOR_TOKEN;
  const commands: string[][] = [
    ['init'],
    ['serve'],
    ['token', 'create', '--type', 'vendor', '--name', 'x'],
    ['token', 'list'],
    ['token', 'show', T],
    ['token', 'disable', T],
    ['token', 'enable', T],
    ['token', 'revoke', T],
    ['customer', 'create', '--name', 'x'],
    ['customer', 'list'],
    ['customer', 'show', 'x'],
    ['customer', 'update', 'x'],
    ['customer', 'delete', 'x'],
    ['license', 'create', '--customer', 'x', '--repos', 'a/b'],
    ['license', 'list'],
    ['license', 'show', 'lic_x'],
    ['license', 'suspend', 'lic_x'],
    ['license', 'resume', 'lic_x'],
    ['license', 'revoke', 'lic_x'],
    ['plan', 'create', '--name', 'x', '--repos', 'a/b'],
    ['plan', 'list'],
    ['plan', 'show', 'x'],
    ['plan', 'delete', 'x'],
    ['vendor', 'create', '--name', 'x'],
    ['vendor', 'list'],
    ['vendor', 'show', 'x'],
    ['audit'],
    ['explain', '--token', T, '--scope', 'repository:a/b:pull'],
    ['keys', 'list'],
    ['keys', 'rotate'],
    ['keys', 'cert'],
    ['gc'],
  ];
  it.each(commands.map((c) => [c.slice(0, 2).filter((w) => !w.startsWith('-') && w !== T).join(' '), c] as const))('%s --bogus', async (_name, args) => {
    expectCliError(await runCliAsync(dataDir, ...args, '--bogus'), 2, /unknown option '--bogus'/);
  });

  it('an unknown global option before the command', async () => {
    expectCliError(await runCliAsync(dataDir, '--bogus', 'token', 'list'), 2, /unknown option '--bogus'/);
  });

});

describe.concurrent('missing required option or argument', () => {
  const cases: [string, string[], RegExp][] = [
    ['token create without --type', ['token', 'create', '--name', 'x'], /required option '--type <type>'/],
    ['token create without --name', ['token', 'create', '--type', 'vendor'], /required option '--name <name>'/],
    ['customer create without --name', ['customer', 'create'], /required option '--name <name>'/],
    ['license create without --customer', ['license', 'create', '--repos', 'a/b'], /required option '--customer <customer>'/],
    ['vendor create without --name', ['vendor', 'create'], /required option '--name <name>'/],
    ['token show without a username', ['token', 'show'], /missing required argument 'username'/],
    ['license suspend without an id', ['license', 'suspend'], /missing required argument 'id'/],
    ['an option without its value', ['token', 'list', '--type'], /argument missing/],
    ['token show with two usernames', ['token', 'show', UNKNOWN_VENDOR_TOKEN, UNKNOWN_VENDOR_TOKEN], /too many arguments/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    expectCliError(await runCliAsync(dataDir, ...args), 2, message);
  });
});

describe.concurrent('unknown command or subcommand', () => {
  const cases: string[][] = [['frob'], ['token', 'frob'], ['customer', 'frob'], ['plan', 'frob']];
  it.each(cases.map((c) => [c.join(' '), c] as const))('%s', async (_name, args) => {
    expectCliError(await runCliAsync(dataDir, ...args), 2, /unknown command 'frob'/);
  });

  // A bare group is a usage error: its help goes to stderr, and it must not exit 0.
  it.each([
    ['no command at all', [], 'Usage: portcullis [options] [command]'],
    ['token without a subcommand', ['token'], 'Usage: portcullis token [options] [command]'],
  ] as [string, string[], string][])('%s', async (_name, args, usage) => {
    const r = await runCliAsync(dataDir, ...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(usage), r.stderr).toBe(true);
  });

  it('--help is not an error: help on stdout, exit 0', async () => {
    const r = await runCliAsync(dataDir, 'token', 'create', '--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: portcullis token create \[options\]/);
    expect(r.stdout).toContain('--type <type>');
  });
});

describe.concurrent('bad option values', () => {
  const cases: [string, string[], RegExp][] = [
    ['token list --type robot', ['token', 'list', '--type', 'robot'], /unknown token type "robot": expected vendor or customer/],
    ['token list --status sleeping', ['token', 'list', '--status', 'sleeping'], /unknown token status "sleeping": expected active, disabled, revoked, expired/],
    ['license list --status sleeping', ['license', 'list', '--status', 'sleeping'], /unknown license status "sleeping"/],
    ['token create --rate-limit 0', ['token', 'create', '--type', 'vendor', '--name', 'x', '--rate-limit', '0'], /rate limit/],
    ['token create --name ""', ['token', 'create', '--type', 'vendor', '--name', ''], /name must not be empty/],
    ['audit --limit abc', ['audit', '--limit', 'abc'], /--limit/],
    ['audit --since -1h', ['audit', '--since', '-1h'], /negative/],
    ['gc --grace 1M', ['gc', '--grace', '1M'], /--grace: duration 1M uses years or months/],
    ['serve --port abc', ['serve', '--port', 'abc'], /--port must be a whole number from 0 to 65535 in decimal digits, got "abc"/],
    // Numbers are decimal digits and nothing else: what Number() or parseInt() would have read differently.
    ['serve --port 0x3e9c', ['serve', '--port', '0x3e9c'], /--port must be a whole number from 0 to 65535 in decimal digits, got "0x3e9c"/],
    ['serve --port 1e3', ['serve', '--port', '1e3'], /--port must be a whole number .* got "1e3"/],
    ['serve --port " 12 "', ['serve', '--port', ' 12 '], /--port must be a whole number .* got " 12 "/],
    ['serve --port 70000', ['serve', '--port', '70000'], /--port must be a whole number from 0 to 65535 in decimal digits, got "70000"/],
    ['audit --limit 12abc', ['audit', '--limit', '12abc'], /--limit must be a whole number from 1 to 100000 in decimal digits, got "12abc"/],
    ['audit --limit 1_000', ['audit', '--limit', '1_000'], /--limit must be a whole number .* got "1_000"/],
    ['audit --limit 1e3', ['audit', '--limit', '1e3'], /--limit must be a whole number .* got "1e3"/],
    ['audit --limit Infinity', ['audit', '--limit', 'Infinity'], /--limit must be a whole number .* got "Infinity"/],
    ['token create --rate-limit 0x10', ['token', 'create', '--type', 'vendor', '--name', 'x', '--rate-limit', '0x10'], /--rate-limit must be a whole number .* got "0x10"/],
    ['token create --rate-limit 1e3', ['token', 'create', '--type', 'vendor', '--name', 'x', '--rate-limit', '1e3'], /--rate-limit must be a whole number .* got "1e3"/],
    ['token create --rate-limit " 12 "', ['token', 'create', '--type', 'vendor', '--name', 'x', '--rate-limit', ' 12 '], /--rate-limit must be a whole number .* got " 12 "/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    expectCliError(await runCliAsync(dataDir, ...args), 2, message);
  });
});

describe.concurrent('token usernames', () => {
  it.each([
    ['show', UNKNOWN_VENDOR_TOKEN],
    ['disable', UNKNOWN_VENDOR_TOKEN],
    ['enable', 'ctok_0000000000000000'],
    ['revoke', UNKNOWN_VENDOR_TOKEN],
  ])('token %s %s: unknown username, exit 1, "not found"', async (action, username) => {
    expectCliError(await runCliAsync(dataDir, 'token', action, username), 1, new RegExp(`token ${username} not found`));
  });

  it.each([
    ['show', 'nope'],
    ['revoke', 'xtok_0000000000000000'],
    ['show', 'vtok_iiiiiiiiiiiiiiii'],
  ])('token %s %s: malformed username, exit 2', async (action, username) => {
    expectCliError(await runCliAsync(dataDir, 'token', action, username), 2, /is not a token username/);
  });
});

describe.concurrent('a data dir that was never initialised', () => {
  it.each([
    ['token list', ['token', 'list']],
    ['audit', ['audit']],
  ] as [string, string[]][])('%s: clear message naming portcullis serve and init', async (_name, args) => {
    const empty = makeDataDir();
    try {
      const r = await runCliAsync(empty, ...args);
      expectCliError(r, 2, /no Portcullis instance/);
      expect(r.stderr).toContain('portcullis serve');
      expect(r.stderr).toContain('portcullis init');
      expect(r.stderr).toContain(empty);
      // Looking does not initialise anything.
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      removeDataDir(empty);
    }
  });

  it('a data dir that does not exist is not created', async () => {
    const missing = join(scratch, 'does-not-exist');
    expectCliError(await runCliAsync(missing, 'token', 'list'), 2, /portcullis serve/);
    expect(existsSync(missing)).toBe(false);
  });
});

describe.concurrent('configuration', () => {
  it('a config file with an unknown key names it', async () => {
    const file = writeConfig('typo.toml', '[server]\nprot = 1\n');
    const r = await runCliWithAsync(null, {}, '--config', file, '--data-dir', dataDir, 'token', 'list');
    expectCliError(r, 2, /server\.prot/);
    expect(r.stderr).toContain(file);
  });

  it('init refuses a bad config file and creates nothing', async () => {
    const file = writeConfig('typo-init.toml', '[server]\nprot = 1\n');
    const fresh = join(scratch, 'fresh');
    mkdirSync(fresh);
    expectCliError(await runCliWithAsync(null, {}, '--config', file, '--data-dir', fresh, 'init'), 2, /server\.prot/);
    expect(readdirSync(fresh)).toEqual([]);
  });

  it('a config value of the wrong type names the key', async () => {
    const file = writeConfig('type.toml', '[server]\nport = "http"\n');
    expectCliError(await runCliWithAsync(null, {}, '--config', file, '--data-dir', dataDir, 'token', 'list'), 2, /server\.port/);
  });

  it('a config file that is not TOML', async () => {
    const file = writeConfig('broken.toml', '[server\nport = 1\n');
    expectCliError(await runCliWithAsync(null, {}, '--config', file, '--data-dir', dataDir, 'token', 'list'), 2, /not valid TOML/);
  });

  it('a config file that does not exist', async () => {
    const file = join(scratch, 'absent.toml');
    expectCliError(await runCliWithAsync(null, {}, '--config', file, '--data-dir', dataDir, 'token', 'list'), 2, /cannot be read/);
  });

  it('a valid config file is used', async () => {
    const file = writeConfig('good.toml', `data_dir = ${JSON.stringify(dataDir)}\n[log]\nlevel = "warn"\n`);
    const r = await runCliWithAsync(null, {}, '--config', file, 'vendor', 'list', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string }[]).map((v) => v.name)).toEqual(['operator']);
  });

  it('PORTCULLIS_SERVER_PORT=abc is refused, naming the variable', async () => {
    expectCliError(await runCliWithAsync(dataDir, { env: { PORTCULLIS_SERVER_PORT: 'abc' } }, 'token', 'list'), 2, /PORTCULLIS_SERVER_PORT.*"abc"/);
  });

  it.each(['0x3e9c', '1e3', '12abc', ' 12 ', '1_000', 'Infinity'])('PORTCULLIS_SERVER_PORT=%j is refused: decimal digits only', async (value) => {
    expectCliError(await runCliWithAsync(dataDir, { env: { PORTCULLIS_SERVER_PORT: value } }, 'token', 'list'), 2, /PORTCULLIS_SERVER_PORT must be a whole number of 0 or more in decimal digits/);
  });

  it('PORTCULLIS_SERVER___PROTO__ is refused, naming it', async () => {
    expectCliError(await runCliWithAsync(dataDir, { env: { PORTCULLIS_SERVER___PROTO__: 'x' } }, 'token', 'list'), 2, /PORTCULLIS_SERVER___PROTO__: __proto__ is a reserved word/);
  });

  it('a __proto__ key in the config file is refused, naming the key path and the file', async () => {
    const file = writeConfig('proto.toml', '[server]\n__proto__.polluted = "yes"\n');
    const r = await runCliWithAsync(null, {}, '--config', file, '--data-dir', dataDir, 'token', 'list');
    expectCliError(r, 2, /key "server\.__proto__" is not allowed/);
    expect(r.stderr).toContain(file);
  });

  it('an unknown PORTCULLIS_ variable is refused, naming it', async () => {
    expectCliError(await runCliWithAsync(dataDir, { env: { PORTCULLIS_NOPE: '1' } }, 'token', 'list'), 2, /PORTCULLIS_NOPE/);
  });

  it('a bad value in a known variable names the key', async () => {
    expectCliError(await runCliWithAsync(dataDir, { env: { PORTCULLIS_LOG_LEVEL: 'loud' } }, 'token', 'list'), 2, /log\.level/);
  });

  it('PORTCULLIS_DATA_DIR stands in for --data-dir', async () => {
    const r = await runCliWithAsync(null, { env: { PORTCULLIS_DATA_DIR: dataDir } }, 'vendor', 'list', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(1);
  });
});

// Runs after the concurrent groups above (suites run one after the other).
describe('after all the bad input', () => {
  it('nothing was created or changed', async () => {
    // Every change writes an audit event, so an audit log holding only the first start proves it.
    const [tokens, audit] = await Promise.all([
      runCliJsonAsync<{ name: string; state: string }[]>(dataDir, 'token', 'list'),
      runCliJsonAsync<{ action: string }[]>(dataDir, 'audit'),
    ]);
    expect(tokens).toEqual([expect.objectContaining({ name: 'bootstrap', state: 'active' })]);
    expect(audit.map((e) => e.action)).toEqual(['vendor.create', 'token.create']);
  });
});
