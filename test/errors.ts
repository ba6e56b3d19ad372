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

/**
 * A stack frame as Node prints one ("    at fn (file:line:col)" or "    at file:line:col"): a
 * command's stderr holding one crashed instead of reporting bad input. Help text may well say
 * "at most", so a bare "at" at the start of an indented line is not enough.
 */
export const STACK_FRAME = /^\s+at .*:\d+:\d+\)?$/m;
