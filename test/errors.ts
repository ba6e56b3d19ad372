/** The message of the TwinlineError a call throws, for tests of bad input. */
import { expect } from 'vitest';
import { TwinlineError } from '../sim/core/errors.ts';

/** The message of the TwinlineError `f` throws; fails the test when it throws none or another. */
export function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(TwinlineError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}
