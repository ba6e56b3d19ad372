/**
 * Lines the browser can run without a host: a built-in scenario, or one with retrofit steps
 * applied, named `<scenario>+<step>+…` (e.g. `steel-ball-before+automatic-pouring`; the line
 * built gets the id `steel-ball-before-automatic-pouring`, as in the host's reports). The steps
 * are the bundled files of scenarios/retrofits/, applied by the same pure code the host uses
 * (sim/line/retrofit.ts), so the page runs the very line `twinline compare --retrofit` and the
 * lessons predict.
 */
import { TwinlineError } from '../../../sim/core/errors.ts';
import { parseScenario } from '../../../sim/line/parse.ts';
import { applyRetrofits, scenarioRecord } from '../../../sim/line/retrofit.ts';
import { parseRetrofit, type RetrofitStep } from '../../../sim/line/retrofit-schema.ts';
import { SCENARIOS, scenarioFile } from './scenarios.ts';

const files = import.meta.glob<string>('../../../scenarios/retrofits/*.yaml', { query: '?raw', import: 'default', eager: true });

/** Retrofit step id → file text (the bundled scenarios/retrofits/). */
export const RETROFITS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(files).map(([path, text]) => [path.slice(path.lastIndexOf('/') + 1, -'.yaml'.length), text]),
);

/** A line ready for a worker: its id, scenario text and the file name it loads under. */
export interface LineText {
  id: string;
  text: string;
  file: string;
}

/** `<scenario>` or `<scenario>+<step>+…` split into the baseline and the steps. */
function split(key: string): { base: string; steps: string[] } {
  const [base = '', ...steps] = key.split('+');
  return { base, steps };
}

function step(id: string): RetrofitStep {
  const text = RETROFITS[id];
  if (text === undefined) throw new TwinlineError('USAGE', `unknown retrofit step "${id.slice(0, 100)}"; steps: ${Object.keys(RETROFITS).join(', ')}`);
  return parseRetrofit(text, `scenarios/retrofits/${id}.yaml`);
}

/**
 * The line `key` names: a built-in scenario, or one with retrofit steps applied in order.
 * Throws naming what is unknown (with what is known) or the step that does not apply.
 */
export function lineText(key: string): LineText {
  const { base, steps } = split(key);
  const text = SCENARIOS[base];
  if (text === undefined) throw new TwinlineError('USAGE', `unknown scenario "${base.slice(0, 100)}"; scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
  const file = scenarioFile(base);
  if (steps.length === 0) return { id: base, text, file };
  const built = applyRetrofits(scenarioRecord(text), parseScenario(text, file), steps.map(step));
  return { id: built.spec.id, text: built.text, file: built.spec.file };
}

/** The retrofit steps that apply to built-in scenario `base`, each as the line it makes (`<base>+<step>`). */
export function retrofittedLines(base: string): string[] {
  return Object.keys(RETROFITS).map((s) => `${base}+${s}`).filter((key) => {
    try {
      lineText(key);
      return true;
    } catch {
      return false;
    }
  });
}

/** The address of the side-by-side page of `before` and `after` in language `lang` (ComparePage). */
export function compareHref(before: string, after: string, lang: string): string {
  return `?mode=compare&before=${encodeURIComponent(before)}&after=${encodeURIComponent(after)}&lang=${lang}`;
}

/** The built-in pair a scenario belongs to (`x-before` and `x-after`), or null. */
export function builtInPair(id: string): [string, string] | null {
  const stem = id.replace(/-(before|after)$/, '');
  const pair: [string, string] = [`${stem}-before`, `${stem}-after`];
  return stem !== id && pair.every((p) => SCENARIOS[p] !== undefined) ? pair : null;
}
