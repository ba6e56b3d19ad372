/** The home folder of a Twinline installation: accounts, PKI, broker state and run records. */
import { join, resolve } from 'node:path';

/** The home folder: `--home`, else $TWINLINE_HOME, else `./.twinline`. */
export function homeDir(flag: string | undefined): string {
  return resolve(flag ?? process.env.TWINLINE_HOME ?? join(process.cwd(), '.twinline'));
}
