/**
 * `portcullis migrate`, the real CLI: it migrates the configured database and
 * nothing else (no pepper, no keys, no operator vendor), reports what it
 * applied, and several started at once on one fresh PostgreSQL schema apply
 * each migration exactly once.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATION_NAMES } from '../../src/store/maintenance.js';
import { expectCliError, makeDataDir, removeDataDir, runCliWith, runCliWithAsync, runOkAsync, type CliResult } from '../helpers/cli.js';
import { admin, describePostgres, freshSchema } from '../helpers/postgres.js';

const dirs: string[] = [];
const schemas: Array<{ drop(): Promise<void> }> = [];
afterAll(async () => {
  for (const d of dirs.splice(0)) removeDataDir(d);
  for (const s of schemas.splice(0)) await s.drop();
});

function dataDir(): string {
  const d = makeDataDir();
  dirs.push(d);
  return d;
}

interface MigrateJson {
  database: string;
  dry_run: boolean;
  applied?: string[];
  pending?: string[];
  latest: string;
}

function parsed(r: CliResult): MigrateJson {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as MigrateJson;
}

const LATEST = MIGRATION_NAMES[MIGRATION_NAMES.length - 1]!;

describePostgres('portcullis migrate on PostgreSQL', () => {
  it('applies each migration exactly once when several run at the same time on a fresh schema', async () => {
    const s = await freshSchema();
    schemas.push(s);
    const dir = dataDir();
    const env = { PORTCULLIS_STORE_URL: s.url };
    const runs = await Promise.all([1, 2, 3, 4].map(() => runCliWithAsync(dir, { env, timeoutMs: 60_000 }, 'migrate', '--json')));
    const results = runs.map(parsed);
    // Each run reports what it applied itself: together, every migration once, none twice.
    const applied = results.flatMap((r) => r.applied!);
    expect(applied.slice().sort()).toEqual([...MIGRATION_NAMES]);
    expect(results.every((r) => r.latest === LATEST && r.database === `PostgreSQL schema ${s.schema}`)).toBe(true);
    const versions = await admin(`select name from ${s.schema}.schema_migrations order by name`);
    expect(versions.rows.map((r: { name: string }) => r.name)).toEqual([...MIGRATION_NAMES]);
    // 0005's one-row counter: a migration run twice would have failed on its primary key, or added nothing visible; it is there once.
    expect((await admin(`select count(*)::int as n from ${s.schema}.store_changes`)).rows[0].n).toBe(1);
    // Only the database: no instance was created, in the database or the data dir.
    expect((await admin(`select count(*)::int as n from ${s.schema}.vendors`)).rows[0].n).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('says it is up to date the second time, and lists what is pending with --dry-run without applying it', async () => {
    const s = await freshSchema();
    schemas.push(s);
    const dir = dataDir();
    const env = { PORTCULLIS_STORE_URL: s.url };
    const dry = parsed(await runCliWithAsync(dir, { env }, 'migrate', '--dry-run', '--json'));
    expect(dry).toMatchObject({ dry_run: true, pending: [...MIGRATION_NAMES] });
    expect((await admin(`select count(*)::int as n from information_schema.tables where table_schema = $1`, [s.schema])).rows[0].n).toBe(0);

    const first = await runCliWithAsync(dir, { env }, 'migrate');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe(`${MIGRATION_NAMES.map((n) => `applied ${n}\n`).join('')}PostgreSQL schema ${s.schema} is at ${LATEST}\n`);
    const again = await runCliWithAsync(dir, { env }, 'migrate');
    expect(again.stdout).toBe(`PostgreSQL schema ${s.schema} is up to date (${LATEST})\n`);
    expect(parsed(await runCliWithAsync(dir, { env }, 'migrate', '--dry-run', '--json')).pending).toEqual([]);
  });

  it('reports an unreachable database in one line, without the password of store.url', async () => {
    const r = runCliWith(dataDir(), { env: { PORTCULLIS_STORE_URL: 'postgres://portcullis:hunter2secret@127.0.0.1:1/nothing' } }, 'migrate');
    expectCliError(r, 1, /^portcullis: cannot reach the PostgreSQL database in store\.url: .*ECONNREFUSED/);
    expect(r.stderr).not.toContain('hunter2secret');
  });
});

describe('portcullis migrate on SQLite', () => {
  it('upgrades an existing instance and is then up to date', async () => {
    const dir = dataDir();
    await runOkAsync(dir, 'init');
    const r = await runCliWithAsync(dir, {}, 'migrate');
    expect(r.stdout).toBe(`${join(dir, 'portcullis.db')} is up to date (${LATEST})\n`);
  });

  it('refuses to create a database beside no pepper, which the next start would take for a lost pepper', () => {
    const dir = dataDir();
    expectCliError(runCliWith(dir, {}, 'migrate'), 1, /no database at .*portcullis\.db and no pepper in .*: `portcullis serve` or `portcullis init` starts a new instance/);
    expect(existsSync(join(dir, 'portcullis.db'))).toBe(false);
    // A dry run only says what a migration would do.
    const dry = runCliWith(dir, {}, 'migrate', '--dry-run');
    expect(dry.stdout).toBe(MIGRATION_NAMES.map((n) => `would apply ${n}\n`).join(''));
    expect(existsSync(join(dir, 'portcullis.db'))).toBe(false);
  });

  it('creates and migrates an import target once the pepper is in place, and creates no instance', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'pepper'), `${Buffer.alloc(32, 7).toString('base64url')}\n`, { mode: 0o600 });
    const r = runCliWith(dir, {}, 'migrate', '--json');
    expect(parsed(r).applied).toEqual([...MIGRATION_NAMES]);
    expect(readdirSync(dir).filter((f) => !f.startsWith('portcullis.db')).sort()).toEqual(['pepper']);
  });
});
