/**
 * Vitest globalSetup: makes sure the system tools the end-to-end tests drive
 * (the real registry, real clients) are installed, installing the missing
 * Debian packages when we are root. Runs once per `vitest run`, in the main
 * process, before any worker starts.
 *
 * Outcome per run:
 * - all present: nothing to do, no apt-get call;
 * - missing under CI (CI=true): throws, so the run fails instead of quietly
 *   skipping the tests that need them;
 * - missing elsewhere: one warning on stderr, and the missing packages are
 *   handed to the workers through `provide('missingTools')`, which
 *   `describeE2E` (test/helpers/system-tools.ts) reads to skip.
 *
 * The result travels with provide/inject rather than an environment variable:
 * every PORTCULLIS_* variable is read as a setting by loadConfig, which refuses
 * unknown ones, so an extra one in the workers' env would break other tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Debian packages of SYSTEM_TOOLS still missing after setup (empty when all are there). */
    missingTools: string[];
  }
}

export interface SystemTool {
  /** Debian package that provides it. */
  pkg: string;
  /** Absolute path of the binary the tests run, or a command name looked up on PATH. */
  binary: string;
}

/** Everything the e2e tests need from the OS. */
export const SYSTEM_TOOLS: readonly SystemTool[] = [
  { pkg: 'docker-registry', binary: '/usr/bin/docker-registry' },
  { pkg: 'skopeo', binary: '/usr/bin/skopeo' },
  { pkg: 'podman', binary: '/usr/bin/podman' },
  // Only `docker login` is used (it needs no engine); any docker CLI on PATH will do.
  { pkg: 'docker.io', binary: 'docker' },
  // The `pass` secrets backend, tested against a real store (test/secrets/pass.test.ts).
  { pkg: 'pass', binary: '/usr/bin/pass' },
  // gpg alone is in many base images; decrypting needs the agent, which only the gnupg package brings.
  { pkg: 'gnupg', binary: '/usr/bin/gpg-agent' },
  // The dashboard's browser tests drive it through playwright-core (test/e2e/dashboard.test.ts).
  { pkg: 'chromium', binary: '/usr/bin/chromium' },
  // A real Prometheus scrapes /metrics with a bearer token from credentials_file (test/e2e/metrics-scrape.test.ts).
  { pkg: 'prometheus', binary: '/usr/bin/prometheus' },
  // HTTPS checked with and without the test CA (test/e2e/tls.test.ts).
  { pkg: 'curl', binary: '/usr/bin/curl' },
];

function present(binary: string): boolean {
  if (binary.includes('/')) return existsSync(binary);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, binary)));
}

/** Packages of SYSTEM_TOOLS whose binary is absent. */
export function missingTools(tools: readonly SystemTool[] = SYSTEM_TOOLS): string[] {
  return tools.filter((t) => !present(t.binary)).map((t) => t.pkg);
}

const APT_TIMEOUT_MS = 10 * 60_000;

/** Runs one apt-get command; returns an error description, or null on success. */
function aptGet(args: string[]): string | null {
  const r = spawnSync('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: APT_TIMEOUT_MS,
  });
  if (r.error) return `apt-get ${args[0]}: ${r.error.message}`;
  if (r.status === 0) return null;
  const tail = `${r.stderr}`.trim().split('\n').slice(-3).join(' | ');
  return `apt-get ${args[0]} exited ${r.status ?? r.signal}: ${tail}`;
}

function install(pkgs: string[]): string | null {
  if (process.getuid?.() !== 0) return 'not root, cannot apt-get install';
  process.stderr.write(`[system-tools] installing ${pkgs.join(' ')} with apt-get…\n`);
  return aptGet(['update']) ?? aptGet(['install', '-y', '--no-install-recommends', ...pkgs]);
}

export default function setup(project: TestProject): void {
  let missing = missingTools();
  let installError: string | null = null;
  if (missing.length > 0) {
    installError = install(missing);
    missing = missingTools();
  }
  if (missing.length > 0) {
    const why = installError ? ` (${installError})` : '';
    if (process.env.CI === 'true') {
      throw new Error(`e2e system tools missing under CI: ${missing.join(', ')}${why}`);
    }
    process.stderr.write(`\n!!! [system-tools] MISSING ${missing.join(', ')}${why}: e2e tests will be SKIPPED !!!\n\n`);
  }
  project.provide('missingTools', missing);
}
