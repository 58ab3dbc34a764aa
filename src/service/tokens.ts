import { invalid, notFound } from '../core/errors.js';
import { parseExpiry } from '../core/expiry.js';
import type { Token, TokenStatus } from '../core/model.js';
import { TOKEN_STATUSES } from '../core/model.js';
import { nextTokenStatus, type TokenAction } from '../core/status.js';
import { parseWholeNumber, validateName } from '../core/text.js';
import { newSecret, newUsername, parseUsername, type TokenType } from '../core/token-format.js';
import { authorize, authorizeMint } from '../core/operations.js';
import { CUSTOMER_SCOPES, DEFAULT_VENDOR_SCOPES, parseScopeList } from '../core/vendor-scopes.js';
import { hashSecret } from '../auth/secret-hash.js';
import { audit, type Caller, type ServiceDeps } from './context.js';
import { resolveCustomer } from './customers.js';

export interface TokenInput {
  type: string;
  customer?: string;
  name: string;
  scopes?: string | readonly string[];
  /** A duration (`30d`), a date or timestamp; empty, `0` or `never`: no expiry. */
  expires?: string;
  /** Requests per hour; empty: the configured default. */
  rateLimit?: number | string | null;
}

export interface CreatedToken {
  token: Token;
  /** Shown once, here, and never again: only its HMAC is stored. */
  secret: string;
}

/** What a token's status means right now: an active token past its expiry is expired. */
export type TokenState = TokenStatus | 'expired';
export const TOKEN_STATES: readonly TokenState[] = [...TOKEN_STATUSES, 'expired'];

export function tokenState(token: Token, now: Date): TokenState {
  if (token.status === 'active' && token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return 'expired';
  return token.status;
}

export function parseTokenType(value: string): TokenType {
  if (value === 'vendor' || value === 'customer') return value;
  throw invalid(`unknown token type "${value}": expected vendor or customer`, 'type');
}

export function parseRateLimit(value: number | string | null | undefined): number | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string') return parseWholeNumber(value, 'rate limit', { min: 1, max: 100_000_000 }, 'rate_limit');
  if (!Number.isInteger(value) || value < 1 || value > 100_000_000) {
    throw invalid(`rate limit must be a whole number of requests per hour from 1 to 100000000, got ${value}`, 'rate_limit');
  }
  return value;
}

export async function createToken(deps: ServiceDeps, caller: Caller, input: TokenInput): Promise<CreatedToken> {
  const now = deps.now();
  const type = parseTokenType(input.type);
  const name = validateName(input.name, 'name');
  const expiresAt = parseExpiry(input.expires ?? '', now, 'expires');
  const rateLimit = parseRateLimit(input.rateLimit);
  const given = input.scopes === undefined ? [] : parseScopeList(input.scopes);
  let scopes: string[];
  if (type === 'vendor') {
    if (input.customer) throw invalid('vendor tokens belong to the vendor, not to a customer: drop --customer or use --type customer', 'customer');
    scopes = given.length > 0 ? given : [...DEFAULT_VENDOR_SCOPES];
  } else {
    if (!input.customer) throw invalid('customer tokens need a customer (--customer ID or name)', 'customer');
    if (given.some((s) => !CUSTOMER_SCOPES.includes(s))) throw invalid('customer tokens are pull-only: the only scope they take is pull', 'scopes');
    scopes = [...CUSTOMER_SCOPES];
  }
  authorizeMint(caller.authority, type, scopes);
  const secret = newSecret(deps.random);
  return deps.store.transaction(async (tx) => {
    const customer = type === 'customer' ? await resolveCustomer(tx, caller.vendorId, input.customer!) : null;
    const token: Token = {
      id: newUsername(type, deps.random),
      type,
      vendorId: caller.vendorId,
      customerId: customer?.id ?? null,
      name,
      scopes,
      status: 'active',
      expiresAt,
      rateLimit,
      lastUsedAt: null,
      lastUsedIp: null,
      createdBy: caller.actor.name,
      createdAt: now,
      updatedAt: now,
    };
    await tx.insertToken({ ...token, secretHash: hashSecret(deps.pepper, secret) });
    await audit(tx, deps, caller, now, {
      action: 'token.create',
      objectType: 'token',
      objectId: token.id,
      detail: { type, name, customer: token.customerId, scopes, expires_at: expiresAt?.toISOString() ?? null, rate_limit: rateLimit },
    });
    return { token, secret };
  });
}


function requireUsername(id: string): string {
  if (!parseUsername(id)) throw invalid(`"${id}" is not a token username (vtok_… or ctok_… followed by 16 characters)`, 'id');
  return id;
}

export async function getToken(deps: ServiceDeps, caller: Caller, id: string): Promise<Token> {
  authorize(caller.authority, 'tokens.read');
  const token = await deps.store.getToken(caller.vendorId, requireUsername(id));
  if (!token) throw notFound(`token ${id} not found`);
  return token;
}

export interface TokenListFilter {
  type?: string;
  customer?: string;
  status?: string;
}

export async function listTokens(deps: ServiceDeps, caller: Caller, filter: TokenListFilter = {}): Promise<Token[]> {
  authorize(caller.authority, 'tokens.read');
  const type = filter.type ? parseTokenType(filter.type) : undefined;
  const state = filter.status as TokenState | undefined;
  if (state !== undefined && !TOKEN_STATES.includes(state)) {
    throw invalid(`unknown token status "${filter.status}": expected ${TOKEN_STATES.join(', ')}`, 'status');
  }
  const customerId = filter.customer ? (await resolveCustomer(deps.store, caller.vendorId, filter.customer, true)).id : undefined;
  const storeStatus = state === 'expired' ? 'active' : state;
  const tokens = await deps.store.listTokens(caller.vendorId, { type, customerId, status: storeStatus });
  if (state === undefined) return tokens;
  const now = deps.now();
  return tokens.filter((t) => tokenState(t, now) === state);
}

export async function changeTokenStatus(deps: ServiceDeps, caller: Caller, id: string, action: TokenAction): Promise<Token> {
  authorize(caller.authority, 'tokens.change');
  requireUsername(id);
  const now = deps.now();
  return deps.store.transaction(async (tx) => {
    const token = await tx.getToken(caller.vendorId, id);
    if (!token) throw notFound(`token ${id} not found`);
    // A narrow caller neither ends nor revives a token stronger than itself (an admin touches no owner's token).
    authorizeMint(caller.authority, token.type, token.scopes);
    const next = nextTokenStatus(token.status, action, id);
    if (next === undefined) return token;
    await tx.setTokenStatus(caller.vendorId, id, next, now);
    await audit(tx, deps, caller, now, { action: `token.${action}`, objectType: 'token', objectId: id, detail: { from: token.status, to: next } });
    return { ...token, status: next, updatedAt: now };
  });
}
