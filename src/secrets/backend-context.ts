/** What a secrets backend may use: never the process's globals directly, so tests and callers choose. */
export interface BackendContext {
  /** Environment for env:NAME, and the one pass and sops run with (PATH, GNUPGHOME, PASSWORD_STORE_DIR, SOPS_*). */
  env: NodeJS.ProcessEnv;
  /** Relative file: and sops: paths are resolved against this, like data_dir and --config. */
  cwd: string;
  /** How long pass or sops may take before the secret counts as unavailable. */
  timeoutMs: number;
  /** A finding that does not stop start-up, such as a secret file others can read. Never given the secret. */
  warn(message: string): void;
}

/** Secrets are small; anything bigger is a wrong reference, not a key. */
export const MAX_SECRET_BYTES = 1024 * 1024;
