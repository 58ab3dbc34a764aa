import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, publicUrl } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('serves on 127.0.0.1:5000 with data in ./data by default', () => {
    const c = loadConfig({ env: {}, cwd: dir });
    expect(c.server).toEqual({ host: '127.0.0.1', port: 5000, max_header_bytes: 16384, headers_timeout_ms: 30_000, keep_alive_timeout_ms: 72_000, idle_timeout_ms: 300_000, trusted_proxies: [], forwarded_header: 'x-forwarded-for' });
    expect(c.auth.enabled).toBe(true);
    expect(c.data_dir).toBe(join(dir, 'data'));
    expect(c.tokens.default_rate_limit).toBe(1000);
    expect(publicUrl(c)).toBe('http://127.0.0.1:5000');
    expect(Object.isFrozen(c.server)).toBe(true);
  });

  it('reads auth.enabled = false (local-only mode) from the environment, and refuses an idle timeout under a second', () => {
    expect(loadConfig({ env: { PORTCULLIS_AUTH_ENABLED: 'false' }, cwd: dir }).auth.enabled).toBe(false);
    expect(() => loadConfig({ env: { PORTCULLIS_AUTH_ENABLED: 'nope' }, cwd: dir })).toThrow(/PORTCULLIS_AUTH_ENABLED: expected true or false/);
    expect(loadConfig({ env: { PORTCULLIS_SERVER_IDLE_TIMEOUT_MS: '0' }, cwd: dir }).server.idle_timeout_ms).toBe(0);
    expect(() => loadConfig({ env: { PORTCULLIS_SERVER_IDLE_TIMEOUT_MS: '10' }, cwd: dir })).toThrow(/"server\.idle_timeout_ms".*0 \(never\) or at least 1000/);
  });

  it('takes a PostgreSQL store.url, and never repeats a refused one (it may hold a password)', () => {
    for (const url of ['postgres://portcullis@db.internal:5432/portcullis', 'postgresql://u:p@10.0.0.9/pc?sslmode=require']) {
      expect(loadConfig({ cwd: dir, env: { PORTCULLIS_STORE_URL: url } }).store.url).toBe(url);
    }
    expect(loadConfig({ cwd: dir, env: {} }).store.url).toBe('');
    expect(() => loadConfig({ cwd: dir, env: { PORTCULLIS_STORE_URL: 'mysql://u:hunter2@db/pc' } })).toThrow(/^(?!.*hunter2)/s);
  });

  it('layers file < env < flags', () => {
    const path = file('layers.toml', 'data_dir = "/srv/a"\n[server]\nport = 6000\nhost = "0.0.0.0"\n[log]\nlevel = "warn"\n');
    const c = loadConfig({
      configPath: path,
      cwd: dir,
      env: { PORTCULLIS_SERVER_PORT: '7000', PORTCULLIS_DATA_DIR: '/srv/b' },
      flags: { data_dir: '/srv/c' },
    });
    expect(c.server.port).toBe(7000);
    expect(c.server.host).toBe('0.0.0.0');
    expect(c.log.level).toBe('warn');
    expect(c.data_dir).toBe('/srv/c');
  });

  it('finds the file through PORTCULLIS_CONFIG, then ./portcullis.toml', () => {
    const path = file('via-env.toml', '[server]\nport = 6100\n');
    expect(loadConfig({ cwd: dir, env: { PORTCULLIS_CONFIG: path } }).server.port).toBe(6100);
    const local = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(local, 'portcullis.toml'), '[server]\nport = 6200\n');
    expect(loadConfig({ cwd: local, env: {} }).server.port).toBe(6200);
  });

  it('reads lists and public_url, and never derives the URL from anything else', () => {
    const c = loadConfig({
      cwd: dir,
      env: { PORTCULLIS_BOOTSTRAP_NAMESPACES: 'acme/**, labs/**', PORTCULLIS_SERVER_PUBLIC_URL: 'https://registry.example.com/' },
    });
    expect(c.bootstrap.namespaces).toEqual(['acme/**', 'labs/**']);
    expect(publicUrl(c)).toBe('https://registry.example.com');
  });

  it('reads the TLS pair from env, resolves the files against the working directory, and then defaults the public URL to https', () => {
    const c = loadConfig({
      cwd: dir,
      env: { PORTCULLIS_SERVER_TLS_CERT: 'tls/cert.pem', PORTCULLIS_SERVER_TLS_KEY: '/etc/tls/key.pem', PORTCULLIS_SERVER_PORT: '8443' },
    });
    expect(c.server.tls_cert).toBe(join(dir, 'tls/cert.pem'));
    expect(c.server.tls_key).toBe('/etc/tls/key.pem');
    expect(publicUrl(c)).toBe('https://127.0.0.1:8443');
    expect(loadConfig({ cwd: dir, env: { PORTCULLIS_SECRETS_TLS_KEY: 'env:TLS_KEY_PEM' } }).secrets.tls_key).toBe('env:TLS_KEY_PEM');
    expect(() => loadConfig({ cwd: dir, env: { PORTCULLIS_SECRETS_TLS_KEY: '/etc/tls/key.pem' } })).toThrow(/"secrets\.tls_key" \(from PORTCULLIS_SECRETS_TLS_KEY\).*names no backend/);
    expect(() => loadConfig({ cwd: dir, env: { PORTCULLIS_SERVER_TLS_CERT: ' ' } })).toThrow(/"server\.tls_cert"/);
    // An explicit public URL still wins.
    expect(publicUrl(loadConfig({ cwd: dir, env: { PORTCULLIS_SERVER_TLS_CERT: '/c.pem', PORTCULLIS_SERVER_PUBLIC_URL: 'https://registry.example.com' } }))).toBe('https://registry.example.com');
  });

  it.each([
    ['unknown key in a section', { toml: '[server]\nprot = 1\n' }, /unknown config key "server\.prot" \(in .*bad\.toml\)/],
    ['unknown section', { toml: '[sever]\nport = 1\n' }, /unknown config key "sever"/],
    ['wrong type', { toml: '[server]\nport = "high"\n' }, /bad config value for "server\.port" \(in .*bad\.toml\)/],
    ['out of range', { toml: '[server]\nport = 70000\n' }, /"server\.port"/],
    ['bad enum', { toml: '[log]\nlevel = "loud"\n' }, /"log\.level"/],
    ['bad url', { toml: '[server]\npublic_url = "ftp://x"\n' }, /"server\.public_url"/],
    ['TOML syntax', { toml: '[server\nport = 1\n' }, /not valid TOML at line 1/],
    ['unknown env', { env: { PORTCULLIS_SERVER_PROT: '1' } }, /unknown setting PORTCULLIS_SERVER_PROT/],
    ['unknown env section', { env: { PORTCULLIS_NOPE: '1' } }, /unknown setting PORTCULLIS_NOPE/],
    ['env not a number', { env: { PORTCULLIS_SERVER_PORT: 'abc' } }, /PORTCULLIS_SERVER_PORT must be a whole number of 0 or more in decimal digits, got "abc"/],
    ['env out of range', { env: { PORTCULLIS_TOKENS_DEFAULT_RATE_LIMIT: '0' } }, /"tokens\.default_rate_limit" \(from PORTCULLIS_TOKENS_DEFAULT_RATE_LIMIT\)/],
    ['missing file', { path: '/nonexistent/portcullis.toml' }, /cannot be read: ENOENT/],
    ['bad bootstrap vendor', { toml: '[bootstrap]\nvendor = "Acme Corp"\n' }, /"bootstrap\.vendor".*lower case/],
    ['bad bootstrap namespace', { toml: '[bootstrap]\nnamespaces = ["Acme/**"]\n' }, /"bootstrap\.namespaces\.0".*lower case/],
    ['upstream with a path', { toml: '[registry]\nupstream = "http://10.0.0.5:5000/v2"\n' }, /"registry\.upstream".*without a path/],
    ['upstream with credentials', { env: { PORTCULLIS_REGISTRY_UPSTREAM: 'http://u:p@10.0.0.5:5000' } }, /"registry\.upstream".*credentials/],
    ['upstream not http', { toml: '[registry]\nupstream = "ftp://10.0.0.5"\n' }, /"registry\.upstream"/],
    ['upstream service a client could ask /token for', { toml: '[auth]\nservices = ["registry", "up"]\n[registry]\nupstream_service = "up"\n' }, /"registry\.upstream_service".*also in auth\.services/],
    ['short notification secret', { env: { PORTCULLIS_REGISTRY_NOTIFICATION_SECRET: 'short' } }, /"registry\.notification_secret".*at least 16/],
    ['bad cache ttl', { toml: '[registry]\nupstream_cache_ttl = "0"\n' }, /"registry\.upstream_cache_ttl"/],
    ['store url of another database', { toml: '[store]\nurl = "mysql://db/portcullis"\n' }, /"store\.url".*postgres:\/\//],
    ['store url without a host', { env: { PORTCULLIS_STORE_URL: 'postgres://' } }, /"store\.url" \(from PORTCULLIS_STORE_URL\)/],
  ])('stops on %s, naming the key', (_name, input: { toml?: string; env?: Record<string, string>; path?: string }, message) => {
    const configPath = input.path ?? (input.toml !== undefined ? file('bad.toml', input.toml) : undefined);
    expect(() => loadConfig({ configPath, cwd: dir, env: input.env ?? {} })).toThrow(message);
  });

  it.each(['0x3e9c', '1e3', '12abc', ' 12 ', '1_000', 'Infinity', '+5000', '5000.0', '-1', ''])('refuses PORTCULLIS_SERVER_PORT=%j: numbers from the environment are plain decimal digits', (value) => {
    expect(() => loadConfig({ cwd: dir, env: { PORTCULLIS_SERVER_PORT: value } })).toThrow(`PORTCULLIS_SERVER_PORT must be a whole number of 0 or more in decimal digits, got ${JSON.stringify(value)}`);
  });

  it.each([
    ['a float', '[server]\nport = 1e3\n', /key "server\.port" is 1000, a decimal number: numeric settings are whole numbers/],
    ['a float with a zero fraction', '[server]\nport = 5000.0\n', /key "server\.port" is 5000, a decimal number/],
    ['inf', '[tokens]\ndefault_rate_limit = inf\n', /key "tokens\.default_rate_limit" is Infinity, a decimal number/],
    ['an integer past 2^53', '[tokens]\ndefault_rate_limit = 9007199254740993\n', /key "tokens\.default_rate_limit" is 9007199254740993, too large a number/],
  ])('refuses %s in the TOML for a whole-number setting', (_name, toml, message) => {
    expect(() => loadConfig({ configPath: file('float.toml', toml), cwd: dir, env: {} })).toThrow(message);
  });

  it('takes TOML integers, in any of TOML\'s spellings, as whole numbers', () => {
    const c = loadConfig({ configPath: file('ints.toml', '[server]\nport = 0x3e9c\n[tokens]\ndefault_rate_limit = 1_000\n'), cwd: dir, env: {} });
    expect([c.server.port, c.tokens.default_rate_limit]).toEqual([16028, 1000]);
  });

  it('takes decimal digits from the environment for every numeric setting', () => {
    const c = loadConfig({ cwd: dir, env: { PORTCULLIS_SERVER_PORT: '16028', PORTCULLIS_TOKENS_DEFAULT_RATE_LIMIT: '1000', PORTCULLIS_AUTH_MAX_FAILED_LOGINS: '0' } });
    expect([c.server.port, c.tokens.default_rate_limit, c.auth.max_failed_logins]).toEqual([16028, 1000, 0]);
  });
});

describe('loadConfig and prototype pollution', () => {
  const polluted = () => (Object.prototype as Record<string, unknown>).polluted;

  it.each([
    ['a [__proto__] table', '[__proto__]\npolluted = "yes"\n', '__proto__'],
    ['__proto__ inside a section', '[server]\n__proto__.polluted = "yes"\n', 'server.__proto__'],
    ['a dotted __proto__ key', 'server.__proto__.polluted = "yes"\n', 'server.__proto__'],
    ['an inline __proto__ table', '[server]\n__proto__ = { polluted = "yes" }\n', 'server.__proto__'],
    ['constructor.prototype', '[log]\nconstructor.prototype.polluted = "yes"\n', 'log.constructor'],
    ['prototype deep down', '[server]\nx = { y = { prototype = { polluted = "yes" } } }\n', 'server.x.y.prototype'],
    ['a key in an array of tables', '[[server]]\n__proto__ = { polluted = "yes" }\n', 'server.0.__proto__'],
  ])('refuses %s in the TOML, naming the key path and the file, and Object.prototype stays clean', (_name, toml, key) => {
    const path = file('proto.toml', toml);
    expect(() => loadConfig({ configPath: path, cwd: dir, env: {} })).toThrow(`config file ${path}: key "${key}" is not allowed`);
    expect(polluted()).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each(['PORTCULLIS_SERVER___PROTO__', 'PORTCULLIS___PROTO__', 'PORTCULLIS_SERVER_CONSTRUCTOR', 'PORTCULLIS_LOG_PROTOTYPE', 'PORTCULLIS_CONSTRUCTOR'])('refuses %s, naming it', (name) => {
    expect(() => loadConfig({ cwd: dir, env: { [name]: '{"polluted":"yes"}' } })).toThrow(new RegExp(`^unknown setting ${name}: (__proto__|constructor|prototype) is a reserved word`));
    expect(polluted()).toBeUndefined();
  });

  it('refuses a reserved key given as a flag too', () => {
    const flags = JSON.parse('{"server":{"__proto__":{"polluted":"yes"}}}') as never;
    expect(() => loadConfig({ cwd: dir, env: {}, flags })).toThrow(/config key "server\.__proto__" \(flag\) is not allowed/);
    expect(polluted()).toBeUndefined();
  });
});
