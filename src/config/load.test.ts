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
    expect(c.server).toEqual({ host: '127.0.0.1', port: 5000, max_header_bytes: 16384, headers_timeout_ms: 30_000, keep_alive_timeout_ms: 72_000, idle_timeout_ms: 300_000 });
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
    ['env not a number', { env: { PORTCULLIS_SERVER_PORT: 'abc' } }, /PORTCULLIS_SERVER_PORT: expected a number/],
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
});
