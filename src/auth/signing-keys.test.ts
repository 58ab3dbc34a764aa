import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSigningKey, KeyRing, libtrustKeyId, listSigningKeys, publishedKeys, type SigningKey } from './signing-keys.js';

// A fixed P-256 public key and its libtrust ID, as computed by
// `openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | head -c 30 | base32`.
const PUBLIC_PEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEppAaEF+vZEuUx6zlV57IJN4XyHcv
bO9qE8/eeuxVq2zmSwDTgnOyDiy7xngIxfkAxIK8ialqW1Z5V1nevzjb+Q==
-----END PUBLIC KEY-----`;

describe('signing keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('computes the libtrust key ID distribution matches', () => {
    expect(libtrustKeyId(createPublicKey(PUBLIC_PEM))).toBe('GI5M:UGWK:YXNN:KQG5:XOYN:6WJA:QLYJ:LQIC:I3SV:JGLA:FKIC:JTWK');
  });

  it('creates ES256 and RS256 keys as 0600 files, newest last', () => {
    const a = createSigningKey(dir, 'ES256', new Date('2026-01-01T00:00:00Z'));
    const b = createSigningKey(dir, 'RS256', new Date('2026-02-01T00:00:00Z'));
    const c = createSigningKey(dir, 'ES256', new Date('2026-02-01T00:00:00Z'));
    expect(a.name).toBe('es256-20260101-000000000Z');
    expect(c.name).toBe('es256-20260201-000000001Z');
    expect(listSigningKeys(dir).map((k) => [k.name, k.alg])).toEqual([
      [a.name, 'ES256'],
      [b.name, 'RS256'],
      [c.name, 'ES256'],
    ]);
    expect(statSync(join(dir, 'keys', `${a.name}.pem`)).mode & 0o777).toBe(0o600);
    expect(b.privateKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(new KeyRing(dir, 300).current().name).toBe(c.name);
  });

  it('keeps an old key published for one token lifetime plus the leeway after its successor', () => {
    const at = (iso: string) => ({ name: iso, createdAt: new Date(iso) }) as SigningKey;
    const keys = [at('2026-01-01T00:00:00Z'), at('2026-02-01T00:00:00Z'), at('2026-02-01T00:10:00Z')];
    const names = (now: string) => publishedKeys(keys, new Date(now), 300).map((k) => k.name);
    expect(names('2026-02-01T00:05:59Z')).toEqual(keys.map((k) => k.name));
    expect(names('2026-02-01T00:06:00Z')).toEqual([keys[1]!.name, keys[2]!.name]);
    expect(names('2026-02-01T00:15:59Z')).toEqual([keys[1]!.name, keys[2]!.name]);
    expect(names('2026-02-01T00:16:00Z')).toEqual([keys[2]!.name]);
  });
});
