/** Reading a file the user named (a range, profile, prices or exercise file). */
import { readFileSync } from 'node:fs';
import { TwinlineError } from '../core/errors.ts';

/** The text of `file`, `what` it is ("range file"); a TwinlineError naming it when it cannot be read. */
export function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new TwinlineError('IO', `cannot read the ${what} (${(e as { code?: string }).code ?? String(e)})`, { file });
  }
}
