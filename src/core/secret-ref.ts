import { invalid } from './errors.js';

/**
 * Where an instance secret (pepper, signing key, SMTP password) is read from,
 * as written in `[secrets]`: `env:NAME`, `file:PATH`, `pass:PATH` or
 * `sops:FILE` (`sops:FILE#KEY` for one top-level key of a structured file).
 * A reference names a place, never holds the secret, so it may be shown in
 * messages.
 */
export type SecretRef =
  | { backend: 'env'; name: string }
  | { backend: 'file'; path: string }
  | { backend: 'pass'; entry: string }
  | { backend: 'sops'; file: string; key?: string };

const SYNTAX = 'expected env:NAME, file:PATH, pass:PATH or sops:FILE[#KEY]';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SOPS_KEY = /^[A-Za-z0-9_.-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Throws an invalid_input error whose message says what is wrong with `value`; the caller adds which key. */
export function parseSecretRef(value: string): SecretRef {
  const colon = value.indexOf(':');
  if (value.trim() === '') throw invalid(`empty reference: ${SYNTAX}; leave the key out to keep the secret in the data dir`);
  if (colon < 0) throw invalid(`"${value}" names no backend: ${SYNTAX}`);
  const backend = value.slice(0, colon);
  const arg = value.slice(colon + 1);
  if (CONTROL.test(arg)) throw invalid(`"${backend}:…" contains a control character`);
  switch (backend) {
    case 'env':
      if (!ENV_NAME.test(arg)) throw invalid(`"${value}": env:NAME needs a variable name of letters, digits and _`);
      // loadConfig takes every PORTCULLIS_* variable for a setting and refuses the unknown ones.
      if (arg.toUpperCase().startsWith('PORTCULLIS_')) throw invalid(`"${value}": PORTCULLIS_* variables are settings; keep the secret in another variable`);
      return { backend, name: arg };
    case 'file':
      if (arg === '') throw invalid(`"${value}": file:PATH needs a path`);
      return { backend, path: arg };
    case 'pass':
      return { backend, entry: passEntry(value, arg) };
    case 'sops':
      return sopsRef(value, arg);
    default:
      throw invalid(`unknown secrets backend "${backend}" in "${value}": ${SYNTAX}`);
  }
}

function passEntry(value: string, entry: string): string {
  if (entry === '') throw invalid(`"${value}": pass:PATH needs the entry's name, like pass:portcullis/pepper`);
  // pass would read a leading "-" as an option, and refuses to leave its store itself; say so before it runs.
  if (entry.startsWith('-') || entry.startsWith('/')) throw invalid(`"${value}": a pass entry is a path inside the store, not starting with "-" or "/"`);
  if (entry.split('/').some((s) => s === '..' || s === '.' || s === '')) throw invalid(`"${value}": a pass entry has no empty, "." or ".." segments`);
  return entry;
}

function sopsRef(value: string, arg: string): SecretRef {
  const hash = arg.lastIndexOf('#');
  const file = hash < 0 ? arg : arg.slice(0, hash);
  const key = hash < 0 ? undefined : arg.slice(hash + 1);
  if (file === '') throw invalid(`"${value}": sops:FILE needs the encrypted file's path`);
  if (file.startsWith('-')) throw invalid(`"${value}": a file name starting with "-" would be read as an option; write ./${file}`);
  if (key === undefined) return { backend: 'sops', file };
  if (!SOPS_KEY.test(key)) throw invalid(`"${value}": the key after "#" is one top-level key of letters, digits and _ . -`);
  return { backend: 'sops', file, key };
}

/** The reference as written, for messages. */
export function formatSecretRef(ref: SecretRef): string {
  switch (ref.backend) {
    case 'env':
      return `env:${ref.name}`;
    case 'file':
      return `file:${ref.path}`;
    case 'pass':
      return `pass:${ref.entry}`;
    case 'sops':
      return ref.key === undefined ? `sops:${ref.file}` : `sops:${ref.file}#${ref.key}`;
  }
}
