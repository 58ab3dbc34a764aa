import type { FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError } from '../core/errors.js';
import type { Token } from '../core/model.js';
import type { Runtime } from '../runtime.js';

/** The authenticating surfaces, as the portcullis_rate_limited_total label names them. */
export type LimitedSurface = 'v2' | 'token' | 'api' | 'metrics';
type LimitKind = 'token' | 'lockout' | 'account';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when a limit refused the request, for portcullis_rate_limited_total (request-metrics.ts). */
    rateLimited?: { surface: LimitedSurface; kind: LimitKind };
  }
}

function refuse(request: FastifyRequest, reply: FastifyReply, surface: LimitedSurface, kind: LimitKind, retryAfter: number, message: string): PortcullisError {
  request.rateLimited = { surface, kind };
  request.log.info({ limit: kind, retryAfter }, 'rate limited');
  reply.header('retry-after', String(retryAfter));
  return new PortcullisError('rate_limited', message);
}

/**
 * Throws rate_limited while the client's address is locked out. Called before
 * any credential is read, so the answer is the same whatever was sent: it
 * tells nothing about which usernames exist, nor whether a secret was right.
 */
export async function refuseLockedOut(runtime: Runtime, request: FastifyRequest, reply: FastifyReply, surface: LimitedSurface): Promise<void> {
  const retryAfter = await runtime.rateLimits.lockedOut(request.ip, runtime.now());
  if (retryAfter !== undefined) {
    throw refuse(request, reply, surface, 'lockout', retryAfter, `too many failed logins from this address: try again in ${retryAfter} seconds`);
  }
}

/** A username and secret were presented and refused. JWTs and refresh tokens are not counted: they cannot be guessed, and expired ones are routine. */
export async function noteFailedLogin(runtime: Runtime, request: FastifyRequest): Promise<void> {
  await runtime.rateLimits.failedLogin(request.ip, runtime.now());
}

/**
 * Runs a step that checks something a client could be guessing (a password,
 * an invitation token); when it fails the way a wrong guess fails, `note`
 * counts that against the lockouts before the error goes on to the client.
 */
export async function countingFailures<T>(step: () => Promise<T>, isWrongGuess: (err: PortcullisError) => boolean, note: () => Promise<void>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof PortcullisError && isWrongGuess(err)) await note();
    throw err;
  }
}

/**
 * Throws rate_limited while logins naming this account (a normalized e-mail
 * address) are refused after too many failures. Checked before the password,
 * and the same whether or not the account exists.
 */
export async function refuseAccountLockedOut(runtime: Runtime, request: FastifyRequest, reply: FastifyReply, account: string): Promise<void> {
  const retryAfter = await runtime.rateLimits.accountLockedOut(account, runtime.now());
  if (retryAfter !== undefined) {
    throw refuse(request, reply, 'api', 'account', retryAfter, `too many failed logins for this e-mail address: try again in ${retryAfter} seconds`);
  }
}

/** A dashboard password was refused: counted for the client's address and for the account it named. */
export async function noteFailedAccountLogin(runtime: Runtime, request: FastifyRequest, account: string): Promise<void> {
  await noteFailedLogin(runtime, request);
  await runtime.rateLimits.failedAccountLogin(account, runtime.now());
}

/**
 * Counts one request of an authenticated token and sets the X-RateLimit-*
 * headers (Reset: seconds until the window ends); throws rate_limited once the
 * token's budget for the window is spent.
 */
export async function countTokenRequest(runtime: Runtime, request: FastifyRequest, reply: FastifyReply, surface: LimitedSurface, token: Token): Promise<void> {
  const verdict = await runtime.rateLimits.countRequest(token, runtime.now());
  reply.headers({
    'x-ratelimit-limit': String(verdict.limit),
    'x-ratelimit-remaining': String(verdict.remaining),
    'x-ratelimit-reset': String(verdict.resetSeconds),
  });
  if (!verdict.allowed) {
    throw refuse(request, reply, surface, 'token', verdict.resetSeconds, `rate limit of ${verdict.limit} requests per hour reached: try again in ${verdict.resetSeconds} seconds`);
  }
}
