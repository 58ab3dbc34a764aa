/**
 * Shared pieces of the fuzz suite: input generators and the one property every
 * parser must keep. fast-check prints the seed and path of a failure; rerun it
 * with FC_SEED=<seed> (and FC_PATH=<path>) to replay exactly that case.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { PortcullisError } from '../../src/core/errors.js';

/** Replays a reported failure when FC_SEED (and FC_PATH) are set; a modest run count keeps the suite at a few seconds. */
export function fuzzParams(numRuns: number): { numRuns: number; seed?: number; path?: string } {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  return { numRuns, ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

/** UTF-16 code units, lone surrogates and control characters included: what a raw header or path may carry. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));

/** Any text: printable ASCII, any code point, any code unit, plus a few long strings. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: codeUnit, maxLength: 120 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ minLength: 1000, maxLength: 5000 }),
);

/** Text assembled from a grammar's own pieces, so the generator reaches past the first check of a parser. */
export function near(pieces: readonly string[], maxLength = 24): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...pieces), { maxLength }).map((parts) => parts.join(''));
}

/** Either kind of input, grammar-shaped more often. */
export function parserInput(pieces: readonly string[], maxLength?: number): fc.Arbitrary<string> {
  return fc.oneof({ weight: 2, arbitrary: near(pieces, maxLength) }, { weight: 1, arbitrary: anyText });
}

// Generous for a busy 2-core machine; the old RegExp globs took seconds to minutes on the pathological patterns generated here.
const TIME_BOUND_MS = 1000;
// quote() cuts user input at 80 characters: a message never echoes a whole huge input.
const MAX_MESSAGE_LENGTH = 800;

/**
 * The contract of every parser of user input: a value, or a PortcullisError
 * invalid_input with a short message; never another error, never a hang, and
 * never an Invalid Date passed off as a value.
 */
export function parsesCleanly(parse: () => unknown): void {
  const started = performance.now();
  let value: unknown;
  try {
    value = parse();
  } catch (err) {
    if (!(err instanceof PortcullisError) || err.code !== 'invalid_input') {
      throw new Error(`expected a value or PortcullisError(invalid_input), got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
    expect(err.message.length).toBeGreaterThan(0);
    expect(err.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  }
  if (value instanceof Date) expect(Number.isNaN(value.getTime()), 'returned an Invalid Date').toBe(false);
  expect(performance.now() - started).toBeLessThan(TIME_BOUND_MS);
}

/** For functions documented never to throw (they answer null or false instead). */
export function neverThrows(run: () => unknown): void {
  const started = performance.now();
  run();
  expect(performance.now() - started).toBeLessThan(TIME_BOUND_MS);
}
