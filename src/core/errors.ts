/**
 * Domain errors carry a stable code and a message that is safe to show.
 * They never pick a transport status: the edges (HTTP, CLI) map codes through
 * their own catalogue.
 */
export type ErrorCode =
  | 'invalid_input' // bad value given by the caller (flag, param, body, config)
  | 'not_found' // object does not exist for this caller
  | 'conflict' // object exists, or the change clashes with current state
  | 'unauthenticated' // missing or bad credentials (never says which)
  | 'denied' // authenticated, not allowed
  | 'csrf_failed' // a write authenticated by the session cookie lacks its X-CSRF-Token
  | 'unsupported_media' // a body of a type the route does not take
  | 'rate_limited' // over the token's request budget, or the address is locked out after failed logins
  | 'unavailable'; // a dependency could not be reached

export class PortcullisError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The input that was wrong, e.g. a flag name, a config key or a body field. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PortcullisError';
  }
}

export function invalid(message: string, field?: string): PortcullisError {
  return new PortcullisError('invalid_input', message, field);
}

export function notFound(message: string): PortcullisError {
  return new PortcullisError('not_found', message);
}

export function conflict(message: string): PortcullisError {
  return new PortcullisError('conflict', message);
}
