/**
 * The retrofit steps on disk (`scenarios/retrofits/<id>.yaml`) and the after line built from a
 * baseline and a `--retrofit a,b,…` list. Unknown steps are usage errors that name the closest
 * step and list the ones there are.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TwinlineError } from '../core/errors.ts';
import { closest } from '../line/locate.ts';
import { applyRetrofits, scenarioRecord, type RetrofitBuild } from '../line/retrofit.ts';
import { parseRetrofit, type RetrofitStep } from '../line/retrofit-schema.ts';
import type { LineSpec } from '../line/types.ts';

/** The built-in retrofit steps. */
export const RETROFITS_DIR = fileURLToPath(new URL('../../scenarios/retrofits/', import.meta.url));

/** Ids of the YAML files in `dir` (file names without `.yaml`), sorted; none when there is no such folder. */
export function yamlIds(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
  } catch {
    return [];
  }
}

/** Ids of the retrofit steps in `dir`. */
export function retrofitIds(dir = RETROFITS_DIR): string[] {
  return yamlIds(dir);
}

/** Reads `<dir>/<id>.yaml`; an unknown id is a usage error with "did you mean" and the ids there are. */
export function readNamed(id: string, dir: string, what: string): { file: string; text: string } {
  const ids = yamlIds(dir);
  if (!ids.includes(id)) {
    const near = closest(id, ids);
    throw new TwinlineError('USAGE', `unknown ${what} "${id}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; ${what}s: ${ids.join(', ')}`);
  }
  const file = join(dir, `${id}.yaml`);
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (e) {
    throw new TwinlineError('IO', `cannot read the ${what} (${(e as { code?: string }).code ?? String(e)})`, { file });
  }
}

/** Loads and checks step `id` from `dir`; an unknown id is a usage error with "did you mean". */
export function loadRetrofit(id: string, dir = RETROFITS_DIR): RetrofitStep {
  const { file, text } = readNamed(id, dir, 'retrofit step');
  return parseRetrofit(text, file);
}

/** Splits a `--retrofit a,b` list; an empty entry is a usage error. */
export function retrofitList(arg: string): string[] {
  const ids = arg.split(',').map((s) => s.trim());
  if (ids.length === 0 || ids.some((s) => s === '')) throw new TwinlineError('USAGE', `--retrofit takes step ids separated by commas, e.g. automatic-pouring,robot-handling; got "${arg}"`);
  return ids;
}

/** The after line: the baseline (`text`, loaded as `base`) with the steps `ids` applied in order. */
export function buildRetrofit(text: string, base: LineSpec, ids: readonly string[], dir = RETROFITS_DIR): RetrofitBuild & { steps: RetrofitStep[] } {
  const steps = ids.map((id) => loadRetrofit(id, dir));
  return { ...applyRetrofits(scenarioRecord(text), base, steps), steps };
}
