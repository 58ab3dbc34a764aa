/**
 * The TLS pair: which settings make one, how a bad one is refused (naming the
 * key, never showing the key), and how the reloader swaps it when the files
 * change. The real server, clients and signals are in test/e2e/tls.test.ts.
 */
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { PortcullisError } from '../../src/core/errors.js';
import type { BackendContext } from '../../src/secrets/backend-context.js';
import { readTlsPair, startTlsReloader, tlsSource, type TlsPair, type TlsSource } from '../../src/http/tls.js';
import { createTestCa, issueServerCert, type ServerCert, type TestCa } from '../helpers/test-ca.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let ca: TestCa;
let first: ServerCert;
let second: ServerCert;
let files = 0;

beforeAll(async () => {
  ca = await createTestCa();
  first = await issueServerCert(ca);
  second = await issueServerCert(ca, { cn: 'renewed.localhost' });
});

function write(text: string, mode = 0o600): string {
  const path = join(dir, `f${++files}.pem`);
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  return path;
}

const warnings: string[] = [];
const ctx = (env: NodeJS.ProcessEnv = {}): BackendContext => ({ env, cwd: dir, timeoutMs: 5000, warn: (m) => warnings.push(m) });
const config = (env: Record<string, string>) => loadConfig({ env, cwd: dir });
const fileSource = (certFile: string, keyFile: string): TlsSource => tlsSource(config({ PORTCULLIS_SERVER_TLS_CERT: certFile, PORTCULLIS_SERVER_TLS_KEY: keyFile }))!;

async function refusal(source: TlsSource, env?: NodeJS.ProcessEnv): Promise<PortcullisError> {
  try {
    await readTlsPair(source, ctx(env));
  } catch (err) {
    expect(err).toBeInstanceOf(PortcullisError);
    return err as PortcullisError;
  }
  throw new Error('the pair was accepted');
}

describe('tlsSource: both or neither', () => {
  it('serves plain HTTP when neither is set', () => {
    expect(tlsSource(config({}))).toBeUndefined();
  });

  it.each([
    [{ PORTCULLIS_SERVER_TLS_CERT: '/c.pem' }, 'server.tls_cert', /server\.tls_cert is set without its private key: set server\.tls_key .* or secrets\.tls_key/],
    [{ PORTCULLIS_SERVER_TLS_KEY: '/k.pem' }, 'server.tls_key', /server\.tls_key is set without server\.tls_cert/],
    [{ PORTCULLIS_SECRETS_TLS_KEY: 'env:K' }, 'secrets.tls_key', /secrets\.tls_key is set without server\.tls_cert/],
    [{ PORTCULLIS_SERVER_TLS_CERT: '/c.pem', PORTCULLIS_SERVER_TLS_KEY: '/k.pem', PORTCULLIS_SECRETS_TLS_KEY: 'env:K' }, 'server.tls_key', /both set/],
  ])('%o is refused, naming %s', (env, field, message) => {
    expect(() => tlsSource(config(env))).toThrow(message);
    try {
      tlsSource(config(env));
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_input', field });
    }
  });

  it('takes the key from a file or from a secret reference', () => {
    expect(tlsSource(config({ PORTCULLIS_SERVER_TLS_CERT: '/c.pem', PORTCULLIS_SERVER_TLS_KEY: '/k.pem' }))).toEqual({
      certFile: '/c.pem',
      keySetting: 'server.tls_key',
      keyRef: { backend: 'file', path: '/k.pem' },
    });
    expect(tlsSource(config({ PORTCULLIS_SERVER_TLS_CERT: '/c.pem', PORTCULLIS_SECRETS_TLS_KEY: 'env:TLS_KEY' }))).toMatchObject({
      keySetting: 'secrets.tls_key',
      keyRef: { backend: 'env', name: 'TLS_KEY' },
    });
  });
});

describe('readTlsPair', () => {
  it('reads a matching pair from files and describes the certificate without the key', async () => {
    const loaded = await readTlsPair(fileSource(write(first.certPem), write(first.keyPem)), ctx());
    expect(loaded.pair).toEqual({ cert: first.certPem, key: first.keyPem });
    expect(loaded.certificate).toMatchObject({ subject: 'CN=localhost', issuer: 'CN=Portcullis test CA', subject_alt_names: 'DNS:localhost, IP Address:127.0.0.1' });
    expect(loaded.certificate.serial.toLowerCase()).toBe(first.serial);
    expect(JSON.stringify(loaded.certificate)).not.toContain('PRIVATE');
  });

  it('reads the key from a secrets backend (env:)', async () => {
    const source = tlsSource(config({ PORTCULLIS_SERVER_TLS_CERT: write(first.certPem), PORTCULLIS_SECRETS_TLS_KEY: 'env:TLS_KEY_PEM' }))!;
    expect((await readTlsPair(source, ctx({ TLS_KEY_PEM: first.keyPem }))).pair.key).toBe(first.keyPem);
    const unset = await refusal(source, {});
    expect(unset.message).toBe('secrets.tls_key (env:TLS_KEY_PEM): environment variable TLS_KEY_PEM is not set');
    expect(unset.field).toBe('secrets.tls_key');
  });

  it('warns about a key file others can read, as for every secret file', async () => {
    warnings.length = 0;
    const keyFile = write(first.keyPem, 0o644);
    await readTlsPair(fileSource(write(first.certPem), keyFile), ctx());
    expect(warnings.join('\n')).toContain(`${keyFile} is readable by group or others`);
  });

  it('refuses a missing, empty or foreign file, an encrypted key and a key of another certificate, naming the key and never the key material', async () => {
    const cert = write(first.certPem);
    const key = write(first.keyPem);
    const cases: [TlsSource, string, RegExp][] = [
      [fileSource(join(dir, 'nope.pem'), key), 'server.tls_cert', /^server\.tls_cert \(.*nope\.pem\): does not exist$/],
      [fileSource(dir, key), 'server.tls_cert', /: is not a regular file$/],
      [fileSource(write(''), key), 'server.tls_cert', /holds no PEM certificate/],
      [fileSource(write(first.keyPem), key), 'server.tls_cert', /holds no PEM certificate/],
      [fileSource(write('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), key), 'server.tls_cert', /does not parse/],
      [fileSource(cert, join(dir, 'nokey.pem')), 'server.tls_key', /^server\.tls_key: .*nokey\.pem does not exist$/],
      [fileSource(cert, write(first.certPem)), 'server.tls_key', /^server\.tls_key: holds no PEM private key$/],
      [fileSource(cert, write(second.keyPem)), 'server.tls_key', /^server\.tls_key: is not the private key of the certificate in server\.tls_cert \(.*, CN=localhost\)$/],
    ];
    const { createPrivateKey } = await import('node:crypto');
    const encrypted = createPrivateKey(first.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    cases.push([fileSource(cert, write(encrypted)), 'server.tls_key', /the private key is encrypted/]);
    for (const [source, field, message] of cases) {
      const err = await refusal(source);
      expect(err.message, source.certFile).toMatch(message);
      expect(err.field).toBe(field);
      expect(err.message).not.toMatch(/PRIVATE KEY|MI[GH]/);
    }
  });
});

/** Polls until `check` passes or the deadline; no fixed sleeps. */
async function eventually(check: () => void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

describe('startTlsReloader', () => {
  function setup() {
    const certFile = write(first.certPem);
    const keyFile = write(first.keyPem);
    const source = fileSource(certFile, keyFile);
    const applied: TlsPair[] = [];
    const logs: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
    const log = {
      info: (obj: Record<string, unknown>, msg: string) => logs.push({ level: 'info', obj, msg }),
      warn: (obj: Record<string, unknown>, msg: string) => logs.push({ level: 'warn', obj, msg }),
      error: (obj: Record<string, unknown>, msg: string) => logs.push({ level: 'error', obj, msg }),
    };
    return { certFile, keyFile, source, applied, logs, log };
  }

  it('applies a new pair on reload, keeps the old one when the new one is bad, and logs each without key material', async () => {
    const s = setup();
    const current = await readTlsPair(s.source, ctx());
    const reloader = startTlsReloader({ source: s.source, ctx: ctx(), current, apply: (p) => s.applied.push(p), log: s.log as never, pollMs: 60_000 });
    try {
      expect(await reloader.reload('SIGHUP')).toBe(false);
      expect(s.logs.at(-1)).toMatchObject({ level: 'info', msg: 'TLS certificate and key unchanged', obj: { reason: 'SIGHUP' } });
      // Half a renewal: the new certificate with the old key.
      writeFileSync(s.certFile, second.certPem);
      expect(await reloader.reload('SIGHUP')).toBe(false);
      expect(s.applied).toHaveLength(0);
      expect(s.logs.at(-1)).toMatchObject({ level: 'error', msg: 'TLS certificate not reloaded; still serving the previous one', obj: { serving: current.certificate.serial } });
      expect(String(s.logs.at(-1)!.obj.error)).toMatch(/^server\.tls_key: is not the private key/);
      writeFileSync(s.keyFile, second.keyPem);
      expect(await reloader.reload('SIGHUP')).toBe(true);
      expect(s.applied).toEqual([{ cert: second.certPem, key: second.keyPem }]);
      expect(s.logs.at(-1)).toMatchObject({ level: 'info', msg: 'TLS certificate reloaded', obj: { reason: 'SIGHUP', subject: 'CN=renewed.localhost' } });
      expect(JSON.stringify(s.logs)).not.toContain('PRIVATE KEY');
    } finally {
      reloader.stop();
    }
  });

  it('reloads by itself when the files are replaced (rename over them), once for both', async () => {
    const s = setup();
    const current = await readTlsPair(s.source, ctx());
    const reloader = startTlsReloader({ source: s.source, ctx: ctx(), current, apply: (p) => s.applied.push(p), log: s.log as never, pollMs: 50, debounceMs: 200 });
    try {
      // As certbot and most tools do: write beside, then rename over.
      writeFileSync(`${s.keyFile}.new`, second.keyPem, { mode: 0o600 });
      writeFileSync(`${s.certFile}.new`, second.certPem);
      renameSync(`${s.keyFile}.new`, s.keyFile);
      renameSync(`${s.certFile}.new`, s.certFile);
      await eventually(() => expect(s.applied).toEqual([{ cert: second.certPem, key: second.keyPem }]));
      expect(s.logs.filter((l) => l.msg === 'TLS certificate reloaded')).toEqual([expect.objectContaining({ obj: expect.objectContaining({ reason: 'file change' }) })]);
      // A broken replacement is logged and the good pair stays.
      writeFileSync(s.certFile, '-----BEGIN CERTIFICATE-----\nhalf');
      await eventually(() => expect(s.logs.some((l) => l.level === 'error' && /server\.tls_cert/.test(String(l.obj.error)))).toBe(true));
      expect(s.applied).toHaveLength(1);
    } finally {
      reloader.stop();
    }
  });

  it('stops watching when stopped', async () => {
    const s = setup();
    const current = await readTlsPair(s.source, ctx());
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;
    const stopped = startTlsReloader({ source: s.source, ctx: ctx(), current, apply: (p) => s.applied.push(p), log: quiet, pollMs: 50, debounceMs: 50 });
    stopped.stop();
    // A second watcher on the same files shows when a running one would have reloaded.
    const control: TlsPair[] = [];
    const running = startTlsReloader({ source: s.source, ctx: ctx(), current, apply: (p) => control.push(p), log: quiet, pollMs: 50, debounceMs: 50 });
    try {
      writeFileSync(s.certFile, second.certPem);
      writeFileSync(s.keyFile, second.keyPem);
      await eventually(() => expect(control).toHaveLength(1));
      expect(s.applied).toHaveLength(0);
    } finally {
      running.stop();
    }
  });
});
