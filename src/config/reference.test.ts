import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from './load.js';
import { configSchema, SECTIONS } from './schema.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-reference-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const reference = readFileSync(new URL('../../docs/portcullis.reference.toml', import.meta.url), 'utf8');
const SETTING = /^# ([a-z_]+) = .*$/;

function sectionKeys(section: (typeof SECTIONS)[number]): string[] {
  let s: z.ZodType = configSchema.shape[section];
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return Object.keys((s as z.ZodObject).shape);
}

const allKeys = ['data_dir', ...SECTIONS.flatMap((section) => sectionKeys(section).map((k) => `${section}.${k}`))];

describe('docs/portcullis.reference.toml', () => {
  it('documents every key of the schema, as a commented-out setting', () => {
    let section = '';
    const documented = new Set<string>();
    for (const line of reference.split('\n')) {
      const header = /^\[([a-z_]+)\]$/.exec(line);
      if (header) section = header[1]!;
      const m = SETTING.exec(line);
      if (m) documented.add(section ? `${section}.${m[1]}` : m[1]!);
    }
    expect([...documented].sort()).toEqual([...allKeys].sort());
  });

  it('loads when every setting is uncommented', () => {
    const path = join(dir, 'all.toml');
    writeFileSync(path, reference.split('\n').map((l) => (SETTING.test(l) ? l.slice(2) : l)).join('\n'));
    const config = loadConfig({ configPath: path, cwd: dir, env: {} });
    expect(config.server.port).toBeGreaterThan(0);
  });
});

describe('every config key', () => {
  // A table is the wrong type for every scalar and list key, so each must stop start-up naming itself.
  it.each(allKeys)('%s refuses a wrong value and names the key', (key) => {
    const [section, name] = key.includes('.') ? key.split('.') : ['', key];
    const path = join(dir, `bad-${key}.toml`);
    writeFileSync(path, section ? `[${section}.${name}]\nx = 1\n` : `[${name}]\nx = 1\n`);
    expect(() => loadConfig({ configPath: path, cwd: dir, env: {} })).toThrow(new RegExp(`"${key.replace('.', '\\.')}`));
  });
});
