/**
 * Property tests of the pure parsers that read user input (flags, query
 * strings, headers, bodies, stored patterns): for any text they return a
 * value or throw PortcullisError('invalid_input') with a short message, never
 * another error, never a hang. Pattern matching is bounded too: the glob
 * matchers replaced regular expressions that backtracked exponentially.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBasicAuthorization } from '../../src/core/basic-auth.js';
import { parseDuration } from '../../src/core/duration.js';
import { parseDate, parseEnd, parseExpiry } from '../../src/core/expiry.js';
import { isLoopbackAddress, isLoopbackHost } from '../../src/core/loopback.js';
import { parseManifest } from '../../src/core/oci-manifest.js';
import { parsePageParams, parseReference, parseV2Path } from '../../src/core/oci-reference.js';
import { parseScope, parseScopeParams } from '../../src/core/registry-scope.js';
import { matchesRepoPattern, validateRepoPattern, validateRepositoryName } from '../../src/core/repo-pattern.js';
import { parseSince } from '../../src/core/since.js';
import { matchesTagPattern, validateTagPattern } from '../../src/core/tag-pattern.js';
import { validateName } from '../../src/core/text.js';
import { isWellFormedSecret, parseUsername, splitCredentials } from '../../src/core/token-format.js';
import { parseScopeList } from '../../src/core/vendor-scopes.js';
import { anyText, fuzzParams, near, neverThrows, parserInput, parsesCleanly } from './fuzz.js';

const RUNS = 300;
const NOW = new Date('2026-11-24T12:00:00Z');

const SCOPE_PIECES = ['repository', 'registry', 'catalog', ':', ':', '/', 'acme', 'app', 'a', ',', 'pull', 'push', 'delete', '*', '(', ')', 'plugin', ' ', '\t', '\u0000', 'ä', '..', '.', '-', '_', '__', 'A', '9'];
const REPO_PIECES = ['acme', 'a', 'b', '/', '/', '*', '**', '.', '-', '_', '__', '--', 'A', '0', ' ', '\n', 'é', '?'];
const TAG_PIECES = ['1', '2', '.', '*', '?', 'v', '-', '_', 'rc', 'semver:', 'SEMVER:', '^', '~', '>=', '<', ' ', '||', 'x', 'X', '*', '+', 'latest', '\u0000', 'é'];
const DURATION_PIECES = ['0', '1', '9', '30', '99999999999999999999', 'y', 'M', 'w', 'd', 'h', 'm', 's', 'D', 'x', '-', '+', ' ', '.', ',', '\u00a0', '٣'];
const DATE_PIECES = ['2026', '0000', '9999', '-', '-', '01', '12', '31', '00', '29', '02', 'T', 't', ' ', ':', '59', '60', '23', '24', 'Z', 'z', '+', '-', '.', '123456789', '1234567890', 'never', 'd', 'y', '30'];
const PATH_PIECES = ['acme', 'app', '/', '/', 'v2', 'manifests', 'blobs', 'uploads', 'tags', 'list', 'referrers', '_catalog', 'sha256:', 'a'.repeat(64), '0'.repeat(64), '..', '.', '%2F', '%', 'latest', ':', 'A', ''];

describe('registry scopes (/token ?scope=)', () => {
  it('parseScope and parseScopeParams', () => {
    fc.assert(
      fc.property(parserInput(SCOPE_PIECES), fc.array(parserInput(SCOPE_PIECES, 8), { maxLength: 80 }), (one, many) => {
        parsesCleanly(() => parseScope(one));
        parsesCleanly(() => parseScopeParams(many));
      }),
      fuzzParams(RUNS),
    );
  });
});

describe('repository names and patterns', () => {
  it('validate, and match any name in bounded time', () => {
    fc.assert(
      fc.property(parserInput(REPO_PIECES, 40), parserInput(REPO_PIECES, 40), (pattern, name) => {
        parsesCleanly(() => validateRepositoryName(name));
        parsesCleanly(() => validateRepoPattern(pattern));
        parsesCleanly(() => matchesRepoPattern(pattern, name));
      }),
      fuzzParams(RUNS),
    );
  });

  it('stay fast on patterns made of many * and ** against long names', () => {
    // Runs of * collapsed: `**` inside a segment is refused before any matching happens.
    const segment = fc.array(fc.constantFrom('a', '*', 'a*', '*a'), { minLength: 1, maxLength: 12 }).map((p) => p.join('').replace(/\*+/g, '*'));
    const pattern = fc.array(fc.oneof(segment, fc.constant('**')), { minLength: 1, maxLength: 40 }).map((s) => [...s, 'b'].join('/'));
    const longName = fc.integer({ min: 1, max: 60 }).map((n) => Array.from({ length: n }, () => 'a'.repeat(3)).join('/'));
    fc.assert(
      fc.property(pattern, longName, (p, name) => parsesCleanly(() => matchesRepoPattern(p, name))),
      fuzzParams(200),
    );
  });

  it('match exactly as the regular expressions they replaced, on inputs small enough for those', () => {
    const oracle = (pattern: string, name: string): boolean => {
      const segments = pattern.split('/').filter((s, i, all) => !(s === '**' && all[i - 1] === '**'));
      let src = '';
      segments.forEach((segment, i) => {
        if (segment === '**') {
          src += segments.length === 1 ? '.*' : i === 0 ? '(?:.*/)?' : '(?:/.*)?';
          return;
        }
        if (i > 0 && !(i === 1 && segments[0] === '**')) src += '/';
        src += segment.replace(/\./g, '\\.').replace(/\*/g, '[^/]*');
      });
      return new RegExp(`^${src}$`).test(name);
    };
    const segment = fc.array(fc.constantFrom('a', 'b', '*', '.', '-'), { minLength: 1, maxLength: 4 }).map((p) => p.join('').replace(/\*+/g, '*'));
    const pattern = fc.array(fc.oneof(segment, fc.constant('**')), { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
    const name = fc.array(fc.array(fc.constantFrom('a', 'b', '.', '-'), { minLength: 1, maxLength: 4 }).map((p) => p.join('')), { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
    fc.assert(
      fc.property(pattern, name, (p, n) => {
        expect(matchesRepoPattern(p, n), `${p} vs ${n}`).toBe(oracle(p, n));
      }),
      fuzzParams(1000),
    );
  });
});

describe('tag patterns', () => {
  it('validate, and match any tag in bounded time', () => {
    fc.assert(
      fc.property(parserInput(TAG_PIECES), parserInput(TAG_PIECES, 8), (pattern, tag) => {
        parsesCleanly(() => validateTagPattern(pattern));
        parsesCleanly(() => matchesTagPattern(pattern, tag));
      }),
      fuzzParams(RUNS),
    );
  });

  it('stay fast on globs made of many * and ? against 128-character tags', () => {
    const glob = fc.array(fc.constantFrom('1', '*', '?', '1*', '*1'), { minLength: 1, maxLength: 80 }).map((p) => `${p.join('')}x`.slice(0, 256));
    fc.assert(
      fc.property(glob, fc.constantFrom('1'.repeat(128), `${'1'.repeat(127)}y`, '1.1.1'), (p, tag) => parsesCleanly(() => matchesTagPattern(p, tag))),
      fuzzParams(200),
    );
  });

  it('match exactly as the regular expressions they replaced, on inputs small enough for those', () => {
    const oracle = (pattern: string, tag: string) => new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*+/g, '.*').replace(/\?/g, '.')}$`).test(tag);
    const glob = fc.array(fc.constantFrom('1', '2', '.', '*', '?', 'v'), { minLength: 1, maxLength: 6 }).map((p) => p.join(''));
    const tag = fc.array(fc.constantFrom('1', '2', '.', 'v', '-'), { minLength: 1, maxLength: 8 }).map((p) => `v${p.join('')}`);
    fc.assert(
      fc.property(glob, tag, (p, t) => {
        expect(matchesTagPattern(p, t), `${p} vs ${t}`).toBe(oracle(p, t));
      }),
      fuzzParams(1000),
    );
  });
});

describe('durations and dates', () => {
  it('parseDuration', () => {
    fc.assert(fc.property(parserInput(DURATION_PIECES, 12), (text) => parsesCleanly(() => parseDuration(text))), fuzzParams(RUNS));
  });

  it('parseDate, parseEnd, parseExpiry and parseSince', () => {
    const input = fc.oneof(parserInput(DATE_PIECES, 16), parserInput(DURATION_PIECES, 8));
    fc.assert(
      fc.property(input, (text) => {
        parsesCleanly(() => parseDate(text, 'valid_until'));
        parsesCleanly(() => parseEnd(text, NOW, 'valid_until'));
        parsesCleanly(() => parseExpiry(text, NOW));
        parsesCleanly(() => parseSince(text, NOW));
      }),
      fuzzParams(RUNS),
    );
  });
});

describe('credentials', () => {
  const base64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const header = fc.oneof(
    anyText,
    anyText.map((s) => `Basic ${base64(s)}`),
    fc.tuple(anyText, anyText).map(([u, p]) => `Basic ${base64(`${u}:${p}`)}`),
    fc.uint8Array({ maxLength: 200 }).map((b) => `basic ${Buffer.from(b).toString('base64')}`),
    near(['Basic ', 'bearer ', 'Bearer ', 'QQ', '==', '=', 'Og', '/', '+', ' ', 'AA', '!', '\u0000'], 12),
  );

  it('parseBasicAuthorization never throws, and yields text without control characters', () => {
    fc.assert(
      fc.property(header, (h) =>
        neverThrows(() => {
          const parsed = parseBasicAuthorization(h);
          // eslint-disable-next-line no-control-regex -- control characters are what must never come out
          if (parsed) expect(`${parsed.user}${parsed.password}`).not.toMatch(/[\u0000-\u001f\u007f]/);
        }),
      ),
      fuzzParams(RUNS),
    );
  });

  it('token usernames and secrets never throw', () => {
    const piece = parserInput(['vtok_', 'ctok_', '0123456789abcdef', 'i', 'l', 'o', 'u', '.', 'A'.repeat(32), 'a1'.repeat(16), ':'], 8);
    fc.assert(
      fc.property(piece, piece, (user, password) =>
        neverThrows(() => {
          parseUsername(user);
          isWellFormedSecret(password);
          splitCredentials(user, password);
        }),
      ),
      fuzzParams(RUNS),
    );
  });

  it('vendor token scopes (--scopes, API scopes field)', () => {
    const scopes = parserInput(['pull', 'push', 'admin', ':', '*', 'tokens', 'read', 'write', ',', ' ', 'ADMIN', '\n'], 16);
    fc.assert(
      fc.property(scopes, fc.array(scopes, { maxLength: 6 }), (text, list) => {
        parsesCleanly(() => parseScopeList(text));
        parsesCleanly(() => parseScopeList(list));
      }),
      fuzzParams(RUNS),
    );
  });
});

describe('OCI references, /v2 paths and pages', () => {
  it('parseReference, parseV2Path and parsePageParams', () => {
    fc.assert(
      fc.property(parserInput(PATH_PIECES, 16), fc.option(anyText, { nil: undefined }), fc.option(anyText, { nil: undefined }), (text, n, last) => {
        parsesCleanly(() => parseReference(text));
        neverThrows(() => parseV2Path(text));
        parsesCleanly(() => parsePageParams({ n, last }));
      }),
      fuzzParams(RUNS),
    );
  });

  it('parseManifest on any JSON, huge numbers, deep nesting, __proto__ keys and bytes that are not UTF-8', () => {
    const descriptor = fc.record(
      {
        mediaType: fc.oneof(fc.constant('application/vnd.oci.image.layer.v1.tar'), anyText, fc.jsonValue()),
        digest: fc.oneof(fc.constant(`sha256:${'a'.repeat(64)}`), anyText, fc.jsonValue()),
        size: fc.oneof(fc.nat(), fc.double(), fc.constant(1e308), fc.constant(-1), fc.jsonValue()),
        annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.jsonValue()),
        platform: fc.jsonValue(),
        urls: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const manifest = fc.record(
      {
        schemaVersion: fc.oneof(fc.constant(2), fc.constant(1), fc.jsonValue()),
        mediaType: fc.oneof(fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json'), fc.jsonValue()),
        config: fc.oneof(descriptor, fc.jsonValue()),
        layers: fc.oneof(fc.array(descriptor, { maxLength: 3 }), fc.jsonValue()),
        manifests: fc.oneof(fc.array(descriptor, { maxLength: 3 }), fc.jsonValue()),
        subject: fc.oneof(descriptor, fc.jsonValue()),
        annotations: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      manifest.map((m) => JSON.stringify(m)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.constantFrom('{"__proto__":{"schemaVersion":2}}', '{"schemaVersion":2,"annotations":{"__proto__":"x"}}', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, '{"schemaVersion":2e400}'),
      anyText,
    );
    const bytes = fc.oneof(
      body.map((s) => new TextEncoder().encode(s)),
      fc.uint8Array({ maxLength: 300 }),
    );
    const contentType = fc.option(fc.oneof(fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'), anyText), { nil: undefined });
    fc.assert(
      fc.property(bytes, contentType, (b, ct) => parsesCleanly(() => parseManifest(b, ct))),
      fuzzParams(RUNS),
    );
  });
});

describe('names and addresses', () => {
  it('validateName takes any JSON value', () => {
    fc.assert(fc.property(fc.oneof(anyText, fc.jsonValue()), (v) => parsesCleanly(() => validateName(v, 'name'))), fuzzParams(RUNS));
  });

  it('isLoopbackAddress and isLoopbackHost never throw, and only 127/8 and ::1 forms are loopback', () => {
    const address = fc.oneof(anyText, fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.ipV4().map((a) => `::ffff:${a}`));
    fc.assert(
      fc.property(address, (a) =>
        neverThrows(() => {
          if (isLoopbackAddress(a) && /^\d+\.\d+\.\d+\.\d+$/.test(a)) expect(a.startsWith('127.')).toBe(true);
          isLoopbackHost(a);
        }),
      ),
      fuzzParams(RUNS),
    );
  });
});
