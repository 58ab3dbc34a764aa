/**
 * Helpers for tests that drive the real, built CLI (dist/cli/main.js) as a
 * child process against a throw-away data dir. Run `npm run build` first.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment variables (PORTCULLIS_* included) on top of the cleaned environment. */
  env?: Record<string, string>;
  /** Working directory; default the data dir when it exists, else the OS temp dir. */
  cwd?: string;
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed (--password-stdin). */
  input?: string;
}

function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} does not exist: run \`npm run build\` before the CLI tests`);
}

/** process.env without any PORTCULLIS_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('PORTCULLIS_')) delete env[key];
  return { ...env, ...extra };
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
}

export function removeDataDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

function defaultCwd(dataDir: string | null): string {
  return dataDir !== null && existsSync(dataDir) ? dataDir : tmpdir();
}

/** Runs `portcullis [--data-dir DIR] ...args` with options (env, cwd). */
export function runCliWith(dataDir: string | null, options: CliOptions, ...args: string[]): CliResult {
  assertBuilt();
  const argv = dataDir === null ? args : ['--data-dir', dataDir, ...args];
  const r = spawnSync(process.execPath, [CLI_PATH, ...argv], {
    cwd: options.cwd ?? defaultCwd(dataDir),
    env: cleanEnv(options.env),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 20_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Like runCliWith, without blocking: the test runner uses one worker, so
 * independent commands run side by side only through this.
 */
export function runCliWithAsync(dataDir: string | null, options: CliOptions, ...args: string[]): Promise<CliResult> {
  assertBuilt();
  const argv = dataDir === null ? args : ['--data-dir', dataDir, ...args];
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLI_PATH, ...argv], {
      cwd: options.cwd ?? defaultCwd(dataDir),
      env: cleanEnv(options.env),
      timeout: options.timeoutMs ?? 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdin.end(options.input ?? '');
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', rej);
    child.on('close', (status, signal) => res({ status, signal, stdout, stderr }));
  });
}

export function runCliAsync(dataDir: string | null, ...args: string[]): Promise<CliResult> {
  return runCliWithAsync(dataDir, {}, ...args);
}

/** Async runCliJson. */
export async function runCliJsonAsync<T = unknown>(dataDir: string | null, ...args: string[]): Promise<T> {
  return parseJsonResult<T>(await runCliAsync(dataDir, ...args, '--json'), args);
}

function parseJsonResult<T>(r: CliResult, args: string[]): T {
  if (r.status !== 0) {
    throw new Error(`portcullis ${args.join(' ')} --json exited ${r.status}: ${r.stderr.trim()}`);
  }
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`portcullis ${args.join(' ')} --json printed no JSON: ${r.stdout}`);
  }
}

/** Runs `portcullis --data-dir DIR ...args`; pass null to leave out --data-dir. */
export function runCli(dataDir: string | null, ...args: string[]): CliResult {
  return runCliWith(dataDir, {}, ...args);
}

/** Runs a command with `--json` appended, expects success and returns the parsed output. */
export function runCliJson<T = unknown>(dataDir: string | null, ...args: string[]): T {
  return parseJsonResult<T>(runCli(dataDir, ...args, '--json'), args);
}

/** Runs a command that must succeed and returns its stdout. */
export async function runOkAsync(dataDir: string | null, ...args: string[]): Promise<string> {
  const r = await runCliAsync(dataDir, ...args);
  if (r.status !== 0) throw new Error(`portcullis ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

export interface Banner {
  username: string;
  secret: string;
  token: string;
  scopes: string;
}

/** Reads the `key: value` lines of the bootstrap banner; undefined when no secret was printed. */
export function parseBanner(stdout: string): Banner | undefined {
  const field = (name: string) => new RegExp(`^\\s*${name}:\\s+(\\S+)\\s*$`, 'm').exec(stdout)?.[1];
  const secret = field('secret');
  if (secret === undefined) return undefined;
  return { username: field('username') ?? '', secret, token: field('token') ?? '', scopes: field('scopes') ?? '' };
}

/** Lines of output that have any content. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Creates a temp data dir and initialises it; returns the dir and the bootstrap banner. */
export function initDataDir(): { dataDir: string; banner: Banner } {
  const dataDir = makeDataDir();
  const r = runCli(dataDir, 'init');
  if (r.status !== 0) throw new Error(`portcullis init exited ${r.status}: ${r.stderr.trim()}`);
  const banner = parseBanner(r.stdout);
  if (!banner) throw new Error(`portcullis init printed no bootstrap secret:\n${r.stdout}`);
  return { dataDir, banner };
}

/**
 * The CLI's failure contract: the given exit code, nothing on stdout and
 * exactly one line on stderr, starting with `portcullis: `.
 */
export function expectCliError(r: CliResult, status: number, message?: RegExp | string): void {
  const context = `stdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}`;
  expect(r.status, context).toBe(status);
  expect(r.stdout, context).toBe('');
  expect(r.stderr.endsWith('\n'), context).toBe(true);
  const errLines = r.stderr.slice(0, -1).split('\n');
  expect(errLines, context).toHaveLength(1);
  expect(errLines[0], context).toMatch(/^portcullis: \S/);
  if (message !== undefined) expect(errLines[0], context).toMatch(message);
}

/** A running `portcullis serve`, for tests of start-up and shutdown. */
export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `re`; rejects on exit or timeout. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startServe(dataDir: string, ...args: string[]): ServeProcess {
  assertBuilt();
  const child = spawn(process.execPath, [CLI_PATH, '--data-dir', dataDir, 'serve', ...args], {
    cwd: defaultCwd(dataDir),
    env: cleanEnv(),
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => res({ code, signal }));
  });

  const waitForLine = (re: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((res, rej) => {
      const check = () => {
        const hit = out.split('\n').find((l) => re.test(l));
        if (hit === undefined) return false;
        cleanup();
        res(hit);
        return true;
      };
      const onExit = () => {
        if (check()) return;
        cleanup();
        rej(new Error(`serve exited before printing ${re}\nstdout: ${out}\nstderr: ${err}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        rej(new Error(`serve printed no ${re} within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.off('exit', onExit);
      };
      if (check()) return;
      child.stdout.on('data', check);
      child.on('exit', onExit);
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        rej(new Error(`serve did not exit within ${timeoutMs} ms of ${signal}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  return { child, stdout: () => out, stderr: () => err, waitForLine, stop };
}
