/**
 * Lets e2e test files skip, outside CI only, when the system tools they drive
 * are missing. Under CI the globalSetup (test/setup/system-tools.ts) has already
 * failed the run in that case, so these never skip there.
 */
import { describe, inject } from 'vitest';
import { missingTools } from '../setup/system-tools.js';

/** Missing packages as found by the globalSetup, or checked here if it did not run. */
export function e2eMissing(): string[] {
  const provided = inject('missingTools') as string[] | undefined;
  const missing = provided ?? missingTools();
  // Belt and braces: a CI run must never turn missing tools into skipped tests.
  if (missing.length > 0 && process.env.CI === 'true') {
    throw new Error(`e2e system tools missing under CI: ${missing.join(', ')}`);
  }
  return missing;
}

export function e2eAvailable(): boolean {
  return e2eMissing().length === 0;
}

/**
 * `describe` for e2e suites: skipped when tools are missing (outside CI), with
 * the missing packages in the suite name so the report says why.
 */
export function describeE2E(name: string, fn: () => void): void {
  const missing = e2eMissing();
  if (missing.length === 0) describe(name, fn);
  else describe.skip(`${name} [skipped: missing ${missing.join(', ')}]`, fn);
}
