/**
 * Runs the real `skopeo` client. Asynchronous on purpose: a test may serve the
 * token endpoint from its own process, which a blocking spawnSync would starve.
 *
 * Each call gets its own empty auth file (REGISTRY_AUTH_FILE) so a login in one
 * test never leaks into another; pass `authFile` to share one on purpose (e.g.
 * `skopeo login` then `skopeo copy`). skopeo's blob-info cache under
 * /var/lib/containers/cache stays shared, so it may try cross-repository mounts:
 * don't assert an exact request sequence.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SKOPEO_BIN = '/usr/bin/skopeo';

export interface SkopeoOptions {
  /** Default 60 s; the process is killed after it. */
  timeoutMs?: number;
  /** Auth file to use instead of a fresh, empty one. */
  authFile?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export interface SkopeoResult {
  /** Exit code; null when killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `skopeo ...args`; never throws on a failed command, only when skopeo cannot start. */
export async function skopeo(args: string[], opts: SkopeoOptions = {}): Promise<SkopeoResult> {
  let tempDir: string | undefined;
  let authFile = opts.authFile;
  if (!authFile) {
    tempDir = mkdtempSync(join(tmpdir(), 'portcullis-skopeo-'));
    authFile = join(tempDir, 'auth.json');
    writeFileSync(authFile, '{}');
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  try {
    return await new Promise<SkopeoResult>((resolve, reject) => {
      const child = spawn(SKOPEO_BIN, args, {
        env: { ...process.env, REGISTRY_AUTH_FILE: authFile, ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (timedOut) stderr += `\n[skopeo helper] killed after ${timeoutMs} ms`;
        resolve({ code, stdout, stderr });
      });
    });
  } finally {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

const withDocker = (ref: string): string => (ref.startsWith('docker://') ? ref : `docker://${ref}`);

/**
 * `skopeo copy oci:LAYOUT:REF docker://DEST` to a plain-HTTP registry.
 * `dest` is `host/repo:tag`; `creds` is `user:secret` (omit for an open registry);
 * `all` copies every platform of an index instead of the host's one.
 */
export function copyToRegistry(
  layoutDir: string,
  ref: string,
  dest: string,
  creds?: string,
  options: { all?: boolean; extraArgs?: string[] } & SkopeoOptions = {},
): Promise<SkopeoResult> {
  const { all, extraArgs = [], ...opts } = options;
  return skopeo(
    [
      // The test decides what is allowed, not the host's /etc/containers/policy.json.
      '--insecure-policy',
      'copy',
      '--dest-tls-verify=false',
      ...(creds ? ['--dest-creds', creds] : []),
      ...(all ? ['--all'] : []),
      ...extraArgs,
      `oci:${layoutDir}:${ref}`,
      withDocker(dest),
    ],
    opts,
  );
}

export type InspectResult<T> = { ok: true; json: T; result: SkopeoResult } | { ok: false; result: SkopeoResult };

/**
 * `skopeo inspect [extraArgs] docker://IMAGE` over plain HTTP, parsed.
 * `imageRef` is `host/repo:tag` or `host/repo@sha256:…`; extraArgs e.g.
 * `['--raw']` or `['--override-arch', 'arm64']`.
 */
export async function inspect<T = Record<string, unknown>>(
  imageRef: string,
  creds?: string,
  extraArgs: string[] = [],
  opts: SkopeoOptions = {},
): Promise<InspectResult<T>> {
  const result = await skopeo(
    ['inspect', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), ...extraArgs, withDocker(imageRef)],
    opts,
  );
  if (result.code !== 0) return { ok: false, result };
  try {
    return { ok: true, json: JSON.parse(result.stdout) as T, result };
  } catch {
    return { ok: false, result };
  }
}
