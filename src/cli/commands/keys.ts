import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { keyCertificateBundle, listKeys, rotateKey } from '../../service/keys.js';
import type { SigningKey } from '../../auth/signing-keys.js';
import { print, withLocal } from '../context.js';
import { details, json, table } from '../output.js';

function presentKey(key: SigningKey, state: string) {
  return { name: key.name, kid: key.kid, alg: key.alg, state, created_at: key.createdAt.toISOString(), certified: key.certificateChain.length > 0 };
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('keys that sign registry tokens (operator only)');

  keys
    .command('list')
    .description('signing keys: the current one, those still published, retired ones')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const infos = await listKeys(rt, caller);
        if (opts.json) return print(json(infos.map((i) => presentKey(i.key, i.state))));
        print(table(['name', 'alg', 'kid', 'state', 'certified'], infos.map((i) => [i.key.name, i.key.alg, i.key.kid, i.state, i.key.certificateChain.length > 0 ? 'yes' : 'no'])));
      });
    });

  keys
    .command('rotate')
    .description('create a new signing key; the old one stays published until its tokens expire')
    .option('--algorithm <alg>', 'ES256 or RS256 (default: auth.algorithm)')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const { key, certified } = await rotateKey(rt, caller, opts.algorithm);
        if (opts.json) return print(json(presentKey(key, 'current')));
        print(details([['name', key.name], ['alg', key.alg], ['kid', key.kid], ['certified', certified ? 'yes' : 'no']]));
        if (!certified) {
          process.stderr.write('note: registries that trust keys through rootcertbundle need the new key: run `portcullis keys cert --out FILE` and update their bundle\n');
        }
      });
    });

  keys
    .command('cert')
    .description("write the PEM bundle for a registry's auth.token.rootcertbundle (creates the instance CA on first use)")
    .option('--out <file>', 'write the bundle to this file instead of stdout')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const { bundle } = await keyCertificateBundle(rt, caller);
        if (opts.out === undefined) return print(bundle);
        writeFileSync(opts.out, bundle, { mode: 0o644 });
      });
    });
}
