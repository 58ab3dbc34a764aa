import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { invalid } from '../core/errors.js';
import { configSchema, SECTIONS, TOP_LEVEL_KEYS, type Config } from './schema.js';

export interface ConfigSources {
  /** --config flag; falls back to PORTCULLIS_CONFIG, then ./portcullis.toml if it exists. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from CLI flags, highest precedence, e.g. { data_dir: '/x' }. */
  flags?: { data_dir?: string; server?: { host?: string; port?: number } };
  cwd?: string;
}

type Raw = Record<string, unknown>;

const ENV_PREFIX = 'PORTCULLIS_';
const ENV_NOT_SETTINGS = new Set(['PORTCULLIS_CONFIG']);

/**
 * Merges defaults < TOML file < PORTCULLIS_* environment < flags, validates the
 * result against the one schema and freezes it. Any problem throws an
 * invalid_input error whose message names the key and where it came from.
 */
export function loadConfig(sources: ConfigSources = {}): Readonly<Config> {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const origin = new Map<string, string>();
  const raw: Raw = {};

  const path = sources.configPath ?? env.PORTCULLIS_CONFIG ?? defaultConfigPath(cwd);
  if (path !== undefined) {
    const file = resolve(cwd, path);
    mergeInto(raw, readToml(file), origin, file);
  }
  mergeInto(raw, fromEnv(env), origin, 'env');
  if (sources.flags) mergeInto(raw, stripUndefined(sources.flags) as Raw, origin, 'flag');

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw invalid(describeIssue(parsed.error.issues[0]!, origin), 'config');
  const config = parsed.data;
  config.data_dir = resolve(cwd, config.data_dir);
  return deepFreeze(config);
}

function defaultConfigPath(cwd: string): string | undefined {
  const candidate = resolve(cwd, 'portcullis.toml');
  return existsSync(candidate) ? candidate : undefined;
}

function readToml(file: string): Raw {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`config file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'config');
  }
  try {
    return parseToml(text) as Raw;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    const first = String((err as Error).message).split('\n')[0];
    throw invalid(`config file ${file} is not valid TOML${where}: ${first}`, 'config');
  }
}

/** PORTCULLIS_SERVER_PORT=8080 → { server: { port: '8080' } }, typed later by the schema's shape. */
function fromEnv(env: NodeJS.ProcessEnv): Raw {
  const out: Raw = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || ENV_NOT_SETTINGS.has(name) || value === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length).toLowerCase();
    const topKey = TOP_LEVEL_KEYS.find((k) => k === rest);
    if (topKey) {
      out[topKey] = coerceEnv(name, value, configSchema.shape[topKey]);
      continue;
    }
    const section = SECTIONS.find((s) => rest.startsWith(`${s}_`));
    const key = section ? rest.slice(section.length + 1) : undefined;
    const sectionSchema = section ? unwrap(configSchema.shape[section]) : undefined;
    const keySchema = key && sectionSchema instanceof z.ZodObject ? (sectionSchema.shape as Record<string, z.ZodType>)[key] : undefined;
    if (!section || !key || !keySchema) {
      throw invalid(`unknown setting ${name}: no such key ${section ? `${section}.${key ?? ''}` : rest} (see docs/portcullis.reference.toml)`, name);
    }
    const target = (out[section] ??= {}) as Raw;
    target[key] = coerceEnv(name, value, keySchema);
  }
  return out;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s;
}

function coerceEnv(name: string, value: string, schema: z.ZodType): unknown {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodNumber) {
    const n = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(n)) throw invalid(`${name}: expected a number, got "${value}"`, name);
    return n;
  }
  if (inner instanceof z.ZodBoolean) {
    if (/^(true|1|yes|on)$/i.test(value)) return true;
    if (/^(false|0|no|off)$/i.test(value)) return false;
    throw invalid(`${name}: expected true or false, got "${value}"`, name);
  }
  if (inner instanceof z.ZodArray) {
    return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
  return value;
}

function mergeInto(target: Raw, source: Raw, origin: Map<string, string>, from: string, prefix = ''): void {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value)) {
      const existing = target[key];
      const child = (isPlainObject(existing) ? existing : (target[key] = {})) as Raw;
      if (!origin.has(path)) origin.set(path, from);
      mergeInto(child, value, origin, from, path);
    } else {
      target[key] = value;
      origin.set(path, from);
    }
  }
}

function describeIssue(issue: z.core.$ZodIssue, origin: Map<string, string>): string {
  const path = issue.path.map(String);
  const where = (p: string[]) => {
    const src = origin.get(p.join('.'));
    if (src === 'env') return ` (from PORTCULLIS_${p.join('_').toUpperCase()})`;
    if (src === 'flag') return ' (from a command-line flag)';
    return src ? ` (in ${src})` : '';
  };
  if (issue.code === 'unrecognized_keys') {
    const key = [...path, issue.keys[0]!].join('.');
    return `unknown config key "${key}"${where(path)}; see docs/portcullis.reference.toml`;
  }
  const key = path.join('.') || '(root)';
  return `bad config value for "${key}"${where(path)}: ${issue.message}`;
}

function isPlainObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function stripUndefined(v: unknown): unknown {
  if (!isPlainObject(v)) return v;
  const out: Raw = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = stripUndefined(x);
  return out;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** Where the instance says it lives; used for realms and links, never derived from request headers. */
export function publicUrl(config: Config): string {
  if (config.server.public_url) return config.server.public_url.replace(/\/+$/, '');
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  return `http://${host}:${config.server.port}`;
}
