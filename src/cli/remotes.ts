import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fsyncSync, lstatSync, mkdirSync, chmodSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { invalid, notFound } from '../core/errors.js';
import { isLoopbackHost } from '../core/loopback.js';

export interface Remote {
  url: string;
  /** The full vendor token (<username>.<secret>); never printed. */
  token?: string;
  /** Set by `remotes add --insecure-http`: plain HTTP off this machine, accepted on purpose. */
  insecure_http?: true;
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

/** Plain HTTP to another machine: the vendor token would cross the network readable by anyone on the path. */
export function isCleartextOffHost(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const u = new URL(url);
  return u.protocol === 'http:' && !isLoopbackHost(u.hostname);
}

export function cleartextRefusal(url: string): string {
  return `refusing ${url}: over plain http:// the remote's vendor token would cross the network in clear text; use https://, or add --insecure-http if the path to it is already protected (a VPN, an SSH tunnel)`;
}

/** A base URL; plain http only to this machine (127.0.0.0/8, ::1, localhost) unless insecureHttp. */
export function checkRemoteUrl(value: string, insecureHttp = false): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`"${value}" is not a URL: give the instance's base URL, e.g. https://portcullis.example.com`, 'url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`remote URL must be http or https, got ${url.protocol}`, 'url');
  if (url.username || url.password || url.search || url.hash) throw invalid('remote URL must not carry credentials, a query or a fragment: set the token with remotes set-token', 'url');
  const base = url.origin + url.pathname.replace(/\/+$/, '');
  if (!insecureHttp && isCleartextOffHost(base)) throw invalid(cleartextRefusal(base), 'url');
  return base;
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

export interface WriteRemotesOptions {
  /** Where the remotes file lives by default: a directory of our own, tightened to 0700. Another (PORTCULLIS_REMOTES) is only checked. */
  ownDirectory?: boolean;
  /** Notes for the user (a directory made private); default stderr. */
  warn?: (message: string) => void;
  /** The temp file's random part; a test substitutes it to plant a file there first. */
  tempName?: () => string;
}

function warnOnStderr(message: string): void {
  process.stderr.write(`portcullis: warning: ${message}\n`);
}

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/**
 * The directory the tokens file goes into must be one only this user
 * controls: whoever else can write there can plant a link where the file is
 * about to be written, or replace the file. A symlinked directory is refused
 * rather than trusted for what it points at.
 */
function securedDirectory(dir: string, own: boolean, warn: (message: string) => void): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw invalid(`${dir} is a symbolic link: the remotes file (it holds tokens) must be in a real directory that only you can write; replace the link with a directory`, 'remotes');
  if (!st.isDirectory()) throw invalid(`${dir} is not a directory`, 'remotes');
  const uid = currentUid();
  if (uid !== undefined && st.uid !== uid) {
    throw invalid(`${dir} belongs to uid ${st.uid}, not to you (uid ${uid}): the remotes file (it holds tokens) must be in a directory that only you control; set PORTCULLIS_REMOTES to a file in one`, 'remotes');
  }
  const loose = st.mode & 0o077;
  if (loose === 0) return;
  if (own) {
    chmodSync(dir, 0o700);
    warn(`${dir} was mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; made it 0700, as it holds tokens`);
  } else if (loose & 0o022) {
    throw invalid(`${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): the remotes file (it holds tokens) must be in a directory only you can write; chmod go-w it, or set PORTCULLIS_REMOTES to a file in a private directory`, 'remotes');
  }
}

function writeNewFile(path: string, text: string): void {
  // O_EXCL fails on anything already at the path, a dangling symlink included; O_NOFOLLOW says the same twice.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    const data = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The rename is durable only once the directory entry is on disk too. Not every platform lets a directory be fsynced. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Written whole to a new 0600 file under an unguessable name beside the
 * target, then renamed over it: never readable by others, never half
 * written, and nothing planted at the temp path is followed or reused.
 */
export function writeRemotes(remotes: Record<string, Remote>, file = remotesFile(), options: WriteRemotesOptions = {}): void {
  const dir = dirname(file);
  securedDirectory(dir, options.ownDirectory ?? file === remotesFile({ ...process.env, PORTCULLIS_REMOTES: '' }), options.warn ?? warnOnStderr);
  const tempName = options.tempName ?? (() => randomBytes(12).toString('hex'));
  const text = `${JSON.stringify({ remotes }, null, 2)}\n`;
  for (let attempt = 0; ; attempt++) {
    const temp = join(dir, `.remotes.${tempName()}.tmp`);
    try {
      writeNewFile(temp, text);
    } catch (err) {
      // Someone put something at this name first: take another rather than touch theirs.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 4) continue;
      throw invalid(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'remotes');
    }
    try {
      renameSync(temp, file);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
      throw invalid(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'remotes');
    }
    syncDirectory(dir);
    return;
  }
}

export function getRemote(name: string, file = remotesFile()): Remote & { name: string } {
  const remote = readRemotes(file)[name];
  if (!remote) throw notFound(`no remote named ${name}: add it with portcullis remotes add ${name} URL`);
  // A remote added before plain HTTP off this machine was refused is held to the same rule when it is used.
  if (remote.insecure_http !== true && isCleartextOffHost(remote.url)) {
    throw invalid(`${cleartextRefusal(remote.url)} (remotes remove ${name}, then remotes add ${name} again)`, 'remote');
  }
  return { name, ...remote };
}
