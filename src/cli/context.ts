import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Actor } from '../core/model.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { ownerCaller, type Caller } from '../service/context.js';
import { resolveVendor } from '../service/vendors.js';
import { invalid } from '../core/errors.js';
import { buildApp } from '../http/app.js';
import { ApiClient, httpTransport, injectTransport } from './api-client.js';
import { checkRemoteName, getRemote } from './remotes.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  vendor?: string;
  remote?: string;
}

export function configFrom(cmd: Command, extraFlags: { server?: { host?: string; port?: number } } = {}): Readonly<Config> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  // Only management commands speak the admin API; keys, gc, serve and init work on this machine's files.
  if (opts.remote !== undefined) throw invalid(`${cmd.name()} works on the local data dir only, not with --remote: run it on the instance's host`, 'remote');
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
    return await fn(runtime, ownerCaller(vendor, localActor()));
  } finally {
    await runtime.close();
  }
}

/**
 * Runs a management command through the admin API: in-process against the
 * local data dir (as the operator, or --vendor), or over HTTP against
 * `--remote NAME` with that remote's token. Both paths are the same routes,
 * checks and answers. vendorInBody: the command sends --vendor in its body,
 * so it may go with --remote.
 */
export async function withApi<T>(cmd: Command, fn: (api: ApiClient) => Promise<T>, options: { vendorInBody?: boolean } = {}): Promise<T> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  if (opts.remote !== undefined) {
    // A command that names the vendor in its request (user create/invite) lets the operator's token act for another vendor.
    if (opts.vendor !== undefined && !options.vendorInBody) throw invalid('--vendor applies to the local data dir; a remote acts for the vendor of its token', 'vendor');
    if (opts.dataDir !== undefined || opts.config !== undefined) throw invalid('--data-dir and --config apply to the local instance, not to --remote', 'remote');
    const remote = getRemote(checkRemoteName(opts.remote));
    if (!remote.token) throw invalid(`remote ${remote.name} has no token: portcullis remotes set-token ${remote.name} TOKEN`, 'remote');
    return fn(new ApiClient(httpTransport(remote.url, remote.token), () => new Date()));
  }
  return withLocal(cmd, async (runtime, caller) => {
    const app = await buildApp(runtime, { localCaller: caller });
    try {
      return await fn(new ApiClient(injectTransport(app), runtime.now));
    } finally {
      await app.close();
    }
  });
}

export function print(text: string): void {
  process.stdout.write(text);
}
