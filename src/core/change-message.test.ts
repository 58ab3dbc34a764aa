import { describe, expect, it } from 'vitest';
import { formatChange, parseChange, type Change } from './change-message.js';

describe('change messages', () => {
  it('round-trips every kind', () => {
    const changes: Change[] = [{ kind: 'store' }, { kind: 'keys' }, { kind: 'upstream', repositories: ['acme/app', 'acme/db'] }];
    for (const change of changes) expect(parseChange(formatChange(change))).toEqual(change);
  });

  it('ignores anything that is not a change', () => {
    for (const message of ['', 'not json', 'null', '42', '"store"', '{}', '{"kind":"drop-everything"}', '{"kind":"upstream"}', '{"kind":"upstream","repositories":"acme/app"}', '{"kind":"upstream","repositories":[1]}', '{"kind":"upstream","repositories":[""]}']) {
      expect(parseChange(message), message).toBeUndefined();
    }
    expect(parseChange(JSON.stringify({ kind: 'upstream', repositories: Array.from({ length: 1001 }, (_, i) => `r${i}`) }))).toBeUndefined();
  });

  it('keeps only the fields it knows', () => {
    expect(parseChange('{"kind":"store","extra":{"a":1}}')).toEqual({ kind: 'store' });
  });
});
