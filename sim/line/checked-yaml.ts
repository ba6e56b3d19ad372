/**
 * A small YAML file checked against a zod schema (retrofit steps, lessons, prices), every
 * problem reported with file:line:col and path, as scenario files are: YAML syntax first, then
 * the schema's issues located on the key or value they are about.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { TwinlineError } from '../core/errors.ts';
import { describeValue, ProblemList } from './locate.ts';
import { isRec } from './migrate.ts';

/** A checked file: its data, and the problem list (positions in the file) for checks that come after the schema. */
export interface CheckedYaml<T> {
  data: T;
  problems: ProblemList;
}

export interface CheckedYamlOptions {
  /** what a valid file is, for a file that is not a mapping, e.g. "a retrofit step is a mapping with keys version, id …" */
  shape: string;
  /** an empty file stands for `{}` (every key optional) */
  emptyIsEmpty?: boolean;
  /** appended to `unknown key "k"`, e.g. the keys there are */
  unknownKeyHint?: string;
}

/** Parses `text` and checks it against `schema`; throws a TwinlineError naming every problem. */
export function checkedYaml<S extends z.ZodType>(text: string, file: string, schema: S, o: CheckedYamlOptions): CheckedYaml<z.output<S>> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const problems = new ProblemList(file, doc, lc);
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    problems.addAt('SCENARIO_SYNTAX', `YAML: ${e.message.split('\n')[0] ?? e.message}`, pos?.line ?? 1, pos?.col ?? 1);
  }
  if (problems.items.length > 0) throw TwinlineError.of(problems.items);
  const js: unknown = doc.toJS({ maxAliasCount: 100 });
  const raw = js ?? (o.emptyIsEmpty === true ? {} : js);
  if (!isRec(raw)) throw new TwinlineError('SCENARIO_SCHEMA', `${o.shape}; got ${describeValue(raw)}`, { file });
  const checked = schema.safeParse(raw);
  if (checked.success) return { data: checked.data, problems };
  for (const issue of checked.error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) problems.add('SCENARIO_SCHEMA', `unknown key "${k}"${o.unknownKeyHint === undefined ? '' : `; ${o.unknownKeyHint}`}`, [...path, k], 'key');
    } else if (issue.code === 'too_small' && typeof issue.minimum !== 'bigint' && issue.origin === 'number') {
      problems.add('OUT_OF_RANGE', `must be ${issue.inclusive === false ? 'above' : 'at least'} ${String(issue.minimum)}`, path);
    } else if (issue.code === 'too_big' && typeof issue.maximum !== 'bigint' && issue.origin === 'number') {
      problems.add('OUT_OF_RANGE', `must be at most ${String(issue.maximum)}`, path);
    } else {
      problems.add('SCENARIO_SCHEMA', issue.message.replace(/^Invalid input: (?=expected)/, ''), path);
    }
  }
  throw TwinlineError.of(problems.sorted());
}

/** Checks that a file's `id` is its name without `.yaml`; adds the problem at `id`. */
export function idMatchesFile(id: string, file: string, what: string, problems: ProblemList): void {
  const base = file.replace(/\\/g, '/').split('/').pop() ?? file;
  if (base.replace(/\.ya?ml$/, '') !== id) problems.add('SCENARIO_SCHEMA', `the ${what} id "${id}" must be the file name without .yaml ("${base}")`, ['id']);
}
