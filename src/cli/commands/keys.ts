import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { keyCertificateBundle, listKeys, rotateKey } from '../../service/keys.js';
import type { SigningKey } from '../../auth/signing-keys.js';
import { publicUrl } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { UPSTREAM_EVENTS_PATH } from '../../http/routes/upstream-events.js';
import { print, withLocal } from '../context.js';
import { details, json, table } from '../output.js';

/** When the key's leaf certificate ends: registries that trust the CA accept the key until then. */
function certificateEnd(key: SigningKey): string | null {
  const leaf = key.certificateChain[0];
  return leaf ? new Date(new X509Certificate(leaf).validTo).toISOString() : null;
}

function presentKey(key: SigningKey, state: string) {
  return { name: key.name, kid: key.kid, alg: key.alg, state, created_at: key.createdAt.toISOString(), certified: key.certificateChain.length > 0, certificate_expires_at: certificateEnd(key) };
}

/**
 * The `auth` block of a distribution config that trusts this instance. The
 * realm comes from server.public_url, never from anything a request said.
 * In gateway mode the registry is the upstream: its service is the one only
 * the gateway's own tokens name, and its notifications come back here. The
 * notification secret is left for the operator to paste, never printed.
 */
function registryAuthConfig(config: Readonly<Config>, bundle: string): string {
  const yaml = (v: string) => JSON.stringify(v);
  const gateway = config.registry.upstream !== undefined;
  const lines = [
    `# for the ${gateway ? 'upstream registry behind this gateway' : 'registry'} (docker-registry / distribution config.yml):`,
    'auth:',
    '  token:',
    `    realm: ${yaml(`${publicUrl(config)}/token`)}`,
    `    service: ${yaml(gateway ? config.registry.upstream_service : config.auth.services[0]!)}`,
    `    issuer: ${yaml(config.auth.issuer)}`,
    `    rootcertbundle: ${yaml(bundle)}`,
  ];
  if (gateway) {
    lines.push(
      'notifications:',
      '  events: {includereferences: true}',
      '  endpoints:',
      '    - name: portcullis',
      `      url: ${yaml(`${publicUrl(config)}${UPSTREAM_EVENTS_PATH}`)}`,
      '      headers: {Authorization: ["Bearer <registry.notification_secret>"]}',
      '      timeout: 2s',
      '      threshold: 5',
      '      backoff: 1s',
    );
  }
  return [...lines, ''].join('\n');
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
        print(table(['name', 'alg', 'kid', 'state', 'certified', 'certificate ends'], infos.map((i) => [i.key.name, i.key.alg, i.key.kid, i.state, i.key.certificateChain.length > 0 ? 'yes' : 'no', certificateEnd(i.key) ?? '-'])));
      });
    });

  keys
    .command('rotate')
    .description('create a new signing key; the old one stays published until its tokens expire')
    .option('--algorithm <alg>', 'ES256 or RS256 (default: auth.algorithm)')
    .option('--new-ca', 'after a suspected compromise: set the instance CA aside and certify the new key with a new one (every registry then needs the new bundle)')
    .option('--json', 'print JSON')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const { key, certified, retiredCa } = await rotateKey(rt, caller, { algorithm: opts.algorithm, newCa: opts.newCa === true });
        if (opts.json) print(json({ ...presentKey(key, 'current'), new_ca: opts.newCa === true, retired_ca_files: retiredCa }));
        else print(details([['name', key.name], ['alg', key.alg], ['kid', key.kid], ['certified', certified ? 'yes' : 'no'], ['certificate ends', certificateEnd(key) ?? '-']]));
        if (opts.newCa) {
          process.stderr.write('note: registries still trust only the old CA and now refuse every new token: run `portcullis keys cert --out FILE`, put FILE in place of each registry\'s rootcertbundle, and restart each registry\n');
        } else if (!certified) {
          process.stderr.write('note: registries that trust keys through rootcertbundle need the new key: run `portcullis keys cert --out FILE` and update their bundle\n');
        }
      });
    });

  keys
    .command('cert')
    .description("write the PEM bundle for a registry's auth.token.rootcertbundle: the instance CA alone (created on first use); certifies the current key")
    .option('--out <file>', 'write the bundle to this file, and print the registry config that uses it')
    .option('--new-ca', 'with secrets.signing_key, after the key was replaced in its backend: set the instance CA aside and make a new one')
    .action(async (opts, cmd: Command) => {
      await withLocal(cmd, async (rt, caller) => {
        const { bundle } = await keyCertificateBundle(rt, caller, { newCa: opts.newCa === true });
        if (opts.out === undefined) return print(bundle);
        writeFileSync(opts.out, bundle, { mode: 0o644 });
        print(registryAuthConfig(rt.config, resolve(opts.out)));
      });
    });
}
