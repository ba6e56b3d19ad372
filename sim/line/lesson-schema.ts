/**
 * A lesson file (`scenarios/lessons/<id>.yaml`): a workshop script on one of the built-in lines.
 * Steps in order, each with what the trainer says (prompt), the retrofit steps the line has from
 * then on, the faults the trainer may inject, and checkpoints that score the trainees:
 *
 * - a **target**: a line KPI (or a station's, or a diagnosis indicator) above or below a
 *   threshold, or risen or fallen by a share against the lesson's first step ("bring OEE above
 *   75 %", "halve the operators");
 * - a **question** whose answer the twin works out, never the lesson: `bottleneck` (the station
 *   that limits the line, measured), `first-step` (the retrofit step that pays back first, as
 *   `twinline diagnose` ranks them), or `estimate` (a trainee's number for a KPI, right within
 *   `within` of what the twin predicts).
 *
 * The zod schema checks the shape and the rules that need only the file; `parseLesson` reports
 * every problem with file:line:col and path, and takes a check of what depends on the line (its
 * stations, the retrofit steps that apply) from the host, which loads lines.
 */
import { z } from 'zod';
import { TwinlineError } from '../core/errors.ts';
import { checkedYaml, idMatchesFile } from './checked-yaml.ts';
import { closest, type Path } from './locate.ts';
import { FAULT_CODES, KEBAB_ID, label, STATION_ID } from './schema.ts';
import { DISTURBANCES } from '../core/disturbance.ts';

/** What a lesson step offers the trainer to inject: the faults, then the disturbances. */
export const LESSON_FAULTS = [...FAULT_CODES, ...DISTURBANCES] as const;

/** Current lesson file version. */
export const LESSON_VERSION = 1;

/** A KPI a checkpoint may name, with its unit; `fraction`: a share written 0…1 (75 % is 0.75). */
interface KpiInfo {
  unit: string;
  fraction?: true;
  en: string;
  zh: string;
}

/** Line KPIs a checkpoint may name (computeKpis' figures). */
export const LESSON_LINE_KPIS: Readonly<Record<string, KpiInfo>> = {
  oee: { unit: '', fraction: true, en: 'OEE', zh: '设备综合效率' },
  availability: { unit: '', fraction: true, en: 'availability', zh: '可用率' },
  performance: { unit: '', fraction: true, en: 'performance', zh: '性能率' },
  quality: { unit: '', fraction: true, en: 'quality ratio', zh: '质量率' },
  firstPassYield: { unit: '', fraction: true, en: 'first-pass yield', zh: '一次合格率' },
  scrapRate: { unit: '', fraction: true, en: 'scrap rate', zh: '废品率' },
  goodPerDay: { unit: '1/d', en: 'good parts per day', zh: '日合格品数' },
  throughputPerHour: { unit: '1/h', en: 'parts shipped per hour', zh: '每小时出货数' },
  escapedPpm: { unit: 'ppm', en: 'escaped defects', zh: '漏检缺陷' },
  operators: { unit: '', en: 'operators', zh: '操作工人数' },
  labourHours: { unit: 'h', en: 'labour hours', zh: '人工工时' },
  goodPerLabourHour: { unit: '1/h', en: 'good parts per labour hour', zh: '人均每小时合格品' },
  energyPerGoodPartKWh: { unit: 'kWh', en: 'energy per good part', zh: '单件合格品能耗' },
  leadTimeMeanS: { unit: 's', en: 'lead time', zh: '生产周期' },
  wipMean: { unit: '', en: 'work in progress', zh: '在制品' },
  failures: { unit: '', en: 'breakdowns', zh: '故障次数' },
};

/** Station KPIs a checkpoint with `station:` may name. */
export const LESSON_STATION_KPIS: Readonly<Record<string, KpiInfo>> = {
  availability: { unit: '', fraction: true, en: 'availability', zh: '可用率' },
  performance: { unit: '', fraction: true, en: 'performance', zh: '性能率' },
  quality: { unit: '', fraction: true, en: 'quality ratio', zh: '质量率' },
  oee: { unit: '', fraction: true, en: 'OEE', zh: '设备综合效率' },
  utilisation: { unit: '', fraction: true, en: 'utilisation', zh: '利用率' },
  starved: { unit: '', fraction: true, en: 'starved share', zh: '缺料比例' },
  blocked: { unit: '', fraction: true, en: 'blocked share', zh: '堵料比例' },
  partsOut: { unit: '', en: 'parts passed on', zh: '产出件数' },
  scrapped: { unit: '', en: 'parts scrapped', zh: '报废件数' },
  failures: { unit: '', en: 'breakdowns', zh: '故障次数' },
};

/** Diagnosis indicators (diagnose.ts) a checkpoint with `indicator:` may name. */
export const LESSON_INDICATORS: Readonly<Record<string, KpiInfo>> = {
  keyProcessAutomation: { unit: '%', en: 'key-process automation rate', zh: '关键工序自动化率' },
  automatedInspection: { unit: '%', en: 'automated inspection', zh: '自动化检测比例' },
  labourPerKGood: { unit: 'h', en: 'labour per 1000 good parts', zh: '每千件合格品人工工时' },
};

/** Questions the twin answers. */
export const LESSON_ANSWERS = ['bottleneck', 'first-step', 'estimate'] as const;

const share = (what: string) => z.number({ error: `expected ${what} as a share, e.g. 0.2 for 20 %` }).gt(0).max(10);

const checkpoint = z
  .strictObject({
    id: z.string({ error: 'expected a checkpoint id' }).regex(KEBAB_ID, { error: 'checkpoint ids are kebab-case, e.g. "oee-75"' }),
    text: label('what the trainees are asked or must reach'),
    points: z.number({ error: 'expected the points a checkpoint scores (a whole number)' }).int().min(1).max(100),
    kpi: z.string({ error: 'expected a KPI name' }).optional().meta({ description: `a line KPI (${Object.keys(LESSON_LINE_KPIS).join(', ')}) or, with station, a station KPI (${Object.keys(LESSON_STATION_KPIS).join(', ')})` }),
    station: z.string({ error: 'expected a station id' }).regex(STATION_ID, { error: 'expected a station id' }).optional().meta({ description: 'the station whose KPI is meant' }),
    indicator: z.string({ error: 'expected an indicator id' }).optional().meta({ description: `a diagnosis indicator: ${Object.keys(LESSON_INDICATORS).join(', ')}` }),
    above: z.number({ error: 'expected a number in the KPI\'s unit' }).optional().meta({ description: 'met when the figure is above this' }),
    below: z.number({ error: 'expected a number in the KPI\'s unit' }).optional().meta({ description: 'met when the figure is below this' }),
    rise: share('the rise').optional().meta({ description: 'met when the figure has risen by at least this share of its value at the lesson\'s first step' }),
    fall: share('the fall').optional().meta({ description: 'met when the figure has fallen by at least this share of its value at the lesson\'s first step' }),
    answer: z.enum(LESSON_ANSWERS, { error: `expected one of ${LESSON_ANSWERS.join(', ')}` }).optional().meta({ description: 'a question the twin answers: bottleneck (a station), first-step (a retrofit step), estimate (a number for kpi/indicator, right within `within`)' }),
    within: share('the tolerance').optional().meta({ description: 'with answer: estimate, how close the trainee\'s number must be, as a share of the twin\'s figure' }),
  })
  .meta({ description: 'a target to reach or a question the twin answers, and its points' });

const step = z
  .strictObject({
    id: z.string({ error: 'expected a step id' }).regex(KEBAB_ID, { error: 'step ids are kebab-case, e.g. "baseline"' }),
    title: label('title'),
    prompt: label('what the trainer tells the trainees'),
    retrofit: z.array(z.string({ error: 'expected a retrofit step id' }).regex(KEBAB_ID, { error: 'expected a retrofit step id' })).min(1).optional().meta({ description: 'retrofit steps (scenarios/retrofits/) applied to the line from this step on, after those of earlier steps' }),
    faults: z
      .array(z.strictObject({
        station: z.string({ error: 'expected a station id' }).regex(STATION_ID, { error: 'expected a station id' }),
        fault: z.enum(LESSON_FAULTS, { error: `expected one of ${LESSON_FAULTS.join(', ')}` })
          .meta({ description: 'a fault that stops the station, or a disturbance: material (off-spec raw material at a source), absent (a person of the crew doing the station\'s work away)' }),
        minutes: z.number({ error: 'expected minutes (a number)' }).gt(0).max(1440).optional().meta({ description: 'how long the fault or disturbance lasts [min]; default: 10' }),
        note: label('what the trainees should notice').optional(),
      }))
      .optional()
      .meta({ description: 'faults and disturbances the trainer may inject during this step' }),
    checkpoints: z.array(checkpoint).min(1, { error: 'a step has at least one checkpoint' }),
  })
  .meta({ description: 'one step of the lesson' });

/** The lesson file. */
export const lessonSchema = z
  .strictObject({
    version: z.literal(LESSON_VERSION).meta({ description: 'lesson file format version' }),
    id: z.string({ error: 'expected a lesson id' }).regex(KEBAB_ID, { error: 'lesson ids are kebab-case, e.g. "vision-inspection"' }),
    title: label('title'),
    summary: label('what the trainees learn'),
    line: z.string({ error: 'expected a built-in line, e.g. ceramic-before' }).regex(KEBAB_ID, { error: 'expected a built-in line, e.g. ceramic-before' }).meta({ description: 'the scenario the lesson starts from (scenarios/<line>.yaml)' }),
    minutes: z.number({ error: 'expected the planned length in minutes' }).int().min(5).max(480).meta({ description: 'planned length of the workshop [min]' }),
    source: z.strictObject({
      document: z.string().regex(/^\d{3}$/, { error: 'expected a three-digit document number as in DIGEST.md, e.g. "003"' }),
      item: z.string().min(1),
    }).optional().meta({ description: 'where the lesson\'s story comes from (DIGEST.md)' }),
    steps: z.array(step).min(1, { error: 'a lesson has at least one step' }),
  })
  .meta({ title: 'Twinline lesson', description: 'A workshop script on a built-in line: steps, prompts, faults and scored checkpoints' });

/** A lesson as written. */
export type LessonFile = z.output<typeof lessonSchema>;
export type LessonStep = LessonFile['steps'][number];
export type Checkpoint = LessonStep['checkpoints'][number];

/** A checked lesson and the file it came from. */
export interface Lesson extends LessonFile {
  file: string;
}

/** Reports a problem at a path of the lesson. */
export type LessonProblem = (path: Path, message: string, code?: 'SCENARIO_SCHEMA' | 'SCENARIO_REFERENCE' | 'OUT_OF_RANGE') => void;

/** What depends on the line: the host loads it and checks each step's line. */
export type LessonLineCheck = (lesson: LessonFile, problem: LessonProblem) => void;

const nameOf = (x: string, names: readonly string[], what: string): string => {
  const near = closest(x, names);
  return `unknown ${what} "${x}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; ${what}s: ${names.join(', ')}`;
};

/** The KPI table a checkpoint reads, or null for a question with no figure. */
export function checkpointFigure(cp: Checkpoint): { table: 'line' | 'station' | 'indicator'; name: string; info: KpiInfo | undefined } | null {
  if (cp.indicator !== undefined) return { table: 'indicator', name: cp.indicator, info: LESSON_INDICATORS[cp.indicator] };
  if (cp.kpi === undefined) return null;
  return cp.station !== undefined ? { table: 'station', name: cp.kpi, info: LESSON_STATION_KPIS[cp.kpi] } : { table: 'line', name: cp.kpi, info: LESSON_LINE_KPIS[cp.kpi] };
}

/** The rules of one checkpoint that need only the file. */
function checkCheckpoint(cp: Checkpoint, first: boolean, at: Path, problem: LessonProblem): void {
  const targets = (['above', 'below', 'rise', 'fall'] as const).filter((k) => cp[k] !== undefined);
  const figure = checkpointFigure(cp);
  if (cp.kpi !== undefined && cp.indicator !== undefined) problem([...at, 'indicator'], 'a checkpoint names a kpi or an indicator, not both');
  if (cp.station !== undefined && cp.kpi === undefined) problem([...at, 'station'], 'station needs kpi: the station KPI meant');
  if (figure !== null && figure.info === undefined) {
    const names = Object.keys(figure.table === 'line' ? LESSON_LINE_KPIS : figure.table === 'station' ? LESSON_STATION_KPIS : LESSON_INDICATORS);
    problem([...at, figure.table === 'indicator' ? 'indicator' : 'kpi'], nameOf(figure.name, names, figure.table === 'indicator' ? 'indicator' : figure.table === 'station' ? 'station KPI' : 'line KPI'), 'SCENARIO_REFERENCE');
  }
  if (cp.answer === 'bottleneck' || cp.answer === 'first-step') {
    if (figure !== null || targets.length > 0 || cp.within !== undefined) problem([...at, 'answer'], `answer: ${cp.answer} is a question on its own: no kpi, indicator, target or within`);
    return;
  }
  if (cp.answer === 'estimate') {
    if (figure === null) problem([...at, 'answer'], 'answer: estimate needs the kpi (or indicator) the trainees estimate');
    if (cp.within === undefined) problem([...at, 'answer'], 'answer: estimate needs within: how close an estimate must be, e.g. 0.1 for ±10 %');
    if (targets.length > 0) problem([...at, targets[0] as string], 'an estimate has no target: the twin\'s figure is the answer');
    return;
  }
  if (cp.within !== undefined) problem([...at, 'within'], 'within goes with answer: estimate');
  if (figure === null) {
    problem(at, 'a checkpoint is a target (kpi or indicator with above, below, rise or fall) or a question (answer)');
    return;
  }
  if (targets.length !== 1) {
    problem(targets.length === 0 ? at : [...at, targets[1] as string], `a target has exactly one of above, below, rise, fall${targets.length === 0 ? '' : `; got ${targets.join(', ')}`}`);
    return;
  }
  const t = targets[0] as 'above' | 'below' | 'rise' | 'fall';
  if ((t === 'rise' || t === 'fall') && first) problem([...at, t], `${t} is measured against the lesson's first step, so it cannot be a target of the first step; use above or below`);
  const v = cp[t] as number;
  if (figure.info?.fraction === true && (t === 'above' || t === 'below') && (v < 0 || v > 1.5)) {
    problem([...at, t], `${figure.name} is a share written 0…1 (75 % is 0.75); got ${v}`, 'OUT_OF_RANGE');
  }
}

/** The rules of a lesson that need only the file. */
function checkLesson(l: LessonFile, problem: LessonProblem): void {
  const steps = new Set<string>();
  const cps = new Set<string>();
  l.steps.forEach((s, k) => {
    if (steps.has(s.id)) problem(['steps', k, 'id'], `step id "${s.id}" is used twice`);
    steps.add(s.id);
    s.checkpoints.forEach((cp, j) => {
      if (cps.has(cp.id)) problem(['steps', k, 'checkpoints', j, 'id'], `checkpoint id "${cp.id}" is used twice (checkpoint ids are unique in a lesson)`);
      cps.add(cp.id);
      checkCheckpoint(cp, k === 0, ['steps', k, 'checkpoints', j], problem);
    });
  });
}

/** Parses and checks a lesson file; `lineCheck` checks what depends on the line. Throws a TwinlineError naming every problem with file:line:col and path. */
export function parseLesson(text: string, file: string, lineCheck?: LessonLineCheck): Lesson {
  const { data, problems } = checkedYaml(text, file, lessonSchema, { shape: 'a lesson is a mapping with keys version, id, title, summary, line, minutes, steps' });
  idMatchesFile(data.id, file, 'lesson', problems);
  const problem: LessonProblem = (path, message, code = 'SCENARIO_SCHEMA') => problems.add(code, message, path);
  checkLesson(data, problem);
  if (problems.items.length === 0) lineCheck?.(data, problem);
  if (problems.items.length > 0) throw TwinlineError.of(problems.sorted());
  return { ...data, file };
}
