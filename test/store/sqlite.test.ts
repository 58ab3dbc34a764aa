import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations/index.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { storeContract } from './store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite', async () => {
  const store = openSqliteStore(join(dir, `db-${n++}.sqlite`));
  await store.migrate();
  return store;
});

describe('sqlite store', () => {
  it('uses WAL, creates the file 0600 and migrates idempotently', async () => {
    const file = join(dir, 'wal.sqlite');
    const store = openSqliteStore(file);
    await store.migrate();
    await store.migrate();
    await store.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    const versions = raw.prepare('select name from schema_migrations order by name').all() as { name: string }[];
    expect(versions.map((v) => v.name)).toEqual(Object.keys(migrations));
    raw.close();
  });

  it("changes its change marker when another connection commits, as the CLI does beside a server", async () => {
    const file = join(dir, 'marker.sqlite');
    const store = openSqliteStore(file);
    await store.migrate();
    const before = await store.changeMarker();
    expect(await store.changeMarker()).toBe(before);
    const other = new Database(file);
    other.prepare("insert into vendors (id, name, namespaces, is_operator, created_at) values ('ven_cli', 'cli', '[]', 0, '2026-01-01T00:00:00.000Z')").run();
    other.close();
    expect(await store.changeMarker()).not.toBe(before);
    await store.close();
  });

  it('waits for another process holding the write lock instead of failing (CLI beside a server)', async () => {
    const file = join(dir, 'two.sqlite');
    const store = openSqliteStore(file);
    await store.migrate();
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const d = new D(${JSON.stringify(file)});
         d.exec('begin immediate');
         d.prepare("insert into vendors (id, name, namespaces, is_operator, created_at) values ('ven_child', 'child', '[]', 0, '2026-01-01T00:00:00.000Z')").run();
         process.stdout.write('locked\\n');
         setTimeout(() => { d.exec('commit'); d.close(); }, 400);`,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const started = Date.now();
    await store.transaction(async (tx) => {
      await tx.insertVendor({ id: 'ven_parent', name: 'parent', namespaces: ['**'], isOperator: false, createdAt: new Date() });
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect((await store.listVendors()).map((v) => v.id).sort()).toEqual(['ven_child', 'ven_parent']);
    await new Promise((resolve) => holder.on('exit', resolve));
    await store.close();
  });
});
