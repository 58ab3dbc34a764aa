import { existsSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { PEPPER_FILE } from '../../auth/instance-secrets.js';
import type { Config } from '../../config/schema.js';
import { invalid, PortcullisError } from '../../core/errors.js';
import type { Trailer } from '../../core/store-export-format.js';
import { LATEST_MIGRATION, MIGRATION_NAMES, migrateToLatest, openMaintenanceDb, pendingMigrations, storeLocation, type MaintenanceDb, type StoreLocation } from '../../store/maintenance.js';
import { exportStore, importStore } from '../../store/transfer.js';
import { configFrom, print } from '../context.js';
import { json, table } from '../output.js';

/**
 * migrate, export and import work on the database alone: they read the
 * config for store.url and nothing else of the instance (no pepper, no
 * keys, no operator vendor), and never start one.
 */
export function registerStoreCommands(program: Command): void {
  program
    .command('migrate')
    .description('bring the database in store.url to this version\'s schema (serve does it on start too); needs no pepper or keys')
    .option('--dry-run', 'only list the migrations that would run')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      const config = configFrom(cmd);
      const location = storeLocation(config);
      const dryRun = opts.dryRun === true;
      let names: string[];
      let where: string;
      if (location.kind === 'sqlite' && !existsSync(location.file) && dryRun) {
        // Opening would create the file: a dry run leaves it absent.
        [names, where] = [[...MIGRATION_NAMES], location.file];
      } else {
        if (location.kind === 'sqlite') refuseSqliteWithoutPepper(config, location.file);
        const m = await openMaintenanceDb(location, { create: true });
        try {
          names = dryRun ? await pendingMigrations(m) : await migrateToLatest(m);
          where = m.where;
        } finally {
          await m.close();
        }
      }
      if (opts.json) return print(json({ database: where, dry_run: dryRun, [dryRun ? 'pending' : 'applied']: names, latest: LATEST_MIGRATION }));
      if (names.length === 0) return print(`${where} is up to date (${LATEST_MIGRATION})\n`);
      print(names.map((n) => `${dryRun ? 'would apply' : 'applied'} ${n}\n`).join('') + (dryRun ? '' : `${where} is at ${LATEST_MIGRATION}\n`));
    });

  program
    .command('export')
    .description("write every row of the store to a JSON Lines file for `portcullis import` (the data dir's pepper, keys and blobs are not in it)")
    .requiredOption('--out <file>', 'file to write (mode 0600, complete or not at all), or - for stdout')
    .option('--json', 'print the summary as JSON')
    .action(async (opts, cmd: Command) => {
      const config = configFrom(cmd);
      const out = String(opts.out);
      await withDb(storeLocation(config), 'nothing to export here (check --data-dir and store.url)', async (m) => {
        if (out === '-') {
          await exportStore(m, writeStdout, new Date());
          return;
        }
        const { trailer } = await exportToFile(m, out);
        if (opts.json) return print(json({ file: out, schema_version: LATEST_MIGRATION, tables: summaryJson(trailer) }));
        print(summaryTable(trailer) + `wrote ${totalRows(trailer)} rows of ${m.where} to ${out} (schema ${LATEST_MIGRATION})\n`);
      });
    });

  program
    .command('import')
    .description('load a `portcullis export` file into the store in store.url, which must be migrated and empty; all or nothing')
    .requiredOption('--in <file>', 'export file to read, or - for stdin')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      const config = configFrom(cmd);
      const input = String(opts.in);
      const file = input === '-' ? undefined : await openInput(input);
      const lines = lazyLines(file);
      try {
        await withDb(storeLocation(config), 'run `portcullis migrate` first to create and migrate it', async (m) => {
          const result = await importStore(m, lines);
          if (opts.json) return print(json({ database: m.where, rows: result.rows, tables: result.tables.map((t) => ({ table: t.table, rows: t.actual.rows, sha256: t.actual.sha256 })) }));
          print(
            // importStore has failed on any mismatch: every table here checked out.
            table(['table', 'rows', 'sha256', 'check'], result.tables.map((t) => [t.table, t.actual.rows, t.actual.sha256, 'ok'])) +
              `imported ${result.rows} rows into ${m.where} in one transaction; every count and checksum matches the export\n` +
              "The instance on this store needs the old one's pepper and signing keys: copy data_dir/pepper and data_dir/keys (or set [secrets]); registry blobs stay in data_dir/registry.\n",
          );
        });
      } finally {
        await lines.close();
      }
    });
}

async function withDb<T>(location: StoreLocation, missingHint: string, fn: (m: MaintenanceDb) => Promise<T>): Promise<T> {
  const m = await openMaintenanceDb(location, { create: false, missingHint });
  try {
    return await fn(m);
  } finally {
    await m.close();
  }
}

/**
 * A new SQLite database beside no pepper would be taken, at the next start,
 * for an instance whose pepper was lost. Creating one is for an import
 * target, which gets the old instance's pepper first.
 */
function refuseSqliteWithoutPepper(config: Readonly<Config>, file: string): void {
  if (existsSync(file) || config.secrets.pepper !== undefined || existsSync(join(config.data_dir, PEPPER_FILE))) return;
  throw new PortcullisError(
    'conflict',
    `no database at ${file} and no pepper in ${config.data_dir}: \`portcullis serve\` or \`portcullis init\` starts a new instance (and migrates it); for an import target, copy the old instance's pepper and keys into the data dir first`,
  );
}

/** Written under a temporary name and renamed when complete: a failed export leaves no partial file behind. */
async function exportToFile(m: MaintenanceDb, out: string): Promise<{ trailer: Trailer }> {
  const tmp = `${out}.${process.pid}.tmp`;
  let fh: FileHandle;
  try {
    // Token and session hashes, e-mail addresses: owner-only, like the database.
    fh = await open(tmp, 'wx', 0o600);
  } catch (err) {
    throw invalid(`cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'out');
  }
  try {
    const result = await exportStore(m, async (chunk) => void (await fh.write(chunk)), new Date());
    await fh.sync();
    await fh.close();
    await rename(tmp, out);
    return result;
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** Waits until each chunk is handed to stdout, so a slow reader holds the export back instead of memory filling. */
function writeStdout(chunk: string): Promise<void> {
  return new Promise((res, rej) => process.stdout.write(chunk, (err) => (err ? rej(err) : res())));
}

async function openInput(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (err) {
    throw invalid(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'in');
  }
}

/**
 * The input's lines, read from the first iteration on: readline reads as soon
 * as it exists, and lines it reads before anyone iterates are lost.
 */
function lazyLines(file: FileHandle | undefined): AsyncIterable<string> & { close(): Promise<void> } {
  let reader: Interface | undefined;
  let stream: Readable | undefined;
  return {
    [Symbol.asyncIterator]() {
      stream = file ? file.createReadStream({ encoding: 'utf8' }) : process.stdin.setEncoding('utf8');
      reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      return reader[Symbol.asyncIterator]();
    },
    // A refused import stops reading early: let go of the input so the process can end.
    async close() {
      reader?.close();
      // The stream owns the file once made (and closes it as it ends); before that, the file is ours to close.
      if (stream) stream.destroy();
      else await file?.close();
    },
  };
}

function summaryTable(trailer: Trailer): string {
  return table(['table', 'rows', 'sha256'], Object.entries(trailer).map(([name, s]) => [name, s.rows, s.sha256]));
}

function summaryJson(trailer: Trailer) {
  return Object.entries(trailer).map(([name, s]) => ({ table: name, rows: s.rows, sha256: s.sha256 }));
}

function totalRows(trailer: Trailer): number {
  return Object.values(trailer).reduce((n, s) => n + s.rows, 0);
}
