/**
 * A scenario as a baseline plus retrofit steps. `applyRetrofits` takes the baseline's record
 * (the scenario file as data, migrated to the current version) and steps (retrofit-schema.ts)
 * and returns the after line: each step in turn changes the stations it matches (kind,
 * name, parameters, the systems around them) and the crews (stations whose manual task is
 * gone leave the crews' areas, repairs handed to a crew, sizes), and the result is checked by
 * the scenario loader as a file would be, so a step that makes an invalid line is reported
 * naming the step. Pure: no file access; the host reads the files.
 *
 * A step applies to a line when its `appliesTo` matches at least one station, and each of its
 * changes matches at least one; otherwise the step is an error for that line (a vision step
 * on a line without manual inspection would silently change nothing).
 */
import { TwinlineError, type Problem } from '../core/errors.ts';
import { machineKind } from '../machines/index.ts';
import { parseDocument } from 'yaml';
import { isRec, migrate, versionOf, type Rec } from './migrate.ts';
import { parseScenario } from './parse.ts';
import { fieldOf } from './resolve.ts';
import type { RetrofitSelector, RetrofitStep } from './retrofit-schema.ts';
import type { LineSpec, StationSpec } from './types.ts';
import { toFieldUnit } from './units.ts';

/** The after line built from a baseline and steps. */
export interface RetrofitBuild {
  /** the after scenario as a record (what a file with it would hold) */
  doc: Rec;
  /** the same as scenario text (JSON, which the YAML loader reads), for workers */
  text: string;
  /** the loaded after line; its id is `<baseline>+<step>+…` */
  spec: LineSpec;
  /** the steps applied, in order, with the stations each changed */
  applied: { id: string; stations: string[] }[];
}

const clone = <T>(x: T): T => structuredClone(x);

/**
 * The baseline as a record to apply steps to: the scenario text (already loaded without
 * problems by `parseScenario`) as data, migrated to the current version.
 */
export function scenarioRecord(text: string): Rec {
  const raw: unknown = parseDocument(text).toJS({ maxAliasCount: 1000 });
  if (!isRec(raw)) throw new TwinlineError('SCENARIO_SCHEMA', 'a scenario is a mapping');
  const v = versionOf(raw);
  return migrate(raw, typeof v === 'number' ? v : 0).doc;
}

/** Comparisons a `where` condition may make (retrofit-schema.ts), with their signs for messages. */
const WHERE_OPS = { gt: '>', ge: '≥', lt: '<', le: '≤', ne: '≠' } as const;

/** Whether `have` stands in relation `op` to `bound` (equal within a relative 1e-9). */
function holds(have: number, op: 'eq' | keyof typeof WHERE_OPS, bound: number): boolean {
  const equal = Math.abs(have - bound) <= 1e-9 * Math.max(1, Math.abs(bound));
  switch (op) {
    case 'eq': return equal;
    case 'ne': return !equal;
    case 'gt': return have > bound && !equal;
    case 'ge': return have > bound || equal;
    case 'lt': return have < bound && !equal;
    case 'le': return have < bound || equal;
  }
}

/** Why `st` does not match `sel`, or null when it does (parameters compared in the field's unit). */
function mismatch(st: StationSpec, sel: RetrofitSelector): string | null {
  if (sel.kinds !== undefined && !sel.kinds.includes(st.kind)) return 'kind';
  if (sel.stations !== undefined && !sel.stations.includes(st.id)) return 'id';
  const kind = machineKind(st.kind);
  for (const [name, want] of Object.entries(sel.where ?? {})) {
    const f = kind === undefined ? undefined : fieldOf(kind, name);
    const have = st.params[name] ?? f?.default;
    if (have === undefined) return name;
    const tests = typeof want === 'object' ? Object.entries(want) as [keyof typeof WHERE_OPS, number | string | undefined][] : [['eq', want] as const];
    for (const [op, bound] of tests) {
      if (bound === undefined) continue;
      const c = toFieldUnit(bound, f?.unit ?? '', f?.interval === true);
      if (!c.ok || !holds(have, op, c.value)) return name;
    }
  }
  return null;
}

/** Stations of `spec` that `sel` matches, in line order. */
export function matchStations(spec: LineSpec, sel: RetrofitSelector): StationSpec[] {
  return spec.stations.filter((s) => mismatch(s, sel) === null);
}

/** `sel` in words, for messages: "kinds manual-inspection, where automatic = 0". */
export function describeSelector(sel: RetrofitSelector): string {
  const parts: string[] = [];
  if (sel.kinds !== undefined) parts.push(`kind ${sel.kinds.join(' or ')}`);
  if (sel.stations !== undefined) parts.push(`station ${sel.stations.join(' or ')}`);
  for (const [k, v] of Object.entries(sel.where ?? {})) {
    if (typeof v !== 'object') parts.push(`${k} = ${String(v)}`);
    else for (const [op, b] of Object.entries(v)) if (b !== undefined) parts.push(`${k} ${WHERE_OPS[op as keyof typeof WHERE_OPS]} ${String(b)}`);
  }
  return parts.join(', ');
}

/** A step that does not fit a line: a usage error naming what the step looked for and did not find. */
export class StepNotApplicable extends TwinlineError {}

function notApplicable(step: RetrofitStep, spec: LineSpec, what: string): TwinlineError {
  return new StepNotApplicable('USAGE', `retrofit step "${step.id}" does not apply to ${spec.id}: ${what}`, { file: step.file });
}

/** One step on the record `doc` of the line `spec`; returns the new record and the stations changed. */
function applyStep(doc: Rec, spec: LineSpec, step: RetrofitStep): { doc: Rec; stations: string[] } {
  if (matchStations(spec, step.appliesTo).length === 0) {
    throw notApplicable(step, spec, `no station has ${describeSelector(step.appliesTo)} (appliesTo)`);
  }
  const out = clone(doc);
  const list = (Array.isArray(out.stations) ? out.stations : []) as Rec[];
  const changed = new Set<string>();
  step.changes.forEach((c, k) => {
    const sel = c.at ?? step.appliesTo;
    const hits = matchStations(spec, sel);
    if (hits.length === 0) throw notApplicable(step, spec, `changes[${k}] finds no station with ${describeSelector(sel)}`);
    for (const st of hits) {
      const rec = list.find((r) => r.id === st.id);
      if (rec === undefined) continue;
      changed.add(st.id);
      // a new kind has other parameters: the step gives them all; otherwise they are merged
      const params: Rec = c.kind !== undefined ? {} : isRec(rec.params) ? { ...rec.params } : {};
      for (const name of c.unset ?? []) delete params[name];
      if (c.kind !== undefined) rec.kind = c.kind;
      rec.params = { ...params, ...(c.params ?? {}) };
      if (c.name !== undefined) rec.name = { ...c.name };
      if (c.systems !== undefined) rec.systems = [...new Set([...(Array.isArray(rec.systems) ? (rec.systems as unknown[]).map(String) : []), ...c.systems])];
    }
  });
  const ids = [...changed];
  if (Array.isArray(out.crews)) out.crews = crewChanges(out.crews as Rec[], ids, spec, step);
  return { doc: out, stations: ids };
}

const areaStation = (a: unknown): unknown => (isRec(a) ? a.station : a);

/** The crews after a step: released stations leave the areas, repairs handed over, sizes changed. */
function crewChanges(crews: Rec[], changed: readonly string[], spec: LineSpec, step: RetrofitStep): Rec[] {
  const c = step.crews ?? {};
  let out = crews.map((x) => ({ ...x }));
  if (c.release === true) {
    out = out
      .map((x) => ({ ...x, stations: (Array.isArray(x.stations) ? x.stations : []).filter((a: unknown) => !changed.includes(String(areaStation(a)))) }))
      .filter((x) => x.stations.length > 0);
  }
  if (c.repairsBy !== undefined) {
    const by = new Set(matchStations(spec, c.repairsBy).map((s) => s.id));
    const crew = out.find((x) => (x.stations as unknown[]).some((a) => by.has(String(areaStation(a)))));
    if (crew === undefined) throw notApplicable(step, spec, `no crew works at a station with ${describeSelector(c.repairsBy)} to take the repairs (crews.repairsBy)`);
    const area = crew.stations as unknown[];
    for (const id of changed) if (!area.some((a) => areaStation(a) === id)) area.push(id);
  }
  for (const r of c.resize ?? []) {
    const crew = out.find((x) => x.id === r.crew);
    if (crew === undefined) throw notApplicable(step, spec, `it resizes crew "${r.crew}", which the line does not have (crews.resize)`);
    crew.size = r.size;
  }
  return out;
}

/** Problems of the after line, named as the step's: the loader checked a record the step made. */
function blame(e: unknown, step: RetrofitStep, base: LineSpec): never {
  if (!(e instanceof TwinlineError)) throw e;
  const problems: Problem[] = e.problems.map((p) => ({
    code: p.code,
    message: `retrofit step "${step.id}" on ${base.id} makes an invalid line: ${p.where.path !== undefined && p.where.path !== '' ? `${p.where.path}: ` : ''}${p.message}`,
    where: { file: step.file },
  }));
  throw TwinlineError.of(problems);
}

/**
 * The after line: `steps` applied in order to the baseline record `doc` (its loaded form
 * `base`). The result compares with the baseline (variant after, compareWith the baseline's id).
 * Throws a usage error naming the step when one does not apply, a step listed twice, or what
 * the loader finds wrong with the line a step made.
 */
export function applyRetrofits(doc: Rec, base: LineSpec, steps: readonly RetrofitStep[]): RetrofitBuild {
  if (steps.length === 0) throw new TwinlineError('USAGE', 'no retrofit steps given');
  const seen = new Set<string>();
  for (const s of steps) {
    if (seen.has(s.id)) throw new TwinlineError('USAGE', `retrofit step "${s.id}" is listed twice`);
    seen.add(s.id);
  }
  let cur = clone(doc);
  let spec = base;
  const applied: RetrofitBuild['applied'] = [];
  const file = `${base.file} + ${steps.map((s) => s.id).join(' + ')}`;
  for (const step of steps) {
    const r = applyStep(cur, spec, step);
    cur = r.doc;
    applied.push({ id: step.id, stations: r.stations });
    try {
      spec = parseScenario(JSON.stringify(cur), file);
    } catch (e) {
      blame(e, step, base);
    }
  }
  const id = `${base.id}+${steps.map((s) => s.id).join('+')}`;
  // the record keeps a valid kebab-case id; the loaded line carries the display id
  cur.id = `${base.id}-${steps.map((s) => s.id).join('-')}`.slice(0, 200);
  cur.variant = 'after';
  cur.compareWith = base.id;
  const words = (lang: 'en' | 'zh'): string => steps.map((s) => s.title[lang]).join(lang === 'en' ? ' + ' : '＋');
  cur.title = { en: `${base.title.en} + ${words('en')}`, zh: `${base.title.zh}＋${words('zh')}` };
  const text = JSON.stringify(cur);
  spec = { ...parseScenario(text, file), id };
  return { doc: cur, text, spec, applied };
}
