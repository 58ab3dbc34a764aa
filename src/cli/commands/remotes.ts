import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { invalid, notFound } from '../../core/errors.js';
import { parseUsername, splitCredentials } from '../../core/token-format.js';
import { print } from '../context.js';
import { json, table } from '../output.js';
import { checkRemoteName, checkRemoteUrl, isCleartextOffHost, readRemotes, remotesFile, writeRemotes } from '../remotes.js';

function warn(message: string): void {
  process.stderr.write(`portcullis: warning: ${message}\n`);
}

/** The token from stdin with `-`; from the argument itself, with a warning, since every user of the machine can read it there. */
function tokenArgument(name: string, value: string): string {
  const fromStdin = value === '-';
  const token = (fromStdin ? readFileSync(0, 'utf8') : value).trim();
  const parts = splitCredentials('token', token);
  if (!parts || parseUsername(parts.username)?.type !== 'vendor') throw invalid('the token must be a full vendor token, <username>.<secret> (vtok_….…), as token create printed it', 'token');
  if (!fromStdin) {
    warn(
      `a token on the command line is visible to every user of this machine (ps, /proc) and stays in your shell history; give - instead and pass it on stdin: portcullis remotes set-token ${name} - < FILE`,
    );
  }
  return token;
}

export function registerRemoteCommands(program: Command): void {
  const remotes = program.command('remotes').description('other Portcullis instances to manage with --remote NAME');

  remotes
    .command('add <name> <url>')
    .description('remember an instance by name (its base URL, e.g. https://portcullis.example.com)')
    .option('--insecure-http', 'accept a plain http:// URL to another machine (the token then crosses the network in clear text)')
    .action((name: string, url: string, opts: { insecureHttp?: boolean }) => {
      const all = readRemotes();
      checkRemoteName(name);
      if (all[name]) throw invalid(`a remote named ${name} exists already (${all[name].url}); remove it first`, 'name');
      const base = checkRemoteUrl(url, opts.insecureHttp === true);
      const cleartext = isCleartextOffHost(base);
      all[name] = cleartext ? { url: base, insecure_http: true } : { url: base };
      writeRemotes(all);
      if (cleartext) warn(`${name} is plain http:// to another machine (--insecure-http): its token crosses the network in clear text on every command`);
      print(`added ${name} ${base}; now: portcullis remotes set-token ${name} -   (reads the token from stdin)\n`);
    });

  remotes
    .command('set-token <name> <token>')
    .description('store the vendor token (<username>.<secret>, with admin scopes) used for a remote; give - to read it from stdin (recommended: an argument shows in ps)')
    .action((name: string, token: string) => {
      const all = readRemotes();
      const remote = all[checkRemoteName(name)];
      if (!remote) throw notFound(`no remote named ${name}: add it with portcullis remotes add ${name} URL`);
      remote.token = tokenArgument(name, token);
      writeRemotes(all);
      print(`token stored for ${name} in ${remotesFile()} (mode 0600)\n`);
    });

  remotes
    .command('list')
    .option('--json', 'print JSON')
    .action((opts) => {
      // Which token, never the secret: the username is enough to recognise it.
      const rows = Object.entries(readRemotes()).map(([name, r]) => ({ name, url: r.url, token: r.token ? r.token.split('.')[0]! : null }));
      print(opts.json ? json(rows) : table(['name', 'url', 'token'], rows.map((r) => [r.name, r.url, r.token])));
    });

  remotes
    .command('remove <name>')
    .action((name: string) => {
      const all = readRemotes();
      if (!all[name]) throw notFound(`no remote named ${name}`);
      delete all[name];
      writeRemotes(all);
      print(`removed ${name}\n`);
    });
}
