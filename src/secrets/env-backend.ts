import { invalid } from '../core/errors.js';
import type { SecretRef } from '../core/secret-ref.js';
import type { BackendContext } from './backend-context.js';

export function readEnvSecret(ref: Extract<SecretRef, { backend: 'env' }>, ctx: BackendContext): string {
  const value = ctx.env[ref.name];
  if (value === undefined) throw invalid(`environment variable ${ref.name} is not set`);
  if (value.trim() === '') throw invalid(`environment variable ${ref.name} is empty`);
  return value;
}
