import { PortcullisError } from '../../src/core/errors.js';

/** The PortcullisError `fn` throws; anything else (or nothing) fails the test. */
export function errorOf(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PortcullisError) return e;
    throw e;
  }
  throw new Error('expected an error');
}
