/**
 * The store export format (`portcullis export` / `portcullis import`), pure:
 * which tables move and in what order, the canonical form of a row, and the
 * checks on the header, the rows and the trailer. The I/O is in
 * src/store/transfer.ts.
 *
 * A file is JSON Lines:
 *   {"format":"portcullis-export","version":1,"schemaVersion":"0006-…","exportedAt":"…"}
 *   {"table":"vendors","row":{…}}            one line per row, tables in EXPORT_TABLES order
 *   {"trailer":{"vendors":{"rows":2,"sha256":"…"},…}}
 *
 * Each row is written in its canonical form (canonicalRow): keys sorted,
 * integers as JSON numbers, text as JSON strings, binary as base64 strings.
 * The same data gives the same bytes whichever database it came from, so a
 * table's checksum, the SHA-256 of its canonical rows each followed by "\n"
 * in primary-key order (code-point order), proves on the target that nothing
 * was lost or changed.
 */
import { invalid, PortcullisError } from './errors.js';

export const EXPORT_FORMAT = 'portcullis-export';
export const EXPORT_VERSION = 1;

export interface ExportTable {
  name: string;
  /** Primary key columns: the order rows are read, written and summed in. */
  key: readonly string[];
}

/**
 * Every table that holds data, parents before the tables whose foreign keys
 * point at them (migrations 0001-0004): an import in this order never
 * breaks a foreign key. A table a new migration adds must be listed here or
 * in EXCLUDED_TABLES: export and import refuse a database with a table in
 * neither, rather than leave its rows behind.
 */
export const EXPORT_TABLES: readonly ExportTable[] = [
  { name: 'vendors', key: ['id'] },
  { name: 'customers', key: ['id'] },
  { name: 'plans', key: ['id'] },
  { name: 'licenses', key: ['id'] },
  { name: 'tokens', key: ['id'] },
  { name: 'users', key: ['id'] },
  { name: 'sessions', key: ['id'] },
  { name: 'invitations', key: ['id'] },
  { name: 'audit_events', key: ['id'] },
  { name: 'usage_events', key: ['id'] },
  { name: 'expiry_warnings', key: ['object_id', 'ends_at'] },
  { name: 'registry_manifests', key: ['repository', 'digest'] },
  { name: 'registry_tags', key: ['repository', 'tag'] },
  { name: 'registry_blobs', key: ['repository', 'digest'] },
];

/** The migrator's bookkeeping and PostgreSQL's change counter: each store keeps its own. */
export const EXCLUDED_TABLES: readonly string[] = ['schema_migrations', 'schema_migrations_lock', 'store_changes'];

const TABLES_BY_NAME = new Map(EXPORT_TABLES.map((t, i) => [t.name, { ...t, index: i }]));

export function exportTable(name: string): (ExportTable & { index: number }) | undefined {
  return TABLES_BY_NAME.get(name);
}

/**
 * How a column's values are written. SQLite and PostgreSQL hand the same
 * stored value back differently (PostgreSQL's bigint as a string, binary as
 * a Buffer); the kind says what it is, whoever read it.
 */
export type ColumnKind = 'text' | 'integer' | 'blob';

/** A value as the export writes it: blobs as base64 text. */
export type ExportValue = string | number | null;

export type ExportRow = Record<string, ExportValue>;

/**
 * The kind a database column type names, or undefined for one the format
 * cannot carry faithfully (a future migration's new type must extend it).
 * Takes SQLite's declared types (its affinity rules) and PostgreSQL's
 * information_schema data_type.
 */
export function columnKindOf(declaredType: string): ColumnKind | undefined {
  const t = declaredType.trim().toLowerCase();
  if (['integer', 'bigint', 'smallint', 'int', 'int2', 'int4', 'int8'].includes(t)) return 'integer';
  if (t === 'text' || t === 'character varying' || t === 'varchar' || t === 'character' || t === 'clob') return 'text';
  if (t === 'blob' || t === 'bytea') return 'blob';
  return undefined;
}

const INTEGER_TEXT = /^-?(0|[1-9]\d*)$/;

/** A value read from either database, in export form; throws with `where` (table.column) for one the column's kind cannot hold. */
export function exportValue(kind: ColumnKind, value: unknown, where: string): ExportValue {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'text':
      if (typeof value === 'string') return value;
      break;
    case 'integer': {
      // PostgreSQL's bigint arrives as text (node-postgres keeps its 64 bits).
      const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : typeof value === 'string' && INTEGER_TEXT.test(value) ? Number(value) : Number.NaN;
      if (Number.isSafeInteger(n)) return n;
      if (Number.isInteger(n)) throw new PortcullisError('conflict', `${where} holds ${String(value)}, beyond the integers an export carries exactly (±2^53)`);
      break;
    }
    case 'blob':
      if (value instanceof Uint8Array) return base64(value);
      break;
  }
  // The database's own content, not the caller's input: a conflict, not a usage error.
  throw new PortcullisError('conflict', `${where} holds a ${describe(value)} where a ${kind} column was expected`);
}

/** A value from an export file, checked against the target column's kind. */
export function importValue(kind: ColumnKind, value: unknown, where: string): ExportValue {
  if (value === null) return null;
  const ok =
    (kind === 'text' && typeof value === 'string') ||
    (kind === 'integer' && typeof value === 'number' && Number.isSafeInteger(value)) ||
    (kind === 'blob' && typeof value === 'string' && BASE64.test(value));
  if (!ok) throw invalid(`${where} is ${describe(value)}, not a ${kind === 'blob' ? 'base64 string' : kind}`);
  return value as ExportValue;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Uint8Array) return 'binary value';
  return typeof value === 'number' && !Number.isInteger(value) ? 'fractional number' : typeof value;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (core code has no Buffer). */
function base64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const [a, b, c] = [bytes[i]!, bytes[i + 1], bytes[i + 2]];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (b === undefined ? '=' : B64[(n >> 6) & 63]!) + (c === undefined ? '=' : B64[n & 63]!);
  }
  return out;
}

/**
 * Code-point order, the order SQLite's BINARY collation and PostgreSQL's
 * "C" collation sort UTF-8 text in. JavaScript's `<` compares UTF-16 code
 * units, which puts U+E000..U+FFFF after the characters beyond U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (U+D800..U+DFFF, which encode U+10000 and up) rank above U+E000..U+FFFF. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

function compareValues(a: ExportValue, b: ExportValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareCodePoints(String(a), String(b));
}

export function compareKeys(a: readonly ExportValue[], b: readonly ExportValue[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValues(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Canonical JSON of a row: keys in code-point order, no spaces, JSON.stringify's escapes. */
export function canonicalRow(row: ExportRow): string {
  const keys = Object.keys(row).sort(compareCodePoints);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(row[k])}`).join(',')}}`;
}

/** One row line of the file; its `row` is the canonical row (canonicalRow), byte for byte. */
export function rowLine(table: string, canonical: string): string {
  return `{"table":${JSON.stringify(table)},"row":${canonical}}\n`;
}

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  /** The last migration of the database the rows came from. */
  schemaVersion: string;
  exportedAt: string;
}

export function headerLine(schemaVersion: string, exportedAt: Date): string {
  const header: ExportHeader = { format: EXPORT_FORMAT, version: EXPORT_VERSION, schemaVersion, exportedAt: exportedAt.toISOString() };
  return `${JSON.stringify(header)}\n`;
}

/**
 * The header of a file to import into a store at `migrations` (in order; the
 * last is the latest). The rows must be of exactly that schema: a column a
 * migration added or changed would otherwise go missing or not fit.
 */
export function checkHeader(value: unknown, migrations: readonly string[]): ExportHeader {
  if (!isObject(value) || value.format !== EXPORT_FORMAT) {
    throw invalid(`not a Portcullis export: the first line must be its header {"format":"${EXPORT_FORMAT}",…}`);
  }
  if (value.version !== EXPORT_VERSION) {
    throw invalid(`export format version ${JSON.stringify(value.version)} is not one this Portcullis reads (version ${EXPORT_VERSION}): import with a Portcullis at least as new as the one that exported`);
  }
  const { schemaVersion, exportedAt } = value;
  if (typeof schemaVersion !== 'string' || typeof exportedAt !== 'string') throw invalid('the export header lacks its schemaVersion or exportedAt');
  const latest = migrations[migrations.length - 1];
  if (schemaVersion !== latest) {
    throw invalid(
      migrations.includes(schemaVersion)
        ? `the export is of database schema ${schemaVersion}, older than this Portcullis (${latest}): upgrade the source first (\`portcullis migrate\` there with this version) and export again`
        : `the export is of database schema ${schemaVersion}, which this Portcullis (at ${latest}) does not know: upgrade Portcullis to the version that exported it, \`portcullis migrate\` the target, and import again`,
    );
  }
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, schemaVersion, exportedAt };
}

export interface TableSummary {
  rows: number;
  sha256: string;
}

export type Trailer = Record<string, TableSummary>;

export function trailerLine(trailer: Trailer): string {
  return `${JSON.stringify({ trailer })}\n`;
}

/** A line after the header: a row (its table known and its row an object) or the trailer. */
export type BodyLine = { kind: 'row'; table: ExportTable & { index: number }; row: Record<string, unknown> } | { kind: 'trailer'; trailer: Trailer };

export function parseBodyLine(value: unknown): BodyLine {
  if (isObject(value) && 'trailer' in value) return { kind: 'trailer', trailer: checkTrailer(value.trailer) };
  if (!isObject(value) || typeof value.table !== 'string' || !isObject(value.row)) {
    throw invalid('expected {"table":…,"row":{…}} or the trailer');
  }
  const table = exportTable(value.table);
  if (!table) throw invalid(`unknown table ${JSON.stringify(value.table)}`);
  return { kind: 'row', table, row: value.row };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function checkTrailer(value: unknown): Trailer {
  if (!isObject(value)) throw invalid('the trailer must be an object of tables');
  const names = Object.keys(value);
  const missing = EXPORT_TABLES.filter((t) => !names.includes(t.name)).map((t) => t.name);
  if (missing.length > 0) throw invalid(`the trailer lacks table(s) ${missing.join(', ')}`);
  const trailer: Trailer = {};
  for (const name of names) {
    if (!exportTable(name)) throw invalid(`the trailer names unknown table ${JSON.stringify(name)}`);
    const s = value[name];
    if (!isObject(s) || !Number.isSafeInteger(s.rows) || (s.rows as number) < 0 || typeof s.sha256 !== 'string' || !SHA256_HEX.test(s.sha256)) {
      throw invalid(`the trailer's entry for ${name} must be {"rows":N,"sha256":"<64 hex digits>"}`);
    }
    trailer[name] = { rows: s.rows as number, sha256: s.sha256 };
  }
  return trailer;
}

/**
 * The row of an import line as the target takes it: exactly the target's
 * columns (`columns`: name → kind), each value fitting its column.
 */
export function importRow(table: string, row: Record<string, unknown>, columns: ReadonlyMap<string, ColumnKind>): ExportRow {
  const out: ExportRow = {};
  for (const [name, value] of Object.entries(row)) {
    const kind = columns.get(name);
    if (!kind) throw invalid(`table ${table} has no column ${JSON.stringify(name)}`);
    out[name] = importValue(kind, value, `${table}.${name}`);
  }
  const missing = [...columns.keys()].filter((c) => !(c in row));
  if (missing.length > 0) throw invalid(`the ${table} row lacks column(s) ${missing.join(', ')}`);
  return out;
}

/** Tables of a database that export neither moves nor knows to leave out: each would be silently lost. */
export function unknownTables(databaseTables: readonly string[]): string[] {
  return databaseTables.filter((t) => !exportTable(t) && !EXCLUDED_TABLES.includes(t)).sort(compareCodePoints);
}

/** Foreign keys that EXPORT_TABLES' order would break (a child before its parent): should be none. */
export function orderViolations(foreignKeys: readonly { table: string; references: string }[]): string[] {
  return foreignKeys
    .filter((fk) => fk.table !== fk.references)
    .filter((fk) => (exportTable(fk.table)?.index ?? -1) <= (exportTable(fk.references)?.index ?? Number.POSITIVE_INFINITY))
    .map((fk) => `${fk.table} -> ${fk.references}`);
}

/** Incremental SHA-256 (or any digest), given by the caller: the core does no crypto of its own. */
export interface Hasher {
  update(text: string): void;
  hexDigest(): string;
}

/**
 * Counts and sums one table's canonical rows as they stream by, and checks
 * that they come in strictly increasing key order: the checksum is defined
 * over that order, so a database that sorted otherwise must fail loudly
 * rather than yield a checksum nothing else reproduces.
 */
export class TableTally {
  private count = 0;
  private last: ExportValue[] | undefined;

  constructor(
    readonly table: ExportTable,
    private readonly hasher: Hasher,
  ) {}

  add(row: ExportRow): string {
    const key = this.table.key.map((k) => row[k] ?? null);
    if (this.last && compareKeys(this.last, key) >= 0) {
      throw new PortcullisError('conflict', `${this.table.name} rows did not come in code-point order of (${this.table.key.join(', ')}): the database's collation is not byte order`);
    }
    this.last = key;
    const canonical = canonicalRow(row);
    this.hasher.update(`${canonical}\n`);
    this.count++;
    return canonical;
  }

  summary(): TableSummary {
    return { rows: this.count, sha256: this.hasher.hexDigest() };
  }
}

export interface TableCheck {
  table: string;
  expected: TableSummary;
  actual: TableSummary;
  ok: boolean;
}

/** The target's tables against the export's trailer, in table order. */
export function compareTrailers(expected: Trailer, actual: Trailer): TableCheck[] {
  return EXPORT_TABLES.map(({ name }) => {
    const e = expected[name] ?? { rows: 0, sha256: '' };
    const a = actual[name] ?? { rows: 0, sha256: '' };
    return { table: name, expected: e, actual: a, ok: e.rows === a.rows && e.sha256 === a.sha256 };
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
