import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { certificateBundle, certificateSettings, ensureCertificate, issueCertificateChain } from './certificates.js';
import { renewSigningCertificate, startCertificateRenewal } from './certificate-renewal.js';
import { createSigningKey, KeyRing } from './signing-keys.js';

const H = 3_600_000;
const t0 = new Date('2026-03-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const leafEnd = (chain: Buffer[]) => new Date(new X509Certificate(chain[0]!).validTo);

interface LogEntry {
  level: string;
  fields: Record<string, unknown>;
  msg: string;
}

/** An instance's keys on a data dir, a movable clock and a logger that keeps what it is told. */
function setUp(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-renewal-'));
  const config: Readonly<Config> = loadConfig({ env, cwd: dataDir, flags: { data_dir: dataDir } });
  const clock = { now: t0 };
  createSigningKey(dataDir, 'ES256', t0);
  const keys = new KeyRing(dataDir, 300);
  const logs: LogEntry[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, msg: string) => void logs.push({ level, fields, msg });
  const logger = { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') } as unknown as Parameters<typeof startCertificateRenewal>[1];
  const announced: unknown[] = [];
  const deps = { config, keys, now: () => clock.now, changes: { announce: async (c: unknown) => void announced.push(c) } };
  return { dataDir, config, settings: certificateSettings(config), clock, keys, logs, logger, announced, deps };
}

/** Waits for the logger to have `n` entries; the renewal's file and crypto work runs outside the fake timers. */
async function untilLogged(logs: LogEntry[], n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (logs.length < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} log entries, got ${JSON.stringify(logs)}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('signing key certificate renewal', () => {
  const dirs: string[] = [];
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('renews the leaf at the first hourly check with less than a third of its 7 days left, and announces it', async () => {
    const s = setUp();
    dirs.push(s.dataDir);
    expect(await ensureCertificate(s.settings, s.keys.current(), t0, true)).toMatchObject({ state: 'issued', reason: 'missing', notAfter: at(168 * H) });
    const renewal = startCertificateRenewal(s.deps, s.logger);
    try {
      await untilLogged(s.logs, 1);
      expect(s.logs[0]).toMatchObject({ level: 'info', msg: 'signing key certificate renewal on', fields: { expires_at: at(168 * H).toISOString(), check_interval_s: 3600, certificate_ttl: '7d' } });
      // 168 h of life, renewed with under 56 h left: the check at 112 h keeps it, the one at 113 h renews it.
      for (let hour = 1; hour <= 113; hour++) {
        s.clock.now = at(hour * H);
        vi.advanceTimersByTime(H);
        await untilLogged(s.logs, hour + 1);
        const entry = s.logs[hour]!;
        if (hour < 113) expect(entry, `hour ${hour}`).toMatchObject({ level: 'debug', msg: 'signing key certificate checked' });
      }
      expect(s.logs[113]).toMatchObject({
        level: 'info',
        msg: 'renewed the signing key certificate',
        fields: { reason: 'ending', expires_at: at((113 + 168) * H).toISOString(), previous_expires_at: at(168 * H).toISOString() },
      });
      expect(s.announced).toEqual([{ kind: 'keys' }]);
      expect(leafEnd(s.keys.current().certificateChain)).toEqual(at((113 + 168) * H));
    } finally {
      await renewal.stop();
    }
  });

  it('a renewal that fails is an error with the time left, retried at each check until it works; an expired leaf says so', async () => {
    const s = setUp();
    dirs.push(s.dataDir);
    await ensureCertificate(s.settings, s.keys.current(), t0, true);
    const caKey = join(s.settings.caDir, 'ca-key.pem');
    const goodKey = readFileSync(caKey);
    writeFileSync(caKey, 'not a key');
    s.clock.now = at(120 * H);
    const renewal = startCertificateRenewal(s.deps, s.logger);
    try {
      await untilLogged(s.logs, 1);
      expect(s.logs[0]).toMatchObject({ level: 'error', msg: 'could not renew the signing key certificate; trying again at the next check, before it expires', fields: { hours_left: 48, expires_at: at(168 * H).toISOString(), next_try_in_s: 3600 } });
      s.clock.now = at(169 * H);
      vi.advanceTimersByTime(H);
      await untilLogged(s.logs, 2);
      expect(s.logs[1]).toMatchObject({ level: 'error', fields: { hours_left: -1 } });
      expect(s.logs[1]!.msg).toMatch(/^the signing key certificate has EXPIRED and could not be renewed: registries that trust the instance CA refuse every token until it is/);
      writeFileSync(caKey, goodKey);
      s.clock.now = at(170 * H);
      vi.advanceTimersByTime(H);
      await untilLogged(s.logs, 3);
      expect(s.logs[2]).toMatchObject({ level: 'info', msg: 'renewed the signing key certificate', fields: { reason: 'expired', expires_at: at((170 + 168) * H).toISOString() } });
    } finally {
      await renewal.stop();
    }
  });

  it('a 10-year leaf from an older version is replaced at the first check, with a warning about old bundles', async () => {
    const s = setUp();
    dirs.push(s.dataDir);
    const key = s.keys.current();
    const chain = (await issueCertificateChain({ ...s.settings, lifetimeMs: 3653 * 24 * H }, key, t0, true))!;
    writeFileSync(join(s.dataDir, 'keys', `${key.name}.crt`), chain.map((d) => new X509Certificate(d).toString()).join(''));
    const renewal = startCertificateRenewal(s.deps, s.logger);
    try {
      await untilLogged(s.logs, 1);
      expect(s.logs[0]).toMatchObject({ level: 'warn', fields: { reason: 'too_long', expires_at: at(168 * H).toISOString() } });
      expect(s.logs[0]!.msg).toContain('install the CA-only bundle `portcullis keys cert` writes now on every registry');
    } finally {
      await renewal.stop();
    }
  });
});

describe('rotated-out keys and the bundle', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("only the current key's leaf is renewed: a rotated-out key's leaf runs out", async () => {
    const s = setUp();
    dirs.push(s.dataDir);
    const old = s.keys.current();
    await ensureCertificate(s.settings, old, t0, true);
    const oldCrt = join(s.dataDir, 'keys', `${old.name}.crt`);
    const oldChain = readFileSync(oldCrt, 'utf8');
    s.clock.now = at(24 * H);
    const next = createSigningKey(s.dataDir, 'ES256', s.clock.now);
    await ensureCertificate(s.settings, next, s.clock.now);

    for (const hour of [150, 170, 200]) {
      s.clock.now = at(hour * H);
      const result = await renewSigningCertificate(s.deps);
      expect(result.key.name).toBe(next.name);
    }
    // The new key was renewed once it was due (24 h + 112 h); the old one's file was never touched, and its leaf has ended.
    expect(readFileSync(oldCrt, 'utf8')).toBe(oldChain);
    expect(leafEnd(s.keys.all().find((k) => k.name === old.name)!.certificateChain)).toEqual(at(168 * H));
    expect(leafEnd(s.keys.current().certificateChain).getTime()).toBeGreaterThan(at(200 * H).getTime());
  });

  it('the bundle is the CA alone; without a CA nothing is certified or written', async () => {
    const s = setUp();
    dirs.push(s.dataDir);
    expect(await renewSigningCertificate(s.deps)).toMatchObject({ state: 'no_ca' });
    expect(s.keys.current().certificateChain).toEqual([]);
    await ensureCertificate(s.settings, s.keys.current(), t0, true);
    const pems = certificateBundle(s.settings).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    expect(pems).toHaveLength(1);
    const ca = new X509Certificate(pems[0]!);
    expect(ca.ca).toBe(true);
    s.keys.refresh(true);
    expect(new X509Certificate(s.keys.current().certificateChain[0]!).checkIssued(ca)).toBe(true);
  });

  it('auth.ca_dir puts the CA outside the data dir; auth.certificate_ttl sets the leaf lifetime', async () => {
    const caDir = mkdtempSync(join(tmpdir(), 'portcullis-ca-'));
    dirs.push(caDir);
    const s = setUp({ PORTCULLIS_AUTH_CA_DIR: caDir, PORTCULLIS_AUTH_CERTIFICATE_TTL: '1d' });
    dirs.push(s.dataDir);
    expect(s.settings).toMatchObject({ caDir, lifetimeMs: 24 * H });
    await ensureCertificate(s.settings, s.keys.current(), t0, true);
    expect(readFileSync(join(caDir, 'ca.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');
    s.keys.refresh(true);
    expect(leafEnd(s.keys.current().certificateChain)).toEqual(at(24 * H));
  });
});
