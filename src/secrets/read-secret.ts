import type { SecretRef } from '../core/secret-ref.js';
import type { BackendContext } from './backend-context.js';
import { readEnvSecret } from './env-backend.js';
import { readFileSecret } from './file-backend.js';
import { readPassSecret } from './pass-backend.js';
import { readSopsSecret } from './sops-backend.js';

/** The secret's text as its backend holds it; errors say what failed, never what was read. */
export async function readSecret(ref: SecretRef, ctx: BackendContext): Promise<string> {
  switch (ref.backend) {
    case 'env':
      return readEnvSecret(ref, ctx);
    case 'file':
      return readFileSecret(ref, ctx);
    case 'pass':
      return readPassSecret(ref, ctx);
    case 'sops':
      return readSopsSecret(ref, ctx);
  }
}
