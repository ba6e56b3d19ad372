/**
 * Where the programs the tests drive are: found as bin/check-prereqs.mjs finds them (which
 * `npm test` runs first and which names the package of a missing one): $PATH, then Debian's
 * sbin folders; Chromium also by $CHROMIUM_PATH. Node-RED lives in a tools folder of its own.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const executable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The program's path, or `fallback` (where Debian puts it) when it is nowhere to be found. */
export function findTool(name: string, fallback: string): string {
  if (name === 'chromium' && process.env.CHROMIUM_PATH !== undefined && process.env.CHROMIUM_PATH !== '') return process.env.CHROMIUM_PATH;
  for (const dir of [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...SBIN]) {
    if (executable(join(dir, name))) return join(dir, name);
  }
  return fallback;
}

/**
 * Node-RED with node-red-contrib-opcua, installed from the npm registry into a tools folder
 * outside the project's dependencies ($TWINLINE_TOOLS, default ~/.cache/twinline-tools; see
 * bin/check-prereqs.mjs, which installs it under CI=true): the path of its `red.js`, or null.
 */
export function findNodeRed(): string | null {
  const base = process.env.TWINLINE_TOOLS !== undefined && process.env.TWINLINE_TOOLS !== '' ? process.env.TWINLINE_TOOLS : join(homedir(), '.cache', 'twinline-tools');
  const modules = join(base, 'node-red', 'node_modules');
  const red = join(modules, 'node-red', 'red.js');
  return existsSync(red) && existsSync(join(modules, 'node-red-contrib-opcua', 'package.json')) ? red : null;
}
