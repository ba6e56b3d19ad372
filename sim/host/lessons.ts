/**
 * Lessons on disk (`scenarios/lessons/<id>.yaml`, format in line/lesson-schema.ts) and
 * `twinline lesson list | validate | check`.
 *
 * Loading a lesson checks what depends on the line, each problem at its file:line:col: the line
 * is a built-in scenario, every retrofit step exists and applies to the line as the earlier
 * steps left it, and every station a fault or checkpoint names is on the line at that step.
 *
 * `lesson check` plays the lesson's own steps on the twin: each step's line (the baseline with
 * the retrofit steps so far) over several seeds in one worker pool, and scores every checkpoint
 * as a trainee who did the step would be scored. A lesson is sound when every target is met at
 * its step, no target of a later step is met already at the start (it would not measure the
 * step), and the twin has an answer to every question; otherwise it exits 3 naming the
 * checkpoint.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { doesTask } from '../core/crew.ts';
import { notASource } from '../core/disturbance.ts';
import { TwinlineError } from '../core/errors.ts';
import { measuredBottleneck, type LineKpis, type StationKpis } from '../core/kpi.ts';
import { closest } from '../line/locate.ts';
import { machineKind } from '../machines/index.ts';
import { parseScenario } from '../line/parse.ts';
import { StepNotApplicable } from '../line/retrofit.ts';
import type { LineSpec } from '../line/types.ts';
import { checkpointFigure, LESSON_STATION_KPIS, parseLesson, type Checkpoint, type Lesson, type LessonFile, type LessonProblem } from '../line/lesson-schema.ts';
import { answerRight, figureOf, goalOf, targetMet, truthOf, type LessonFigures } from '../line/lesson.ts';
import { checkPeriod, runPool, type CompareRun, type Job, type PoolReport, type RunPeriod } from './compare.ts';
import { lineIndicators } from './diagnose.ts';
import { BUILTIN_SCENARIOS } from './record.ts';
import { buildRetrofit, readNamed, RETROFITS_DIR, retrofitIds, yamlIds } from './retrofits.ts';
import { renderTable } from './table.ts';

/** The built-in lessons. */
export const LESSONS_DIR = fileURLToPath(new URL('../../scenarios/lessons/', import.meta.url));

/** The line at one step of a lesson: the baseline with the retrofit steps so far. */
export interface StepLine {
  /** retrofit steps applied, in order */
  retrofits: string[];
  /** the line's name in runs: the baseline's id, or the retrofitted line's */
  key: string;
  text: string;
  file: string;
  spec: LineSpec;
}

/** A checked lesson and the line at each of its steps. */
export interface LoadedLesson {
  lesson: Lesson;
  /** `lines[k]`: the line at step k */
  lines: StepLine[];
}

/** Ids of the built-in lessons. */
export function lessonIds(dir = LESSONS_DIR): string[] {
  return yamlIds(dir);
}

/** Reads a lesson: a file path, or the id of a built-in lesson. */
function readLesson(arg: string, dir: string): { file: string; text: string } {
  if (!arg.endsWith('.yaml') && !arg.endsWith('.yml') && !arg.includes('/')) return readNamed(arg, dir, 'lesson');
  try {
    return { file: arg, text: readFileSync(arg, 'utf8') };
  } catch (e) {
    throw new TwinlineError('IO', `cannot read the lesson (${(e as { code?: string }).code ?? String(e)})`, { file: arg });
  }
}

/** Checks the lesson against its line; fills `lines` with the line at each step. */
function checkAgainstLine(l: LessonFile, problem: LessonProblem, lines: StepLine[], dirs: LessonDirs): void {
  const linesDir = dirs.linesDir ?? BUILTIN_SCENARIOS;
  const retrofitsDir = dirs.retrofitsDir ?? RETROFITS_DIR;
  const baseFile = join(linesDir, `${l.line}.yaml`);
  if (!existsSync(baseFile)) {
    const names = yamlIds(linesDir);
    const near = closest(l.line, names);
    problem(['line'], `unknown line "${l.line}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; built-in lines: ${names.join(', ')}`, 'SCENARIO_REFERENCE');
    return;
  }
  const text = readFileSync(baseFile, 'utf8');
  const spec = parseScenario(text, baseFile);
  let line: StepLine = { retrofits: [], key: spec.id, text, file: baseFile, spec };
  const known = retrofitIds(retrofitsDir);
  for (const [k, s] of l.steps.entries()) {
    if (s.retrofit !== undefined) {
      const unknown = s.retrofit.map((id, j) => ({ id, j })).filter((x) => !known.includes(x.id));
      for (const { id, j } of unknown) {
        const near = closest(id, known);
        problem(['steps', k, 'retrofit', j], `unknown retrofit step "${id}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; retrofit steps: ${known.join(', ')}`, 'SCENARIO_REFERENCE');
      }
      if (unknown.length > 0) return;
      const ids = [...line.retrofits, ...s.retrofit];
      try {
        const built = buildRetrofit(text, spec, ids, retrofitsDir);
        line = { retrofits: ids, key: built.spec.id, text: built.text, file: built.spec.file, spec: built.spec };
      } catch (e) {
        if (!(e instanceof StepNotApplicable) && !(e instanceof TwinlineError)) throw e;
        problem(['steps', k, 'retrofit'], `${ids.join(' + ')} on ${l.line}: ${e.message}`, 'SCENARIO_REFERENCE');
        return;
      }
    }
    lines.push(line);
    const stations = line.spec.stations.map((st) => st.id);
    const onLine = (id: string, path: (string | number)[], what: string): void => {
      if (stations.includes(id)) return;
      const near = closest(id, stations);
      problem(path, `${what} "${id}" is not on the line at step "${s.id}" (${line.key})${near === undefined ? '' : `; did you mean "${near}"?`}`, 'SCENARIO_REFERENCE');
    };
    s.faults?.forEach((f, j) => {
      onLine(f.station, ['steps', k, 'faults', j, 'station'], 'station');
      const misfit = disturbanceMisfit(f.fault, f.station, line.spec);
      if (misfit !== null) problem(['steps', k, 'faults', j, 'fault'], `${misfit} at step "${s.id}" (${line.key})`, 'SCENARIO_REFERENCE');
    });
    s.checkpoints.forEach((cp, j) => {
      if (cp.station !== undefined) onLine(cp.station, ['steps', k, 'checkpoints', j, 'station'], 'station');
    });
  }
}

/**
 * Why disturbance `fault` cannot go to `station` of `line` (the line refuses it the same way,
 * sim/core/disturbance.ts), or null: off-spec material comes in at a source, and a person can be
 * away only from a crew that does the station's work. Faults (breakdown, jam …) fit any station.
 */
function disturbanceMisfit(fault: string, station: string, line: LineSpec): string | null {
  const st = line.stations.find((x) => x.id === station);
  if (st === undefined) return null;
  if (fault === 'material' && machineKind(st.kind)?.role !== 'source') {
    return notASource(station, line.stations.filter((x) => machineKind(x.kind)?.role === 'source').map((x) => x.id));
  }
  if (fault === 'absent' && !line.crews.some((c) => doesTask(c.skills, st.kind) && c.stations.some((a) => a.station === station))) {
    return `no crew does the work of "${station}" (${st.kind}): nobody to be absent`;
  }
  return null;
}

/** Where lessons, their lines and the retrofit steps are (defaults: the built-in ones). */
export interface LessonDirs {
  dir?: string;
  linesDir?: string;
  retrofitsDir?: string;
}

/** Loads and checks a lesson (a path or a built-in id); throws a TwinlineError naming every problem with file:line:col. */
export function loadLesson(arg: string, o: LessonDirs = {}): LoadedLesson {
  const { file, text } = readLesson(arg, o.dir ?? LESSONS_DIR);
  const lines: StepLine[] = [];
  const lesson = parseLesson(text, file, (l, problem) => checkAgainstLine(l, problem, lines, o));
  return { lesson, lines };
}

/** Options of `twinline lesson check`. */
export interface LessonCheckOptions extends LessonDirs {
  lesson: string;
  hours: number;
  seeds: number;
  warmupS: number;
  json: boolean;
  workers?: number;
}

/** One checkpoint as the lesson's own steps score it. */
export interface CheckpointCheck {
  step: string;
  id: string;
  points: number;
  kind: 'target' | 'question';
  /** the figure a target or estimate reads, e.g. "oee", "inspect.utilisation", "indicator keyProcessAutomation" */
  figure: string | null;
  /** the figure at the lesson's first step and at this step (mean over the seeds) */
  start: number | null;
  value: number | null;
  /** a target's goal, e.g. "> 0.75" */
  goal: string | null;
  met: boolean;
  /** a target met already at the start */
  metAtStart: boolean;
  /** a question's answer as the twin works it out */
  answer: string | number | null;
  /** share of seeds whose runs give that answer (bottleneck, first step) */
  agreement: number | null;
}

/** What `lesson check --json` prints. */
export interface LessonCheckResult extends PoolReport {
  lesson: string;
  file: string;
  line: string;
  steps: { id: string; line: string; retrofits: string[]; bottleneck: string | null; firstStep: string | null }[];
  checkpoints: CheckpointCheck[];
  points: { total: number; reached: number };
  /** what makes the lesson unsound; empty: sound */
  problems: string[];
}

const mean = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, x) => a + x, 0) / xs.length);

/** The most common value and its share; null when `xs` is empty. */
function mode(xs: readonly (string | null)[]): { value: string | null; share: number } | null {
  if (xs.length === 0) return null;
  const n = new Map<string | null, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  let best: [string | null, number] = [xs[0] ?? null, 0];
  for (const e of n) if (e[1] > best[1]) best = e;
  return { value: best[0], share: best[1] / xs.length };
}

/** The figures of a line now, from its live KPIs (the served twin): its one "run". */
export function figuresOfKpis(spec: LineSpec, k: LineKpis): LessonFigures {
  const { stations, ...kpis } = k;
  return figuresOfRuns(spec, [{ kpis, stations }]);
}

/** Mean figures over a line's runs (which kept their stations). */
export function figuresOfRuns(spec: LineSpec, runs: readonly Pick<CompareRun, 'kpis' | 'stations'>[]): LessonFigures & { agreement: number } {
  const kpis: Record<string, number | null> = {};
  for (const name of Object.keys(runs[0]?.kpis ?? {})) {
    const xs = runs.map((r) => (r.kpis as unknown as Record<string, unknown>)[name]).filter((x): x is number => typeof x === 'number');
    if (xs.length === runs.length) kpis[name] = mean(xs);
  }
  const stations: Record<string, Record<string, number | null>> = {};
  for (const st of spec.stations) {
    const of = runs.map((r) => r.stations?.find((s) => s.id === st.id)).filter((s): s is StationKpis => s !== undefined);
    const row: Record<string, number | null> = {};
    for (const name of Object.keys(LESSON_STATION_KPIS)) {
      const xs = of.map((s) => (s as unknown as Record<string, unknown>)[name]).filter((x): x is number => typeof x === 'number');
      row[name] = xs.length === of.length ? mean(xs) : null;
    }
    stations[st.id] = row;
  }
  const indicators: Record<string, number | null> = {};
  for (const i of lineIndicators(spec, runs)) indicators[i.id] = i.value;
  const bn = mode(runs.map((r) => measuredBottleneck(r.stations ?? [])?.id ?? null));
  return { kpis, stations, indicators, bottleneck: bn?.value ?? null, agreement: bn?.share ?? 0 };
}

/** The pool jobs of a step's line: `seeds` runs from its seed on, keeping the stations' KPIs. */
export function lineJobs(l: StepLine, seeds: number, variant: Job['variant'] = 'after'): Job[] {
  return Array.from({ length: seeds }, (_, i): Job => ({ variant, scenario: l.key, text: l.text, file: l.file, seed: (l.spec.seed + i) % 2 ** 32, stations: true }));
}

/** The retrofit step that pays back first on a step's line (diagnose's rank 1), and the runner-up when it pays back within 10 % of it (a close call). */
export async function firstStepOf(l: StepLine, o: RunPeriod & { seeds: number; workers?: number; retrofitsDir?: string }): Promise<{ id: string | null; closeTo: string | null }> {
  const { diagnose } = await import('./diagnose.ts');
  const d = await diagnose({
    scenario: l.key, source: { text: l.text, file: l.file }, hours: o.hours, seeds: o.seeds, warmupS: o.warmupS, json: true, lang: 'en',
    ...(o.workers === undefined ? {} : { workers: o.workers }), ...(o.retrofitsDir === undefined ? {} : { retrofitsDir: o.retrofitsDir }),
  });
  const [top, second] = d.steps;
  const p1 = top?.economics.paybackYears ?? null;
  const p2 = second?.economics.paybackYears ?? null;
  return { id: top?.id ?? null, closeTo: p1 !== null && p2 !== null && p2 <= p1 * 1.1 ? (second?.id ?? null) : null };
}

const figureName = (cp: Checkpoint): string | null => {
  const f = checkpointFigure(cp);
  return f === null ? null : f.table === 'indicator' ? `indicator ${f.name}` : f.table === 'station' ? `${cp.station}.${f.name}` : f.name;
};

/** Plays the lesson's own steps on the twin and scores its checkpoints. */
export async function checkLesson(o: LessonCheckOptions, warn: (line: string) => void = () => undefined): Promise<LessonCheckResult> {
  checkPeriod(o);
  const { lesson, lines } = loadLesson(o.lesson, o);
  const warnings: string[] = [];
  const say = (w: string): void => {
    warnings.push(w);
    warn(w);
  };
  const distinct = [...new Map(lines.map((l) => [l.key, l])).values()];
  const jobs = distinct.flatMap((l, k) => lineJobs(l, o.seeds, k === 0 ? 'before' : 'after'));
  const workers = Math.max(1, Math.min(o.workers ?? availableParallelism(), jobs.length));
  const t0 = performance.now();
  const runs = await runPool(jobs, workers, o);
  const figures = new Map<string, LessonFigures & { agreement: number }>();
  for (const l of distinct) figures.set(l.key, figuresOfRuns(l.spec, runs.filter((r) => r.scenario === l.key)));
  // the step that pays back first, where a question asks for it: the diagnosis of that step's line
  const firstSteps = new Map<string, { id: string | null; agreement: number }>();
  for (const [k, s] of lesson.steps.entries()) {
    const l = lines[k] as StepLine;
    if (!s.checkpoints.some((cp) => cp.answer === 'first-step') || firstSteps.has(l.key)) continue;
    const first = await firstStepOf(l, o);
    firstSteps.set(l.key, { id: first.id, agreement: first.closeTo === null ? 1 : 0.5 });
    if (first.closeTo !== null) say(`step "${s.id}": ${first.id ?? ''} and ${first.closeTo} pay back within 10 % of each other; the first-step question is a close call`);
  }
  const start = figures.get(lines[0]?.key ?? '') as LessonFigures;
  const problems: string[] = [];
  const checks: CheckpointCheck[] = [];
  for (const [k, s] of lesson.steps.entries()) {
    const l = lines[k] as StepLine;
    const f = { ...(figures.get(l.key) as LessonFigures & { agreement: number }), firstStep: firstSteps.get(l.key)?.id ?? null };
    for (const cp of s.checkpoints) {
      const question = cp.answer !== undefined;
      const answer = question ? truthOf(cp, f) : null;
      const met = question ? answer !== null && answerRight(cp, answer, f) : targetMet(cp, f, start);
      const metAtStart = !question && k > 0 && targetMet(cp, start, start);
      const agreement = cp.answer === 'bottleneck' ? f.agreement : cp.answer === 'first-step' ? (firstSteps.get(l.key)?.agreement ?? null) : null;
      checks.push({
        step: s.id, id: cp.id, points: cp.points, kind: question ? 'question' : 'target', figure: figureName(cp),
        start: figureOf(cp, start), value: figureOf(cp, f), goal: question ? null : goalOf(cp, figureOf(cp, start)), met, metAtStart, answer, agreement,
      });
      const where = `checkpoint "${cp.id}" (step "${s.id}")`;
      if (question && answer === null) problems.push(`${where}: the twin has no answer on ${l.key} (${cp.answer === 'bottleneck' ? 'no process station handled a part' : cp.answer === 'first-step' ? 'no retrofit step applies' : 'the figure is not defined'})`);
      else if (!question && !met) problems.push(`${where}: ${figureName(cp)} is ${fmt(figureOf(cp, f))}, goal ${goalOf(cp, figureOf(cp, start))}: the lesson's own steps do not reach it`);
      else if (metAtStart) problems.push(`${where}: ${figureName(cp)} is ${fmt(figureOf(cp, start))} at the lesson's start, already ${goalOf(cp, null)}: the target does not measure the step`);
      if (agreement !== null && agreement < 1 && cp.answer === 'bottleneck') say(`${where}: the seeds disagree on the bottleneck (${Math.round(agreement * 100)} % give ${String(answer)})`);
    }
  }
  const total = checks.reduce((a, c) => a + c.points, 0);
  return {
    lesson: lesson.id, file: lesson.file, line: lesson.line, hours: o.hours, warmupHours: o.warmupS / 3600, seeds: o.seeds, workers,
    wallSeconds: Math.round(performance.now() - t0) / 1000, warnings,
    steps: lesson.steps.map((s, k) => {
      const l = lines[k] as StepLine;
      return { id: s.id, line: l.key, retrofits: l.retrofits, bottleneck: figures.get(l.key)?.bottleneck ?? null, firstStep: firstSteps.get(l.key)?.id ?? null };
    }),
    checkpoints: checks,
    points: { total, reached: checks.filter((c) => c.met && !c.metAtStart).reduce((a, c) => a + c.points, 0) },
    problems,
  };
}

function fmt(x: number | null): string {
  if (x === null) return '–';
  const a = Math.abs(x);
  return x.toLocaleString('en-US', { maximumFractionDigits: a >= 100 ? 0 : a >= 1 ? 2 : 4 });
}

/** The check as text. */
export function formatLessonCheck(r: LessonCheckResult): string {
  const out: string[] = [`${r.lesson} on ${r.line} · ${r.seeds} seed${r.seeds === 1 ? '' : 's'} per step line · ${r.hours} h${r.warmupHours > 0 ? ` after a ${r.warmupHours} h warm-up` : ''} · ${r.workers} workers · ${r.wallSeconds.toFixed(1)} s`, ''];
  out.push(renderTable(
    ['step', 'checkpoint', 'pts', 'figure', 'at start', 'at step', 'goal / answer', 'met'],
    r.checkpoints.map((c) => [c.step, c.id, String(c.points), c.figure ?? '', fmt(c.start), fmt(c.value), c.kind === 'target' ? (c.goal ?? '') : typeof c.answer === 'number' ? fmt(c.answer) : (c.answer ?? '–'), c.met ? (c.metAtStart ? 'at start' : 'yes') : 'no']),
    [false, false, true, false, true, true, false, false],
  ));
  out.push('', `points reachable by the lesson's own steps: ${r.points.reached} of ${r.points.total}`);
  for (const p of r.problems) out.push(`problem: ${p}`);
  if (r.problems.length === 0) out.push('sound: every target is met at its step and not before, and the twin answers every question');
  return `${out.join('\n')}\n`;
}

/** `twinline lesson check`: 0 sound, 3 a checkpoint the lesson's own steps do not reach (or reach before their step). */
export async function lessonCheckCommand(o: LessonCheckOptions, io: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean } }): Promise<number> {
  const r = await checkLesson(o, (w) => io.stderr.write(`warning: ${w}\n`));
  io.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatLessonCheck(r));
  return r.problems.length === 0 ? 0 : 3;
}
