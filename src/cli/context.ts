import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Actor } from '../core/model.js';
import { openRuntime, type Runtime } from '../runtime.js';
import type { Caller } from '../service/context.js';
import { resolveVendor } from '../service/vendors.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  vendor?: string;
}

export function configFrom(cmd: Command, extraFlags: { server?: { host?: string; port?: number } } = {}): Readonly<Config> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({ configPath: opts.config, flags: { data_dir: opts.dataDir, ...extraFlags } });
}

function localActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): keep "unknown".
  }
  return { name: `cli:${user}`, source: `cli@${hostname()}` };
}

/**
 * Runs a management command against the local data dir as the operator vendor,
 * or as `--vendor NAME`: whoever can read the data dir is the operator.
 */
export async function withLocal<T>(cmd: Command, fn: (rt: Runtime, caller: Caller) => Promise<T>): Promise<T> {
  const config = configFrom(cmd);
  const { runtime } = await openRuntime(config, { initialize: false });
  try {
    const vendorRef = cmd.optsWithGlobals<GlobalOptions>().vendor;
    const vendor = vendorRef ? await resolveVendor(runtime, vendorRef) : runtime.operator;
    return await fn(runtime, { vendorId: vendor.id, actor: localActor() });
  } finally {
    await runtime.close();
  }
}

export function print(text: string): void {
  process.stdout.write(text);
}
