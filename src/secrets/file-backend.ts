import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { invalid } from '../core/errors.js';
import type { SecretRef } from '../core/secret-ref.js';
import { MAX_SECRET_BYTES, type BackendContext } from './backend-context.js';

/**
 * Reads a secret file (a symlink is followed, as Kubernetes and Docker mount
 * secrets). Others being able to read it is worth a warning, not a refusal:
 * the operator may have reasons (a shared group) we cannot see.
 */
export async function readFileSecret(ref: Extract<SecretRef, { backend: 'file' }>, ctx: BackendContext): Promise<string> {
  const path = resolve(ctx.cwd, ref.path);
  try {
    const info = await stat(path);
    if (!info.isFile()) throw invalid(`${path} is not a regular file`);
    if (info.size > MAX_SECRET_BYTES) throw invalid(`${path} is larger than ${MAX_SECRET_BYTES} bytes: that is no single secret`);
    if ((info.mode & 0o077) !== 0) {
      ctx.warn(`${path} is readable by group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); chmod 600 it`);
    }
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`${path} does not exist`);
    if (code === 'EACCES') throw invalid(`${path} cannot be read (permission denied)`);
    if (code === 'ENOTDIR') throw invalid(`${path} does not exist (a parent is not a directory)`);
    throw err;
  }
}
