/**
 * HTTPS on the one port, end to end: a real `portcullis serve` with a
 * certificate from a test CA, driven by curl, skopeo and podman that trust the
 * CA (and fail without it), a browser-style login that gets the __Host-
 * cookie, HSTS on every surface, and the pair reloaded on SIGHUP and on a file
 * change while a keep-alive connection opened before goes on working.
 *
 * docker is left out: it treats 127.0.0.0/8 as an insecure registry and skips
 * certificate checks there, so a loopback test would prove nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, initDataDir, makeDataDir, removeDataDir, runCliWithAsync, startServe, type Banner, type ServeProcess } from '../helpers/cli.js';
import { buildImageLayout } from '../helpers/oci-layout.js';
import { runCommand } from '../helpers/run.js';
import { skopeo } from '../helpers/skopeo.js';
import { describeE2E } from '../helpers/system-tools.js';
import { createTestCa, issueServerCert, type ServerCert, type TestCa } from '../helpers/test-ca.js';

const HSTS = 'max-age=31536000';

/** Polls until `check` passes or the deadline passes; no fixed sleeps. */
async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  socket: TLSSocket;
}

describeE2E('TLS on the one port: serve speaks HTTPS, reloads its pair, and real clients trust it through a CA', () => {
  let work: string;
  let dataDir: string;
  let banner: Banner;
  let serve: ServeProcess;
  let port: number;
  let host: string;
  let caOld: TestCa;
  let caNew: TestCa;
  let initial: ServerCert;
  /** Holds ca.crt: what skopeo and podman take as --cert-dir. */
  let certDir: string;
  let caFile: string;
  let bothCas: string[];
  const tlsDir = () => join(work, 'tls');
  const certPath = () => join(tlsDir(), 'fullchain.pem');
  const keyPath = () => join(tlsDir(), 'privkey.pem');
  const creds = () => `${banner.username}:${banner.secret}`;

  /** Replaces the pair as certbot and cert-manager do: written beside, renamed over, key first. */
  function installPair(pair: { certPem: string; keyPem: string }): void {
    writeFileSync(`${keyPath()}.tmp`, pair.keyPem, { mode: 0o600 });
    writeFileSync(`${certPath()}.tmp`, pair.certPem);
    renameSync(`${keyPath()}.tmp`, keyPath());
    renameSync(`${certPath()}.tmp`, certPath());
  }

  /** The serial a brand-new TLS connection is shown, trusting both CAs. */
  function servedSerial(): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: bothCas, servername: 'localhost' }, () => {
        const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
        socket.end();
        resolve(serial);
      });
      socket.on('error', reject);
    });
  }

  function get(path: string, options: { agent?: Agent; headers?: Record<string, string>; method?: string; body?: string; ca?: string[] } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, ...(options.agent ? { agent: options.agent } : { ca: options.ca ?? bothCas, agent: false }) },
        (res) => {
          // Taken now: a keep-alive agent detaches the socket once the body is read.
          const socket = res.socket as TLSSocket;
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, socket }));
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  }

  /** Log lines of serve (pino JSON on stdout) with this message. */
  function logLines(msg: string): Record<string, unknown>[] {
    return serve
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === msg);
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'portcullis-tls-e2e-'));
    mkdirSync(tlsDir(), { mode: 0o700 });
    [caOld, caNew] = await Promise.all([createTestCa('Portcullis test CA one'), createTestCa('Portcullis test CA two')]);
    bothCas = [caOld.certPem, caNew.certPem];
    initial = await issueServerCert(caOld);
    installPair(initial);
    certDir = join(work, 'certs.d');
    mkdirSync(certDir);
    caFile = join(certDir, 'ca.crt');
    // The clients trust both CAs, so the new certificate after a reload is trusted too.
    writeFileSync(caFile, bothCas.join(''));

    ({ dataDir, banner } = initDataDir());
    writeFileSync(join(dataDir, 'portcullis.toml'), `[server]\ntls_cert = "${certPath()}"\ntls_key = "${keyPath()}"\n`);
    serve = startServe(dataDir, '--port', '0');
    const listening = JSON.parse(await serve.waitForLine(/"msg":"portcullis listening"/)) as { port: number; public_url: string; tls: boolean };
    port = listening.port;
    host = `127.0.0.1:${port}`;
    // With TLS and no public_url, the instance says it lives at https://host:port (the realm clients are sent to).
    expect(listening.public_url).toBe(`https://${host}`);
    expect(listening.tls).toBe(true);
    await buildImageLayout(join(work, 'layout'), { ref: '1.0', platforms: [{ os: 'linux', architecture: 'amd64' }], content: 'served over tls' });
  }, 60_000);

  afterAll(async () => {
    if (serve) await serve.stop();
    removeDataDir(dataDir);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('curl', () => {
    const curl = (args: string[]) => runCommand('curl', ['-sS', '-o', '/dev/null', '-D', '-', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });

    it('gets /healthz with --cacert, and HSTS with it; fails on the certificate without it', async () => {
      const ok = await curl(['--cacert', caFile, `https://${host}/healthz`]);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/^HTTP\/1\.1 200/);
      expect(ok.stdout).toMatch(new RegExp(`^strict-transport-security: ${HSTS}\\r?$`, 'im'));
      // The certificate names localhost as well as 127.0.0.1.
      expect((await curl(['--cacert', caFile, '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/healthz`])).code).toBe(0);

      const untrusted = await curl([`https://${host}/healthz`]);
      expect(untrusted.code).toBe(60);
      expect(untrusted.stderr).toMatch(/certificate/i);
      // The HTTP server's limits hold on the HTTPS server too: a request head over 16 KiB is refused.
      const big = await curl(['--cacert', caFile, '-H', `x-big: ${'a'.repeat(20_000)}`, `https://${host}/healthz`]);
      expect(big.stdout).toMatch(/^HTTP\/1\.1 431/);
      // Plain HTTP on the TLS port gets no answer at all.
      const plain = await curl([`http://${host}/healthz`]);
      expect(plain.code).not.toBe(0);
      expect(plain.stdout).not.toMatch(/^HTTP/);
    });
  });

  it('sends HSTS on every surface: /v2 challenge, a 404, the admin API, the token endpoint and the dashboard', async () => {
    for (const path of ['/v2/', '/no/such/page', '/api/v1/customers', '/token?service=portcullis', '/healthz', '/', '/assets/none.js']) {
      const res = await get(path);
      expect(res.status, path).toBeGreaterThanOrEqual(200);
      expect(res.headers['strict-transport-security'], path).toBe(HSTS);
    }
    // The /v2 challenge sends clients to the https realm.
    expect((await get('/v2/')).headers['www-authenticate']).toContain(`realm="https://${host}/token"`);
  });

  describe('skopeo and podman', () => {
    const image = () => `docker://${host}/tls/app:1.0`;

    it('skopeo pushes with --dest-cert-dir and --dest-tls-verify=true, and fails on the certificate without it', async () => {
      const push = (extra: string[]) => skopeo(['--insecure-policy', 'copy', '--dest-tls-verify=true', '--dest-creds', creds(), ...extra, `oci:${join(work, 'layout')}:1.0`, image()]);
      const refused = await push([]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/x509: certificate signed by unknown authority/);
      const ok = await push(['--dest-cert-dir', certDir]);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
    }, 120_000);

    it('skopeo inspects with --cert-dir and copies out with --src-cert-dir; both fail without the CA', async () => {
      const inspect = (extra: string[]) => skopeo(['inspect', '--tls-verify=true', '--creds', creds(), ...extra, image()]);
      const ok = await inspect(['--cert-dir', certDir]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ Name: `${host}/tls/app`, Architecture: 'amd64' });
      const refused = await inspect([]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/x509: certificate signed by unknown authority/);

      const pull = (extra: string[]) => skopeo(['--insecure-policy', 'copy', '--src-tls-verify=true', '--src-creds', creds(), ...extra, image(), `oci:${join(work, 'pulled')}:1.0`]);
      const pulled = await pull(['--src-cert-dir', certDir]);
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(existsSync(join(work, 'pulled', 'index.json'))).toBe(true);
      const notPulled = await pull([]);
      expect(notPulled.code).not.toBe(0);
      expect(notPulled.stderr).toMatch(/x509: certificate signed by unknown authority/);
    }, 120_000);

    it('podman pulls with --cert-dir, and fails on the certificate without it', async () => {
      const root = join(work, 'podman');
      const podman = (extra: string[]) =>
        runCommand('podman', ['--storage-driver', 'vfs', '--root', join(root, 'root'), '--runroot', join(root, 'run'), '--events-backend', 'none', 'pull', '--tls-verify=true', '--creds', creds(), ...extra, `${host}/tls/app:1.0`]);
      const refused = await podman([]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/x509: certificate signed by unknown authority/);
      const ok = await podman(['--cert-dir', certDir]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    }, 120_000);
  });

  it('a dashboard login over HTTPS gets the __Host- session cookie, Secure, Path=/ and no Domain; only that name signs in', async () => {
    const admin = { authorization: `Bearer ${banner.token}`, 'content-type': 'application/json' };
    const password = 'tls dashboard passphrase';
    const created = await get('/api/v1/users', { method: 'POST', headers: admin, body: JSON.stringify({ email: 'tls@example.com', role: 'owner', password }) });
    expect(created.status, created.body).toBe(201);
    const login = await get('/api/v1/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: `https://${host}` },
      body: JSON.stringify({ email: 'tls@example.com', password }),
    });
    expect(login.status, login.body).toBe(200);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^__Host-portcullis_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; HttpOnly; Path=\/; SameSite=Lax; Secure$/);
    expect(setCookie).not.toMatch(/domain=/i);
    expect(login.headers['strict-transport-security']).toBe(HSTS);
    const value = /^__Host-portcullis_session=([^;]+)/.exec(setCookie)![1]!;
    expect((await get('/api/v1/session', { headers: { cookie: `__Host-portcullis_session=${value}` } })).status).toBe(200);
    // The unprefixed name is what a sibling subdomain could plant: not read over HTTPS.
    expect((await get('/api/v1/session', { headers: { cookie: `portcullis_session=${value}` } })).status).toBe(401);
  });

  describe('reloading the certificate', () => {
    let keepAlive: Agent;
    let firstSocket: TLSSocket;

    beforeAll(async () => {
      keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca: bothCas });
      const res = await get('/healthz', { agent: keepAlive });
      expect(res.status).toBe(200);
      firstSocket = res.socket;
      expect(firstSocket.getPeerCertificate().serialNumber.toLowerCase()).toBe(initial.serial);
    });

    afterAll(() => keepAlive?.destroy());

    /** The connection opened before every reload still answers, and is still the same TLS session with the first certificate. */
    async function keepAliveStillWorks(): Promise<void> {
      const res = await get('/healthz', { agent: keepAlive });
      expect(res.status).toBe(200);
      expect(res.socket).toBe(firstSocket);
      expect(firstSocket.getPeerCertificate().serialNumber.toLowerCase()).toBe(initial.serial);
    }

    it('on SIGHUP: new connections get the new certificate (another CA, another name); the open one goes on', async () => {
      expect(await servedSerial()).toBe(initial.serial);
      const renewed = await issueServerCert(caNew, { cn: 'renewed.localhost' });
      installPair(renewed);
      serve.child.kill('SIGHUP');
      await eventually(async () => expect(await servedSerial()).toBe(renewed.serial));
      // The first reload is the signal's, not the file watcher's (that one comes later, finds nothing new).
      const reloaded = logLines('TLS certificate reloaded');
      expect(reloaded[0]).toMatchObject({ reason: 'SIGHUP', subject: 'CN=renewed.localhost', issuer: 'CN=Portcullis test CA two' });
      await keepAliveStillWorks();
      // A client that trusts only the old CA is now refused: the new pair really is in service.
      await expect(get('/healthz', { ca: [caOld.certPem] })).rejects.toThrow(/self-signed certificate in certificate chain/);
    });

    it('on a file change alone, without a signal', async () => {
      const before = logLines('TLS certificate reloaded').length;
      const next = await issueServerCert(caOld, { cn: 'third.localhost' });
      installPair(next);
      await eventually(async () => expect(await servedSerial()).toBe(next.serial));
      const reloaded = logLines('TLS certificate reloaded');
      expect(reloaded.length).toBe(before + 1);
      expect(reloaded.at(-1)).toMatchObject({ reason: 'file change', subject: 'CN=third.localhost' });
      await keepAliveStillWorks();
    });

    it('keeps serving the pair in service when the replacement is bad (half written, or the wrong key), on a change and on SIGHUP', async () => {
      const serving = await servedSerial();
      const failures = () => logLines('TLS certificate not reloaded; still serving the previous one');
      const before = failures().length;
      // A certificate cut off mid-write.
      writeFileSync(certPath(), '-----BEGIN CERTIFICATE-----\nMIIB');
      await eventually(() => expect(failures().length).toBeGreaterThan(before));
      expect(failures().at(-1)).toMatchObject({ reason: 'file change', serving: serving.toUpperCase() });
      expect(String(failures().at(-1)!.error)).toMatch(/^server\.tls_cert \(.*fullchain\.pem\): /);
      expect(await servedSerial()).toBe(serving);
      // A good certificate with another certificate's key, then a SIGHUP as well.
      const other = await issueServerCert(caNew);
      const stray = await issueServerCert(caNew);
      installPair({ certPem: other.certPem, keyPem: stray.keyPem });
      serve.child.kill('SIGHUP');
      await eventually(() => expect(failures().some((l) => l.reason === 'SIGHUP' && /^server\.tls_key: is not the private key/.test(String(l.error)))).toBe(true));
      expect(await servedSerial()).toBe(serving);
      await keepAliveStillWorks();
      // No key material in any log line.
      expect(serve.stdout()).not.toContain('PRIVATE KEY');
      expect(serve.stderr()).not.toContain('PRIVATE KEY');
    });
  });
});

describeE2E('TLS config errors stop serve at start, naming the key (exit 2)', () => {
  let work: string;
  let certFile: string;
  let keyFile: string;
  let strayKey: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'portcullis-tls-bad-'));
    const ca = await createTestCa();
    const [pair, stray] = await Promise.all([issueServerCert(ca), issueServerCert(ca)]);
    certFile = join(work, 'cert.pem');
    keyFile = join(work, 'key.pem');
    strayKey = join(work, 'stray.pem');
    writeFileSync(certFile, pair.certPem);
    writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
    writeFileSync(strayKey, stray.keyPem, { mode: 0o600 });
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.each([
    ['a certificate without a key', () => ({ PORTCULLIS_SERVER_TLS_CERT: certFile }), /^portcullis: server\.tls_cert is set without its private key: set server\.tls_key/],
    ['a key without a certificate', () => ({ PORTCULLIS_SERVER_TLS_KEY: keyFile }), /^portcullis: server\.tls_key is set without server\.tls_cert/],
    ['a missing certificate file', () => ({ PORTCULLIS_SERVER_TLS_CERT: join(work, 'missing.pem'), PORTCULLIS_SERVER_TLS_KEY: keyFile }), /^portcullis: server\.tls_cert \(.*missing\.pem\): does not exist$/],
    ['a missing key file', () => ({ PORTCULLIS_SERVER_TLS_CERT: certFile, PORTCULLIS_SERVER_TLS_KEY: join(work, 'nokey.pem') }), /^portcullis: server\.tls_key: .*nokey\.pem does not exist$/],
    ['a key that is not the certificate\'s', () => ({ PORTCULLIS_SERVER_TLS_CERT: certFile, PORTCULLIS_SERVER_TLS_KEY: strayKey }), /^portcullis: server\.tls_key: is not the private key of the certificate in server\.tls_cert/],
    ['a secrets.tls_key whose variable is unset', () => ({ PORTCULLIS_SERVER_TLS_CERT: certFile, PORTCULLIS_SECRETS_TLS_KEY: 'env:NO_SUCH_TLS_KEY' }), /^portcullis: secrets\.tls_key \(env:NO_SUCH_TLS_KEY\): environment variable NO_SUCH_TLS_KEY is not set$/],
  ])('%s', async (_what, env, message) => {
    const parent = makeDataDir();
    const dataDir = join(parent, 'data');
    try {
      const r = await runCliWithAsync(dataDir, { env: env(), cwd: parent }, 'serve', '--port', '0');
      expectCliError(r, 2, message);
      // Refused before the data dir is touched: no instance half made.
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      removeDataDir(parent);
    }
  });

  it('serves with the key from a secrets backend (secrets.tls_key = "file:…")', async () => {
    const { dataDir } = initDataDir();
    writeFileSync(join(dataDir, 'portcullis.toml'), `[server]\ntls_cert = "${certFile}"\n[secrets]\ntls_key = "file:${keyFile}"\n`);
    const serve = startServe(dataDir, '--port', '0');
    try {
      const listening = JSON.parse(await serve.waitForLine(/"msg":"portcullis listening"/)) as { port: number };
      const loaded = JSON.parse(await serve.waitForLine(/"msg":"TLS certificate loaded"/)) as Record<string, unknown>;
      expect(loaded).toMatchObject({ key: 'secrets.tls_key', subject: 'CN=localhost' });
      const ok = await runCommand('curl', ['-sS', '--cacert', certFile, `https://127.0.0.1:${listening.port}/healthz`]);
      expect(ok.code, ok.stderr).toBe(0);
    } finally {
      await serve.stop();
      removeDataDir(dataDir);
    }
  });
});
