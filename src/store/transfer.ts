import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { invalid, PortcullisError } from '../core/errors.js';
import {
  checkHeader,
  compareTrailers,
  EXPORT_TABLES,
  exportValue,
  headerLine,
  importRow,
  orderViolations,
  parseBodyLine,
  rowLine,
  TableTally,
  trailerLine,
  unknownTables,
  type ColumnKind,
  type ExportRow,
  type ExportTable,
  type Hasher,
  type TableCheck,
  type TableSummary,
  type Trailer,
} from '../core/store-export-format.js';
import { WRITE_LOCK_CALL } from './migrations/dialect.js';
import { appliedMigrations, columnKinds, foreignKeys, LATEST_MIGRATION, listTables, MIGRATION_NAMES, requireLatestSchema, type MaintenanceDb } from './maintenance.js';

/**
 * Moving every row of one store to another (`portcullis export` / `import`),
 * in the format of src/core/store-export-format.ts. Export reads one
 * snapshot, import writes one transaction; both page through tables by
 * primary key, so neither holds more than a page of rows.
 */

/** Rows per SELECT while reading. */
const PAGE_ROWS = 5000;
/** Rows per INSERT statement; fewer for wide tables. */
const INSERT_ROWS = 500;
/** Bound parameters per statement: under SQLite's 32766 and PostgreSQL's 65535. */
const MAX_PARAMETERS = 30_000;

type Kind = MaintenanceDb['kind'];

function sha256(): Hasher {
  const hash = createHash('sha256');
  return { update: (text) => void hash.update(text, 'utf8'), hexDigest: () => hash.digest('hex') };
}

/**
 * Reads a table in key order, page by page, in its export form; hands each
 * page's canonical rows to `onPage` and returns the count and checksum.
 */
async function readTable(conn: Kysely<unknown>, kind: Kind, table: ExportTable, onPage?: (canonical: string[]) => Promise<void>): Promise<TableSummary> {
  const kinds = await columnKinds(conn, kind, table.name);
  const tally = new TableTally(table, sha256());
  const keys = sql.join(table.key.map((k) => sql.id(k)));
  let after: unknown[] | undefined;
  for (;;) {
    const where = after ? sql`where (${keys}) > (${sql.join(after.map((v) => sql.val(v)))})` : sql``;
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table.name)} ${where} order by ${keys} limit ${sql.lit(PAGE_ROWS)}`.execute(conn);
    const page = rows.map((raw) => tally.add(exportRow(table.name, raw, kinds)));
    if (onPage && page.length > 0) await onPage(page);
    if (rows.length < PAGE_ROWS) return tally.summary();
    const last = rows[rows.length - 1]!;
    after = table.key.map((k) => last[k]);
  }
}

function exportRow(table: string, raw: Record<string, unknown>, kinds: ReadonlyMap<string, ColumnKind>): ExportRow {
  const row: ExportRow = {};
  for (const [column, kind] of kinds) row[column] = exportValue(kind, raw[column], `${table}.${column}`);
  return row;
}

/** Counts and checksums of every exported table, as the trailer of an export of this database would hold them. */
async function summarizeTables(conn: Kysely<unknown>, kind: Kind): Promise<Trailer> {
  const trailer: Trailer = {};
  for (const table of EXPORT_TABLES) trailer[table.name] = await readTable(conn, kind, table);
  return trailer;
}

/**
 * The database is one this Portcullis can move whole: at its latest
 * migration, with no table the format neither moves nor leaves out, and
 * with no foreign key the table order would break.
 */
async function checkShape(conn: Kysely<unknown>, m: MaintenanceDb): Promise<void> {
  requireLatestSchema(await appliedMigrations(conn, m.kind), `the database (${m.where})`);
  const unknown = unknownTables(await listTables(conn, m.kind));
  if (unknown.length > 0) {
    throw new PortcullisError('conflict', `the database has table(s) ${unknown.join(', ')} that this Portcullis does not know how to move; nothing was done`);
  }
  const broken = orderViolations(await foreignKeys(conn, m.kind));
  if (broken.length > 0) throw new PortcullisError('conflict', `the export's table order breaks foreign key(s) ${broken.join(', ')}`);
}

/** Runs fn on one connection in a transaction of the given kind; a read transaction is always rolled back. */
async function inTransaction<T>(m: MaintenanceDb, mode: 'read' | 'write', fn: (conn: Kysely<unknown>) => Promise<T>): Promise<T> {
  return m.db.connection().execute(async (conn) => {
    if (mode === 'read') {
      // One snapshot for every table: PostgreSQL's repeatable read; SQLite's read transaction (WAL) from its first read.
      await sql.raw(m.kind === 'postgres' ? 'start transaction isolation level repeatable read, read only' : 'begin').execute(conn);
    } else {
      // Writers wait for each other as the store's do (src/store/sqlite/open.ts, src/store/postgres/open.ts).
      await sql.raw(m.kind === 'postgres' ? 'begin' : 'begin immediate').execute(conn);
      if (m.kind === 'postgres') await sql.raw(`select ${WRITE_LOCK_CALL}`).execute(conn);
    }
    let result: T;
    try {
      result = await fn(conn);
    } catch (err) {
      await sql.raw('rollback').execute(conn).catch(() => {});
      throw err;
    }
    await sql.raw(mode === 'read' ? 'rollback' : 'commit').execute(conn);
    return result;
  });
}

/** Summaries of the database's tables, read in one snapshot. */
export async function tableSummaries(m: MaintenanceDb): Promise<Trailer> {
  return inTransaction(m, 'read', (conn) => summarizeTables(conn, m.kind));
}

export interface ExportResult {
  schemaVersion: string;
  trailer: Trailer;
}

/** Writes the whole export through `write`, which should wait while its destination is full. */
export async function exportStore(m: MaintenanceDb, write: (chunk: string) => Promise<void>, now: Date): Promise<ExportResult> {
  return inTransaction(m, 'read', async (conn) => {
    await checkShape(conn, m);
    await write(headerLine(LATEST_MIGRATION, now));
    const trailer: Trailer = {};
    for (const table of EXPORT_TABLES) {
      trailer[table.name] = await readTable(conn, m.kind, table, (page) => write(page.map((c) => rowLine(table.name, c)).join('')));
    }
    await write(trailerLine(trailer));
    return { schemaVersion: LATEST_MIGRATION, trailer };
  });
}

export interface ImportResult {
  tables: TableCheck[];
  rows: number;
}

/**
 * Imports an export's lines into an empty store in one transaction, then
 * checks the target's own counts and checksums against the trailer before it
 * commits. Any error leaves the target as it was.
 */
export async function importStore(m: MaintenanceDb, lines: AsyncIterable<string>): Promise<ImportResult> {
  return inTransaction(m, 'write', async (conn) => {
    await checkShape(conn, m);
    await refuseData(conn);
    const trailer = await insertLines(conn, m.kind, lines);
    const tables = compareTrailers(trailer, await summarizeTables(conn, m.kind));
    const bad = tables.filter((t) => !t.ok);
    if (bad.length > 0) {
      const what = bad.map((t) => (t.expected.rows !== t.actual.rows ? `${t.table} has ${t.actual.rows} rows, the export ${t.expected.rows}` : `${t.table}'s checksum differs`));
      throw new PortcullisError('conflict', `the imported data does not match the export's trailer (${what.join('; ')}); nothing was imported`);
    }
    return { tables, rows: tables.reduce((n, t) => n + t.actual.rows, 0) };
  });
}

async function refuseData(conn: Kysely<unknown>): Promise<void> {
  const full: string[] = [];
  for (const { name } of EXPORT_TABLES) {
    const { rows } = await sql`select 1 as x from ${sql.table(name)} limit 1`.execute(conn);
    if (rows.length > 0) full.push(name);
  }
  if (full.length > 0) {
    throw new PortcullisError(
      'conflict',
      `the target store is not empty (rows in ${full.join(', ')}): import only into a new database or schema that \`portcullis migrate\` prepared, before any \`serve\` or \`init\``,
    );
  }
}

function atLine<T>(line: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PortcullisError) throw new PortcullisError(err.code, `line ${line}: ${err.message}`, err.field);
    throw err;
  }
}

interface Pending {
  table: string;
  columns: Map<string, ColumnKind>;
  limit: number;
  rows: { line: number; row: ExportRow }[];
}

/** Reads the header, inserts the rows in batches, and returns the trailer. */
async function insertLines(conn: Kysely<unknown>, kind: Kind, lines: AsyncIterable<string>): Promise<Trailer> {
  let n = 0;
  let headerSeen = false;
  let trailer: Trailer | undefined;
  let tableIndex = -1;
  let pending: Pending | undefined;
  for await (const text of lines) {
    n++;
    if (trailer) throw invalid(`line ${n}: more data after the trailer line`);
    if (text.trim() === '') throw invalid(`line ${n} is empty: an export has one JSON value on every line`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw invalid(`line ${n} is not JSON${n === 1 ? ': not a Portcullis export' : ''}`);
    }
    if (!headerSeen) {
      atLine(n, () => checkHeader(value, MIGRATION_NAMES));
      headerSeen = true;
      continue;
    }
    const body = atLine(n, () => parseBodyLine(value));
    if (body.kind === 'trailer') {
      if (pending) await insertBatch(conn, pending);
      trailer = body.trailer;
      continue;
    }
    const { table, row } = body;
    if (table.index < tableIndex) {
      throw invalid(`line ${n}: table ${table.name} comes after ${EXPORT_TABLES[tableIndex]!.name}: an export lists its tables in the order ${EXPORT_TABLES.map((t) => t.name).join(', ')}`);
    }
    if (table.index !== tableIndex || !pending) {
      if (pending) await insertBatch(conn, pending);
      tableIndex = table.index;
      const columns = await columnKinds(conn, kind, table.name);
      pending = { table: table.name, columns, limit: Math.max(1, Math.min(INSERT_ROWS, Math.floor(MAX_PARAMETERS / columns.size))), rows: [] };
    }
    pending.rows.push({ line: n, row: atLine(n, () => importRow(table.name, row, pending!.columns)) });
    if (pending.rows.length >= pending.limit) await insertBatch(conn, pending);
  }
  if (!headerSeen) throw invalid('the input is empty: not a Portcullis export');
  if (!trailer) throw invalid(`the export ends at line ${n} without its trailer line: the file is truncated`);
  return trailer;
}

/** One multi-row INSERT of the pending rows, which it empties. */
async function insertBatch(conn: Kysely<unknown>, pending: Pending): Promise<void> {
  const { rows, columns, table } = pending;
  if (rows.length === 0) return;
  pending.rows = [];
  const names = [...columns.keys()];
  const values = rows.map(({ row }) => sql`(${sql.join(names.map((c) => sql.val(dbValue(columns.get(c)!, row[c] ?? null))))})`);
  try {
    await sql`insert into ${sql.table(table)} (${sql.join(names.map((c) => sql.id(c)))}) values ${sql.join(values)}`.execute(conn);
  } catch (err) {
    const first = rows[0]!.line;
    const last = rows[rows.length - 1]!.line;
    const where = first === last ? `line ${first}` : `lines ${first}-${last}`;
    throw invalid(`${where}: the target refused the ${table} row(s): ${(err as Error).message}`);
  }
}

function dbValue(kind: ColumnKind, value: string | number | null): unknown {
  return kind === 'blob' && typeof value === 'string' ? Buffer.from(value, 'base64') : value;
}
