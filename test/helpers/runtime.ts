import { mkdtempSync, rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { ownerCaller, type Caller } from '../../src/service/context.js';
import type { CreatedToken } from '../../src/service/tokens.js';

export interface TestInstance {
  runtime: Runtime;
  caller: Caller;
  bootstrap: CreatedToken;
  dataDir: string;
  /** Moves the injected clock. */
  clock: { now: Date };
  cleanup(): Promise<void>;
}

/**
 * A fresh instance on a temp data dir with an injectable clock, or on the real
 * clock (`'real-time'`, which setting `now` shifts) when a real registry or
 * client checks the tokens' times. `env` holds PORTCULLIS_* settings.
 */
export async function startInstance(start: Date | 'real-time' = new Date('2026-11-24T12:00:00Z'), env: Record<string, string> = {}): Promise<TestInstance> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-test-'));
  const config = loadConfig({ env, cwd: dataDir, flags: { data_dir: dataDir } });
  let offsetMs = 0;
  const clock: { now: Date } =
    start === 'real-time'
      ? {
          // Real time, movable: setting it shifts the clock by the difference from now.
          get now() {
            return new Date(Date.now() + offsetMs);
          },
          set now(value: Date) {
            offsetMs = value.getTime() - Date.now();
          },
        }
      : { now: start };
  // A failed write-behind is invisible to the request that caused it: show it in the test's output.
  const { runtime, created } = await openRuntime(config, { initialize: true, now: () => clock.now, onBackgroundError: (err) => console.error('background error:', err) });
  if (!created) throw new Error('expected a bootstrap token on a fresh data dir');
  return {
    runtime,
    caller: ownerCaller(runtime.operator, { name: 'test', source: 'test' }),
    bootstrap: created,
    dataDir,
    clock,
    async cleanup() {
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Listens on a free port of 127.0.0.1, as every test server does; returns the port. */
export async function listenLocally(app: FastifyInstance): Promise<number> {
  return Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
}
