import { resolve } from 'node:path';
import type { SecretRef } from '../core/secret-ref.js';
import type { BackendContext } from './backend-context.js';
import { runBackend } from './run-backend.js';

/**
 * `sops -d FILE`: the whole decrypted file (a file sops encrypted as binary,
 * or any file holding just the secret). With `#KEY`, one top-level value of a
 * YAML or JSON file: `sops -d --extract '["KEY"]' FILE`. The path is made
 * absolute, so no file name can pass for an option.
 */
export function readSopsSecret(ref: Extract<SecretRef, { backend: 'sops' }>, ctx: BackendContext): Promise<string> {
  const file = resolve(ctx.cwd, ref.file);
  const extract = ref.key === undefined ? [] : ['--extract', `["${ref.key}"]`];
  return runBackend('sops', ['-d', ...extract, file], ctx);
}
