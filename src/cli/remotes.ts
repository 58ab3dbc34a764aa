import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { invalid, notFound } from '../core/errors.js';

export interface Remote {
  url: string;
  /** The full vendor token (<username>.<secret>); never printed. */
  token?: string;
}

/** Where remotes and their tokens live: $PORTCULLIS_REMOTES, else the XDG config dir. */
export function remotesFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORTCULLIS_REMOTES) return env.PORTCULLIS_REMOTES;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'portcullis', 'remotes.json');
}

const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkRemoteName(name: string): string {
  if (!REMOTE_NAME.test(name)) throw invalid(`remote name "${name}" must be 1-64 letters, digits and . _ - (starting with a letter or digit)`, 'name');
  return name;
}

export function checkRemoteUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`"${value}" is not a URL: give the instance's base URL, e.g. https://portcullis.example.com`, 'url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`remote URL must be http or https, got ${url.protocol}`, 'url');
  if (url.username || url.password || url.search || url.hash) throw invalid('remote URL must not carry credentials, a query or a fragment: set the token with remotes set-token', 'url');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export function readRemotes(file = remotesFile()): Record<string, Remote> {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalid(`${file} is not valid JSON (${(err as Error).message}); fix or remove it`, 'remotes');
  }
  const remotes = (parsed as { remotes?: unknown }).remotes;
  if (typeof remotes !== 'object' || remotes === null) throw invalid(`${file} has no "remotes" object; fix or remove it`, 'remotes');
  return remotes as Record<string, Remote>;
}

/** Written whole to a 0600 temp file in a 0700 directory, then renamed: never readable by others, never half written. */
export function writeRemotes(remotes: Record<string, Remote>, file = remotesFile()): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ remotes }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

export function getRemote(name: string, file = remotesFile()): Remote & { name: string } {
  const remote = readRemotes(file)[name];
  if (!remote) throw notFound(`no remote named ${name}: add it with portcullis remotes add ${name} URL`);
  return { name, ...remote };
}
