import type { SecretRef } from '../core/secret-ref.js';
import type { BackendContext } from './backend-context.js';
import { runBackend } from './run-backend.js';

/** `pass show ENTRY`, with the store and GnuPG home the environment names (PASSWORD_STORE_DIR, GNUPGHOME). */
export function readPassSecret(ref: Extract<SecretRef, { backend: 'pass' }>, ctx: BackendContext): Promise<string> {
  return runBackend('pass', ['show', ref.entry], ctx);
}
