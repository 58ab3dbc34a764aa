import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { invalid } from '../core/errors.js';
import { parseWholeNumber } from '../core/text.js';
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
/** Words that reach JavaScript's prototype machinery: as keys they could only be an attack on the merge below, never a setting. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Merges defaults < TOML file < PORTCULLIS_* environment < flags, validates the
 * result against the one schema and freezes it. Any problem throws an
 * invalid_input error whose message names the key and where it came from.
 */
export function loadConfig(sources: ConfigSources = {}): Readonly<Config> {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const origin = new Map<string, string>();
  // Null prototypes all the way down: no key can reach Object.prototype while sources are merged.
  const raw: Raw = Object.create(null) as Raw;

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
  // Like data_dir: serve re-reads these on every TLS reload, so they must not depend on where that happens.
  if (config.server.tls_cert !== undefined) config.server.tls_cert = resolve(cwd, config.server.tls_cert);
  if (config.server.tls_key !== undefined) config.server.tls_key = resolve(cwd, config.server.tls_key);
  if (config.auth.ca_dir !== undefined) config.auth.ca_dir = resolve(cwd, config.auth.ca_dir);
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
  let parsed: Raw;
  try {
    // Integers as BigInt, so a TOML float (1e3, 5000.0) stays told apart from a whole number.
    parsed = parseToml(text, { integersAsBigInt: true }) as Raw;
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    const first = String((err as Error).message).split('\n')[0];
    throw invalid(`config file ${file} is not valid TOML${where}: ${first}`, 'config');
  }
  return checkTomlValue(parsed, file, []) as Raw;
}

/**
 * Walks the parsed file before anything is merged: reserved keys are refused
 * with their whole path (`server.__proto__.polluted`), integers become
 * numbers, and a float is refused, as every numeric setting is a whole number.
 */
function checkTomlValue(value: unknown, file: string, path: string[]): unknown {
  const where = () => `config file ${file}: key "${path.join('.')}"`;
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw invalid(`${where()} is ${value}, too large a number`, 'config');
    return Number(value);
  }
  if (typeof value === 'number') throw invalid(`${where()} is ${value}, a decimal number: numeric settings are whole numbers, like 5000`, 'config');
  if (Array.isArray(value)) return value.map((item, i) => checkTomlValue(item, file, [...path, String(i)]));
  if (!isPlainObject(value)) return value;
  for (const key of Object.keys(value)) {
    if (RESERVED_KEYS.has(key)) throw invalid(`config file ${file}: key "${[...path, key].join('.')}" is not allowed: ${key} is a reserved word, never a setting`, 'config');
    value[key] = checkTomlValue(value[key], file, [...path, key]);
  }
  return value;
}

/** PORTCULLIS_SERVER_PORT=8080 → { server: { port: '8080' } }, typed later by the schema's shape. */
function fromEnv(env: NodeJS.ProcessEnv): Raw {
  const out: Raw = Object.create(null) as Raw;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || ENV_NOT_SETTINGS.has(name) || value === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length).toLowerCase();
    const reserved = [...RESERVED_KEYS].find((word) => rest === word || rest.endsWith(`_${word}`));
    if (reserved !== undefined) throw invalid(`unknown setting ${name}: ${reserved} is a reserved word, never a setting (see docs/portcullis.reference.toml)`, name);
    const topKey = TOP_LEVEL_KEYS.find((k) => k === rest);
    if (topKey) {
      out[topKey] = coerceEnv(name, value, configSchema.shape[topKey]);
      continue;
    }
    const section = SECTIONS.find((s) => rest.startsWith(`${s}_`));
    const key = section ? rest.slice(section.length + 1) : undefined;
    const sectionSchema = section ? unwrap(configSchema.shape[section]) : undefined;
    // Own keys only: `toString` or `hasOwnProperty` are no settings either.
    const shape = sectionSchema instanceof z.ZodObject ? (sectionSchema.shape as Record<string, z.ZodType>) : undefined;
    const keySchema = key && shape && Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!section || !key || !keySchema) {
      throw invalid(`unknown setting ${name}: no such key ${section ? `${section}.${key ?? ''}` : rest} (see docs/portcullis.reference.toml)`, name);
    }
    const target = (out[section] ??= Object.create(null)) as Raw;
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
  // Every numeric setting is a whole number; its range is the schema's to check, naming the key.
  if (inner instanceof z.ZodNumber) return parseWholeNumber(value, name);
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
    // Each source refused these already; this keeps the merge itself safe whatever it is given.
    if (RESERVED_KEYS.has(key)) throw invalid(`config key "${path}" (${from}) is not allowed: ${key} is a reserved word, never a setting`, 'config');
    if (isPlainObject(value)) {
      const existing = target[key];
      const child = (isPlainObject(existing) ? existing : (target[key] = Object.create(null))) as Raw;
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
  const out: Raw = Object.create(null) as Raw;
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
  return `${config.server.tls_cert === undefined ? 'http' : 'https'}://${host}:${config.server.port}`;
}
