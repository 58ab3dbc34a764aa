#!/usr/bin/env -S node --max-semi-space-size=8
import { Command, CommanderError } from 'commander';
import { PortcullisError } from '../core/errors.js';
import { packageVersion } from '../version.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerCustomerCommands } from './commands/customers.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerGcCommand } from './commands/gc.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLicenseCommands } from './commands/licenses.js';
import { registerNotifyCommands } from './commands/notify.js';
import { registerPlanCommands } from './commands/plans.js';
import { registerRemoteCommands } from './commands/remotes.js';
import { registerServeCommands } from './commands/serve.js';
import { registerStoreCommands } from './commands/store.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerUsageCommand } from './commands/usage.js';
import { registerUserCommands } from './commands/users.js';
import { registerVendorCommands } from './commands/vendors.js';

/** Exit codes: 0 ok, 1 failure (not found, conflict, runtime), 2 bad input or usage. */
const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

export function buildProgram(): Command {
  const program = new Command('portcullis')
    .description('Access gateway for private container registries')
    .option('--config <path>', 'portcullis.toml to read (env PORTCULLIS_CONFIG)')
    .option('--data-dir <dir>', 'data directory (env PORTCULLIS_DATA_DIR, default ./data)')
    .option('--vendor <vendor>', 'act for this vendor (id or name) instead of the operator vendor')
    .option('--remote <name>', 'manage the instance added with remotes add NAME, through its admin API')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: helpOnly });
  registerServeCommands(program);
  registerTokenCommands(program);
  registerCustomerCommands(program);
  registerLicenseCommands(program);
  registerPlanCommands(program);
  registerVendorCommands(program);
  registerUserCommands(program);
  registerAuditCommand(program);
  registerUsageCommand(program);
  registerExplainCommand(program);
  registerKeyCommands(program);
  registerGcCommand(program);
  registerRemoteCommands(program);
  registerNotifyCommands(program);
  registerStoreCommands(program);
  for (const cmd of allCommands(program)) cmd.exitOverride().configureOutput({ writeErr: helpOnly });
  return program;
}

/**
 * Commander writes help (for a bare `portcullis` or `portcullis token`) and its
 * own error lines to stderr; help passes, errors are reported once by main().
 */
function helpOnly(text: string): void {
  if (!text.startsWith('error:')) process.stderr.write(text);
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** One clear line on stderr for every failure; never a stack trace for user mistakes. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // A bare group (`portcullis token`) printed its help; that is a usage error.
      if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') return EXIT_USAGE;
      process.stderr.write(`portcullis: ${err.message.replace(/^error: /, '')}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof PortcullisError) {
      process.stderr.write(`portcullis: ${err.message}\n`);
      return err.code === 'invalid_input' ? EXIT_USAGE : EXIT_FAILURE;
    }
    process.stderr.write(`portcullis: unexpected error: ${(err as Error).message ?? String(err)}\n`);
    return EXIT_FAILURE;
  }
}

const exitCode = await main(process.argv);
// serve keeps the process alive through its listener; everything else ends here.
if (exitCode !== 0 || !process.argv.slice(2).includes('serve')) process.exitCode = exitCode;
