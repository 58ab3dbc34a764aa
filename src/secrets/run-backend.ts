import { execFile, type ExecFileException } from 'node:child_process';
import { invalid } from '../core/errors.js';
import { MAX_SECRET_BYTES, type BackendContext } from './backend-context.js';

const STDERR_LINES = 3;
const STDERR_CHARS = 300;

/**
 * Runs a backend's command without a shell and returns what it printed. A
 * failed command never decrypted anything, so its stderr (a few lines of it)
 * goes into the error to say why; the stdout of a failed run is dropped
 * unread, since part of a secret could be in it.
 */
export function runBackend(command: string, args: readonly string[], ctx: BackendContext): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { env: ctx.env, cwd: ctx.cwd, timeout: ctx.timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_SECRET_BYTES, encoding: 'utf8', windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) {
          if (stdout.trim() === '') reject(invalid(`${command} printed nothing`));
          else resolve(stdout);
          return;
        }
        reject(invalid(describeFailure(command, err, stderr, ctx.timeoutMs)));
      },
    );
    // A backend that waits for input (a passphrase prompt) would otherwise hang until the timeout.
    child.stdin?.end();
  });
}

function describeFailure(command: string, err: ExecFileException, stderr: string, timeoutMs: number): string {
  if (err.code === 'ENOENT') return `${command} is not installed (not found on PATH)`;
  if (err.code === 'EACCES') return `${command} cannot be run (permission denied)`;
  if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return `${command} printed more than ${MAX_SECRET_BYTES} bytes: that is no single secret`;
  if (err.killed) return `${command} did not finish within ${timeoutMs / 1000} s (is it waiting for a passphrase? it must decrypt without a prompt)`;
  // err.message repeats the command line and all of stderr; only the parts below are shown.
  const how = typeof err.code === 'number' ? `exited with ${err.code}` : err.signal ? `was killed by ${err.signal}` : `failed${typeof err.code === 'string' ? ` (${err.code})` : ''}`;
  const said = stderrTail(stderr);
  return said === '' ? `${command} ${how}` : `${command} ${how}: ${said}`;
}

/** The last lines of stderr on one line: a CLI error is one line. */
function stderrTail(stderr: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = stderr.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const tail = lines.slice(-STDERR_LINES).join(' | ');
  return tail.length > STDERR_CHARS ? `…${tail.slice(-STDERR_CHARS)}` : tail;
}
