import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/helpers/errors.js';
import {
  canonicalRow,
  checkHeader,
  columnKindOf,
  compareCodePoints,
  compareTrailers,
  EXCLUDED_TABLES,
  EXPORT_TABLES,
  exportValue,
  headerLine,
  importRow,
  orderViolations,
  parseBodyLine,
  rowLine,
  TableTally,
  unknownTables,
  type ColumnKind,
  type Hasher,
  type Trailer,
} from './store-export-format.js';

const MIGRATIONS = ['0001-initial', '0002-registry', '0003-more'];
const HEX = (c: string) => c.repeat(64);

/** A hasher that keeps what it was fed: the checksum's input is what these tests check. */
function recorder(): Hasher & { fed: string[] } {
  const fed: string[] = [];
  return { fed, update: (t) => void fed.push(t), hexDigest: () => HEX('a') };
}

const utf8Compare = (a: string, b: string) => {
  const [x, y] = [new TextEncoder().encode(a), new TextEncoder().encode(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
};

describe('compareCodePoints', () => {
  it.each([
    ['a', 'b', -1],
    ['ab', 'a', 1],
    ['', 'a', -1],
    ['same', 'same', 0],
    // UTF-16 `<` says U+10000 (a surrogate pair) sorts before U+FFFF; code points, UTF-8 bytes, SQLite and PostgreSQL "C" say after.
    ['\u{10000}', '\uffff', 1],
    ['\ue000', '\u{1f680}', -1],
    ['Z', 'a', -1],
  ])('%j vs %j', (a, b, sign) => {
    expect(Math.sign(compareCodePoints(a, b))).toBe(sign);
  });

  it('agrees with the order of UTF-8 bytes (what SQLite BINARY and PostgreSQL "C" sort by)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(utf8Compare(a, b)));
      }),
    );
  });
});

describe('canonicalRow', () => {
  it('sorts keys and writes compact JSON, whatever order the columns came in', () => {
    const a = canonicalRow({ name: 'Zoë 🚀', id: 'x1', size: 12, contact: null });
    const b = canonicalRow({ contact: null, size: 12, id: 'x1', name: 'Zoë 🚀' });
    expect(a).toBe('{"contact":null,"id":"x1","name":"Zoë 🚀","size":12}');
    expect(b).toBe(a);
  });

  it('escapes as JSON.stringify does, so the file line parses back to the same row', () => {
    const row = { id: 'q"\\\n\u0001\u2028' };
    const line = rowLine('vendors', canonicalRow(row));
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ table: 'vendors', row });
  });
});

describe('exportValue: one form whichever driver read it', () => {
  it.each<[ColumnKind, unknown, unknown]>([
    ['integer', 42, 42],
    ['integer', '42', 42], // PostgreSQL bigint
    ['integer', '-7', -7],
    ['integer', 42n, 42],
    ['integer', '9007199254740991', 9007199254740991],
    ['text', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    ['text', '', ''],
    ['text', null, null],
    ['integer', undefined, null],
    ['blob', new Uint8Array([0xde, 0xad, 0xbe, 0xef]), '3q2+7w=='],
    ['blob', new Uint8Array([1, 2]), 'AQI='],
    ['blob', new Uint8Array([]), ''],
  ])('%s %s -> %s', (kind, value, expected) => {
    expect(exportValue(kind, value, 't.c')).toBe(expected);
  });

  it.each<[ColumnKind, unknown, RegExp]>([
    ['integer', '9007199254740993', /t\.c holds 9007199254740993, beyond the integers an export carries exactly/],
    ['integer', 1.5, /t\.c holds a fractional number where a integer column was expected/],
    ['integer', '12abc', /t\.c holds a string where a integer column was expected/],
    ['text', 5, /t\.c holds a number where a text column was expected/],
    ['blob', 'AQI=', /t\.c holds a string where a blob column was expected/],
  ])('refuses %s %j', (kind, value, message) => {
    expect(errorOf(() => exportValue(kind, value, 't.c')).message).toMatch(message);
  });
});

describe('columnKindOf', () => {
  it.each([
    ['integer', 'integer'],
    ['bigint', 'integer'],
    ['INTEGER', 'integer'],
    ['text', 'text'],
    ['character varying', 'text'],
    ['bytea', 'blob'],
    ['BLOB', 'blob'],
    ['double precision', undefined],
    ['jsonb', undefined],
    ['boolean', undefined],
  ])('%s -> %s', (type, kind) => {
    expect(columnKindOf(type)).toBe(kind);
  });
});

describe('checkHeader', () => {
  const header = (o: Record<string, unknown> = {}) => ({ ...JSON.parse(headerLine('0003-more', new Date('2026-01-02T03:04:05Z'))), ...o });

  it('takes the header headerLine writes', () => {
    expect(checkHeader(header(), MIGRATIONS)).toEqual({ format: 'portcullis-export', version: 1, schemaVersion: '0003-more', exportedAt: '2026-01-02T03:04:05.000Z' });
  });

  it.each([
    ['another JSON value', { hello: 1 }, /^not a Portcullis export: the first line must be its header/],
    ['a list', [1, 2], /^not a Portcullis export/],
    ['a newer format version', header({ version: 2 }), /export format version 2 is not one this Portcullis reads \(version 1\)/],
    ['an older schema', header({ schemaVersion: '0002-registry' }), /schema 0002-registry, older than this Portcullis \(0003-more\): upgrade the source first/],
    ['a schema from a newer Portcullis', header({ schemaVersion: '0009-future' }), /schema 0009-future, which this Portcullis \(at 0003-more\) does not know: upgrade Portcullis/],
    ['no exportedAt', header({ exportedAt: undefined }), /lacks its schemaVersion or exportedAt/],
  ])('refuses %s', (_name, value, message) => {
    const err = errorOf(() => checkHeader(value, MIGRATIONS));
    expect(err).toMatchObject({ code: 'invalid_input' });
    expect(err.message).toMatch(message);
  });
});

describe('parseBodyLine', () => {
  const fullTrailer = (): Trailer => Object.fromEntries(EXPORT_TABLES.map((t) => [t.name, { rows: 0, sha256: HEX('0') }]));

  it('reads rows of known tables and the trailer', () => {
    expect(parseBodyLine({ table: 'tokens', row: { id: 'a' } })).toMatchObject({ kind: 'row', table: { name: 'tokens', index: 4 }, row: { id: 'a' } });
    expect(parseBodyLine({ trailer: fullTrailer() })).toEqual({ kind: 'trailer', trailer: fullTrailer() });
  });

  it.each([
    ['an unknown table', { table: 'bogus', row: {} }, /^unknown table "bogus"$/],
    ['an excluded table', { table: 'schema_migrations', row: {} }, /^unknown table "schema_migrations"$/],
    ['a row that is not an object', { table: 'tokens', row: [1] }, /expected \{"table":…,"row":\{…\}\} or the trailer/],
    ['a bare value', 7, /expected \{"table"/],
    ['a trailer without a table', { trailer: { vendors: { rows: 0, sha256: HEX('0') } } }, /the trailer lacks table\(s\) customers, plans/],
    ['a trailer with a bad checksum', { trailer: { ...fullTrailer(), tokens: { rows: 1, sha256: 'abc' } } }, /entry for tokens must be \{"rows":N,"sha256":"<64 hex digits>"\}/],
    ['a trailer with a negative count', { trailer: { ...fullTrailer(), tokens: { rows: -1, sha256: HEX('0') } } }, /entry for tokens must be/],
    ['a trailer naming an unknown table', { trailer: { ...fullTrailer(), extra: { rows: 0, sha256: HEX('0') } } }, /unknown table "extra"/],
  ])('refuses %s', (_name, value, message) => {
    expect(errorOf(() => parseBodyLine(value)).message).toMatch(message);
  });
});

describe('importRow', () => {
  const columns = new Map<string, ColumnKind>([
    ['id', 'text'],
    ['size', 'integer'],
    ['note', 'text'],
  ]);

  it('takes exactly the target columns, values fitting their kind', () => {
    expect(importRow('t', { id: 'a', size: 3, note: null }, columns)).toEqual({ id: 'a', size: 3, note: null });
  });

  it.each([
    ['an unknown column', { id: 'a', size: 3, note: null, bogus: 1 }, /^table t has no column "bogus"$/],
    ['a missing column', { id: 'a', note: null }, /^the t row lacks column\(s\) size$/],
    ['text in an integer column', { id: 'a', size: '3', note: null }, /^t\.size is string, not a integer$/],
    ['a fraction in an integer column', { id: 'a', size: 3.5, note: null }, /^t\.size is fractional number, not a integer$/],
    ['a number in a text column', { id: 1, size: 3, note: null }, /^t\.id is number, not a text$/],
    ['a nested object', { id: 'a', size: 3, note: { x: 1 } }, /^t\.note is object, not a text$/],
  ])('refuses %s', (_name, row, message) => {
    expect(errorOf(() => importRow('t', row, columns)).message).toMatch(message);
  });

  it('takes base64 for blob columns only', () => {
    const blobs = new Map<string, ColumnKind>([['b', 'blob']]);
    expect(importRow('t', { b: 'AQI=' }, blobs)).toEqual({ b: 'AQI=' });
    expect(errorOf(() => importRow('t', { b: 'not base64!' }, blobs)).message).toMatch(/t\.b is string, not a base64 string/);
  });
});

describe('the table list', () => {
  // The foreign keys migrations 0001-0004 declare (the store tests read them from both databases too).
  const FOREIGN_KEYS = [
    ['customers', 'vendors'],
    ['plans', 'vendors'],
    ['licenses', 'vendors'],
    ['licenses', 'customers'],
    ['licenses', 'plans'],
    ['tokens', 'vendors'],
    ['tokens', 'customers'],
    ['users', 'vendors'],
    ['sessions', 'users'],
    ['invitations', 'users'],
  ].map(([table, references]) => ({ table: table!, references: references! }));

  it('puts every parent before its children', () => {
    expect(orderViolations(FOREIGN_KEYS)).toEqual([]);
    expect(orderViolations([{ table: 'vendors', references: 'users' }])).toEqual(['vendors -> users']);
    expect(orderViolations([{ table: 'newtable', references: 'vendors' }])).toEqual(['newtable -> vendors']);
  });

  it('names each table once, none of them excluded', () => {
    const names = EXPORT_TABLES.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => EXCLUDED_TABLES.includes(n))).toEqual([]);
  });

  it('reports a table that is neither moved nor excluded', () => {
    expect(unknownTables(['vendors', 'schema_migrations', 'store_changes', 'zeta', 'alpha'])).toEqual(['alpha', 'zeta']);
    expect(unknownTables([...EXPORT_TABLES.map((t) => t.name), ...EXCLUDED_TABLES])).toEqual([]);
  });
});

describe('TableTally', () => {
  const blobs = EXPORT_TABLES.find((t) => t.name === 'registry_blobs')!;

  it('feeds each canonical row and a newline to the hasher, and counts', () => {
    const hasher = recorder();
    const tally = new TableTally(blobs, hasher);
    const first = tally.add({ repository: 'a/b', digest: 'sha256:1', size: 1, created_at: 't' });
    tally.add({ size: 2, digest: 'sha256:2', repository: 'a/b', created_at: 't' });
    tally.add({ repository: 'a/c', digest: 'sha256:0', size: 3, created_at: 't' });
    expect(first).toBe('{"created_at":"t","digest":"sha256:1","repository":"a/b","size":1}');
    expect(hasher.fed).toEqual([
      `${first}\n`,
      '{"created_at":"t","digest":"sha256:2","repository":"a/b","size":2}\n',
      '{"created_at":"t","digest":"sha256:0","repository":"a/c","size":3}\n',
    ]);
    expect(tally.summary()).toEqual({ rows: 3, sha256: HEX('a') });
  });

  it('refuses rows out of key order, or a key twice', () => {
    const tally = new TableTally(blobs, recorder());
    tally.add({ repository: 'a/c', digest: 'sha256:0' });
    expect(errorOf(() => tally.add({ repository: 'a/b', digest: 'sha256:9' })).message).toMatch(/registry_blobs rows did not come in code-point order of \(repository, digest\)/);
    const again = new TableTally(blobs, recorder());
    again.add({ repository: 'a', digest: 'x' });
    expect(() => again.add({ repository: 'a', digest: 'x' })).toThrow(/code-point order/);
  });
});

describe('compareTrailers', () => {
  it('marks each table whose count or checksum differs', () => {
    const base: Trailer = Object.fromEntries(EXPORT_TABLES.map((t) => [t.name, { rows: 1, sha256: HEX('1') }]));
    const checks = compareTrailers(base, { ...base, tokens: { rows: 2, sha256: HEX('1') }, users: { rows: 1, sha256: HEX('2') } });
    expect(checks.map((c) => c.table)).toEqual(EXPORT_TABLES.map((t) => t.name));
    expect(checks.filter((c) => !c.ok).map((c) => c.table)).toEqual(['tokens', 'users']);
  });
});
