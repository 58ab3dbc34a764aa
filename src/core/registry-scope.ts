import { invalid, PortcullisError } from './errors.js';
import { validateRepositoryName } from './repo-pattern.js';
import { quote } from './text.js';

/**
 * Scopes of the Docker registry token spec, as clients send them to /token:
 * `type[(class)]:name:action[,action...]`, e.g. `repository:acme/app:pull,push`
 * or `registry:catalog:*`. The name runs from the first ':' after the type to
 * the last ':'.
 */

export interface RequestedScope {
  type: string;
  resourceClass?: string;
  name: string;
  actions: string[];
}

export const MAX_SCOPE_LENGTH = 1024;
/** Far above what a client asks in one request (a push with a mount asks two). */
export const MAX_SCOPES = 64;
const FIELD = 'scope';
const HEAD_RE = /^([a-z0-9]+)(?:\(([a-zA-Z0-9]+)\))?$/;
const ACTION_RE = /^(?:[a-z]+|\*)$/;
const WHITESPACE_RE = /\s/;

export function parseScope(text: string): RequestedScope {
  const bad = (why: string) => invalid(`bad scope ${quote(text)}: ${why}`, FIELD);
  if (typeof text !== 'string' || text === '') throw bad('expected type:name:actions');
  if (text.length > MAX_SCOPE_LENGTH) throw bad(`longer than ${MAX_SCOPE_LENGTH} characters`);

  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first < 0 || last === first) throw bad('expected type:name:actions');

  const head = text.slice(0, first);
  const m = HEAD_RE.exec(head);
  if (!m) {
    const paren = head.indexOf('(');
    const type = paren < 0 ? head : head.slice(0, paren);
    if (!/^[a-z0-9]+$/.test(type)) throw bad(`bad type ${quote(type)}: expected lower-case letters and digits`);
    throw bad(`bad resource class in ${quote(head)}: expected type(class) with letters and digits`);
  }
  const type = m[1] ?? '';
  const resourceClass = m[2];

  const name = text.slice(first + 1, last);
  if (name === '') throw bad('empty name');
  if (WHITESPACE_RE.test(name)) throw bad(`name ${quote(name)} contains whitespace`);

  const actionText = text.slice(last + 1);
  if (actionText === '') throw bad('no actions, expected e.g. pull or pull,push');
  const actions: string[] = [];
  for (const action of actionText.split(',')) {
    if (action === '') throw bad(`empty action in ${quote(actionText)}`);
    if (!ACTION_RE.test(action)) throw bad(`bad action ${quote(action)}`);
    if (!actions.includes(action)) actions.push(action);
  }

  if (type === 'repository') {
    try {
      validateRepositoryName(name, FIELD);
    } catch (e) {
      if (e instanceof PortcullisError) throw bad(e.message);
      throw e;
    }
  } else if (type === 'registry') {
    if (name !== 'catalog') throw bad(`registry name ${quote(name)} must be catalog`);
    const other = actions.find((a) => a !== '*');
    if (other !== undefined) throw bad(`registry:catalog only takes the action "*", not ${quote(other)}`);
  }

  return resourceClass === undefined ? { type, name, actions } : { type, resourceClass, name, actions };
}

function scopeKey(s: RequestedScope): string {
  return `${s.type}\u0000${s.resourceClass ?? ''}\u0000${s.name}`;
}

/**
 * Parses every `scope` query value. A value may hold several scopes separated
 * by spaces (the OAuth2 form); scopes naming the same resource are merged into
 * one, with the union of their actions in first-seen order.
 */
export function parseScopeParams(values: readonly string[]): RequestedScope[] {
  const merged = new Map<string, RequestedScope>();
  for (const value of values) {
    for (const text of value.split(/\s+/)) {
      if (text === '') continue;
      const scope = parseScope(text);
      const key = scopeKey(scope);
      if (!merged.has(key) && merged.size >= MAX_SCOPES) throw invalid(`too many scopes: at most ${MAX_SCOPES} per request`, FIELD);
      const seen = merged.get(key);
      if (seen === undefined) {
        merged.set(key, scope);
      } else {
        for (const a of scope.actions) if (!seen.actions.includes(a)) seen.actions.push(a);
      }
    }
  }
  return [...merged.values()];
}

export function formatScope(s: RequestedScope): string {
  const cls = s.resourceClass === undefined ? '' : `(${s.resourceClass})`;
  return `${s.type}${cls}:${s.name}:${s.actions.join(',')}`;
}
