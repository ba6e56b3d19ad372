/**
 * `twinline diagnose <scenario>`: a smart-retrofit diagnosis of a line, as the diagnosis
 * providers in the seeds assess a firm along four stages, automation → digital integration →
 * networking → intelligence (../shared/seeds/DIGEST.md, Huangshi 004):
 *
 * 1. **Indicators** of the line, each computed from its stations or from a baseline run, never
 *    typed in: the key-process automation rate (process stations that need no person's hands
 *    every cycle), automated inspection (inspection stations that are machines), and the labour
 *    the run measures per 1000 good parts. Each stage is graded from its indicators against the
 *    documents' benchmarks: the province's key-process rate (48.1 %, document 000) and the
 *    larger firms' ≥ 95 % (document 001).
 * 2. **Steps tried on the twin.** Every retrofit step (scenarios/retrofits/) that applies to the
 *    line is applied alone and run over the same seeds as the baseline; its KPI changes and its
 *    payback (compare-economics.ts) are measured, and the steps are ranked by payback.
 * 3. **Roadmap.** The steps in stage order (automation first), by rank within a stage, applied
 *    together and run once more: the line after the roadmap, its KPIs, payback and grades.
 *
 * The indicators of the later stages (data-collection and SPC coverage, ICS device
 * interconnection, energy monitoring, predictive maintenance, traceability) are counted from
 * what the scenario says the plant has around each station (`systems:`; schema.ts
 * STATION_SYSTEMS), energy monitoring weighted by the energy each station used in the runs. A
 * line none of whose stations says is not assessed on them (null), never zero.
 */
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { KIND_TASK } from '../core/crew.ts';
import { TwinlineError } from '../core/errors.ts';
import { FLOW_KINDS, type StationKpis } from '../core/kpi.ts';
import { machineKind } from '../machines/index.ts';
import { parseScenario } from '../line/parse.ts';
import { fieldOf } from '../line/resolve.ts';
import { StepNotApplicable } from '../line/retrofit.ts';
import { RETROFIT_STAGES } from '../line/retrofit-schema.ts';
import type { Label, LineSpec, StationSpec, StationSystem } from '../line/types.ts';
import { checkPeriod, compareKpis, runPool, type CompareRun, type Job, type RunKpis, type KpiComparison, type PoolReport } from './compare.ts';
import type { MeanSd } from './compare-stats.ts';
import { DEFAULT_PRICES, economics, loadPrices, type Economics } from './compare-economics.ts';
import { buildRetrofit, RETROFITS_DIR, retrofitIds } from './retrofits.ts';
import { renderTable } from './table.ts';
import { loadScenario } from './record.ts';

/** A retrofit stage, in the order a firm goes through them. */
export type Stage = (typeof RETROFIT_STAGES)[number];

/** Options of `twinline diagnose`. */
export interface DiagnoseOptions {
  scenario: string;
  /** simulated hours each run's KPIs cover [h] */
  hours: number;
  seeds: number;
  /** run first and left out of the KPIs [s] */
  warmupS: number;
  prices?: string | undefined;
  json: boolean;
  html?: string | undefined;
  lang: 'en' | 'zh-CN';
  workers?: number;
  /** where the retrofit steps are (default scenarios/retrofits) */
  retrofitsDir?: string;
  /** the line's text, instead of loading `scenario` (a line built in memory, e.g. a lesson's step) */
  source?: { text: string; file: string };
}

/** One indicator of the line. */
export interface Indicator {
  id: string;
  stage: Stage;
  title: Label;
  /** the value in `unit`; null: not assessed (the reason is in `how`) */
  value: number | null;
  unit: string;
  /** whether a higher value is better */
  higherIsBetter: boolean;
  /** how the value was found (or why it was not) */
  how: Label;
}

/** A stage's grade. */
export interface StageGrade {
  stage: Stage;
  /** mean of the stage's assessed percentage indicators [%]; null: nothing assessed */
  score: number | null;
  /** 'leading': ≥ 95 %; 'average': ≥ 48.1 %; 'behind': below; 'not assessed' */
  level: 'leading' | 'average' | 'behind' | 'not assessed';
}

/** A step tried on the twin. */
export interface TriedStep {
  id: string;
  title: Label;
  stage: Stage;
  /** the stations the step changed */
  stations: string[];
  /** 1 = pays back first */
  rank: number;
  kpis: Record<string, KpiComparison>;
  economics: Economics;
  indicators: Indicator[];
}

/** A step that does not apply to the line, and why. */
export interface SkippedStep {
  id: string;
  reason: string;
}

/** What `diagnose --json` prints. */
export interface DiagnoseResult extends PoolReport {
  scenario: string;
  file: string;
  title: Label;
  indicators: Indicator[];
  stages: StageGrade[];
  /** baseline KPIs: mean ± sd over the seeds */
  kpis: Record<string, MeanSd>;
  steps: TriedStep[];
  skipped: SkippedStep[];
  /** null: no step applies */
  roadmap: {
    /** step ids in the order proposed */
    steps: string[];
    kpis: Record<string, KpiComparison>;
    economics: Economics;
    indicators: Indicator[];
    stages: StageGrade[];
  } | null;
}

/** Benchmarks of the key-process automation rate from the seeds [%]. */
export const BENCHMARKS = {
  /** Hunan's key-process numerical-control rate (document 000) */
  province: 48.1,
  /** what the larger Zhuzhou firms reached on automation and interconnection (document 001) */
  leading: 95,
} as const;

const INSPECTION = { machine: 'vision', manual: 'manual-inspection' } as const;
/** Process stations that check, sort, move or pack parts rather than give them their characteristics. */
const NOT_FORMING: ReadonlySet<string> = new Set([INSPECTION.machine, INSPECTION.manual, 'sorter', 'packer', 'robot', 'manual-station']);

/** A station's parameter with its kind's default. */
function param(st: StationSpec, name: string): number | undefined {
  const kind = machineKind(st.kind);
  return st.params[name] ?? (kind === undefined ? undefined : fieldOf(kind, name)?.default);
}

/**
 * Whether a station can break down on the twin: a positive MTBF, its kind's default unless the
 * scenario gives one, except that a source or sink never breaks down unless the scenario gives
 * it an MTBF (world.ts sets theirs to 0).
 */
function canBreakDown(st: StationSpec): boolean {
  const given = st.params.mtbf;
  if (given !== undefined) return given > 0;
  const kind = machineKind(st.kind);
  return kind !== undefined && kind.role === 'process' && (fieldOf(kind, 'mtbf')?.default ?? 0) > 0;
}

/** Whether a station needs a person's hands every cycle: its kind has a manual task, and it is not switched to automatic. */
export function needsHands(st: StationSpec): boolean {
  return KIND_TASK[st.kind] !== undefined && param(st, 'automatic') !== 1;
}

const pct = (n: number, d: number): number => Math.round((n / d) * 1000) / 10;

/** What `lineIndicators` reads of a run: good parts and labour, and the stations' energy when the run kept it. */
export type IndicatorRun = { kpis: Pick<RunKpis, 'good' | 'labourHours'>; stations?: readonly Pick<StationKpis, 'id' | 'energyKWh'>[] };

/** The later stages' indicators: what each station has around it (`systems:`), see the module comment. */
function systemIndicators(line: LineSpec, runs: readonly IndicatorRun[]): Indicator[] {
  const described = line.stations.some((s) => s.systems !== null);
  const has = (s: StationSpec, x: StationSystem): boolean => s.systems?.includes(x) === true;
  const process = line.stations.filter((s) => !FLOW_KINDS.has(s.kind));
  // what SPC charts: the stations that give the part its characteristics (not inspection, sorting, handling or packing)
  const forming = process.filter((s) => !NOT_FORMING.has(s.kind));
  // a station with a controller: not a feed or an outlet, and not worked by hand every cycle
  const devices = line.stations.filter((s) => s.kind !== 'source' && s.kind !== 'sink' && !needsHands(s));
  const breaking = line.stations.filter(canBreakDown);
  const energy = new Map<string, number>();
  for (const r of runs) for (const st of r.stations ?? []) energy.set(st.id, (energy.get(st.id) ?? 0) + st.energyKWh);
  const used = line.stations.filter((s) => (energy.get(s.id) ?? 0) > 0);
  const count = (id: string, stage: Stage, title: Label, x: StationSystem, of: StationSpec[], what: Label): Indicator => {
    const base = { id, stage, title, unit: '%', higherIsBetter: true } as const;
    if (!described) return { ...base, value: null, how: { en: 'not assessed: no station of the scenario says what the plant has around it (systems:)', zh: '未评估：场景中没有工位说明其周边系统（systems:）' } };
    if (of.length === 0) return { ...base, value: null, how: { en: `not assessed: the line has no ${what.en}`, zh: `未评估：产线无${what.zh}` } };
    const yes = of.filter((s) => has(s, x));
    const no = of.filter((s) => !has(s, x)).map((s) => s.id);
    return {
      ...base, value: pct(yes.length, of.length),
      how: {
        en: `${yes.length} of ${of.length} ${what.en} (${x})${no.length > 0 ? `; without: ${no.join(', ')}` : ''}`,
        zh: `${of.length} 个${what.zh}中 ${yes.length} 个（${x}）${no.length > 0 ? `；缺：${no.join('、')}` : ''}`,
      },
    };
  };
  const metered = (): Indicator => {
    const i = count('energyMonitoring', 'networking', { en: 'Energy monitoring coverage', zh: '能耗在线监测覆盖率' }, 'meter', used, { en: 'stations using energy in the runs', zh: '运行中耗能的工位' });
    if (i.value === null) return runs.length === 0 && described ? { ...i, how: { en: 'not assessed: needs a run (the share of the energy metered)', zh: '未评估：需要仿真运行（计量能耗的占比）' } } : i;
    const total = used.reduce((a, s) => a + energy.get(s.id)!, 0);
    const on = used.filter((s) => has(s, 'meter')).reduce((a, s) => a + energy.get(s.id)!, 0);
    return { ...i, value: pct(on, total), how: { en: `share of the line's energy used at metered stations, ${runs.length} simulated runs; ${i.how.en}`, zh: `${runs.length} 次仿真运行中有在线计量的工位耗能占比；${i.how.zh}` } };
  };
  return [
    count('dataCollection', 'digital-integration', { en: 'Data-collection coverage', zh: '数据采集覆盖率' }, 'data', process, { en: 'process stations', zh: '工序工位' }),
    count('spcCoverage', 'digital-integration', { en: 'SPC on key processes', zh: '关键工序SPC覆盖率' }, 'spc', forming, { en: 'process stations that give the part its characteristics', zh: '决定产品特性的工序工位' }),
    count('interconnection', 'networking', { en: 'ICS device interconnection rate', zh: '工控设备互联率' }, 'network', devices, { en: 'stations with a controller', zh: '带控制器的工位' }),
    metered(),
    count('predictiveMaintenance', 'intelligence', { en: 'Predictive maintenance coverage', zh: '预测性维护覆盖率' }, 'condition', breaking, { en: 'stations that can break down', zh: '可能故障的工位' }),
    count('traceability', 'intelligence', { en: 'Quality traceability', zh: '质量追溯覆盖率' }, 'trace', process, { en: 'process stations', zh: '工序工位' }),
  ];
}

/** The indicators of `line`; `labourPerKGood` from the mean of the runs (null without runs or good parts). */
export function lineIndicators(line: LineSpec, runs: readonly IndicatorRun[]): Indicator[] {
  const process = line.stations.filter((s) => !FLOW_KINDS.has(s.kind));
  const manual = process.filter(needsHands);
  const inspect = line.stations.filter((s) => s.kind === INSPECTION.machine || s.kind === INSPECTION.manual);
  const machines = inspect.filter((s) => s.kind === INSPECTION.machine);
  const good = runs.reduce((a, r) => a + r.kpis.good, 0);
  const labour = runs.reduce((a, r) => a + r.kpis.labourHours, 0);
  return [
    {
      id: 'keyProcessAutomation', stage: 'automation', title: { en: 'Key-process automation rate', zh: '关键工序自动化率' },
      value: process.length === 0 ? null : pct(process.length - manual.length, process.length), unit: '%', higherIsBetter: true,
      how: {
        en: `${process.length - manual.length} of ${process.length} process stations need no person's hands every cycle${manual.length > 0 ? ` (by hand: ${manual.map((s) => s.id).join(', ')})` : ''}`,
        zh: `${process.length} 个工序工位中 ${process.length - manual.length} 个无需人工逐件操作${manual.length > 0 ? `（人工：${manual.map((s) => s.id).join('、')}）` : ''}`,
      },
    },
    {
      id: 'automatedInspection', stage: 'automation', title: { en: 'Automated inspection', zh: '自动化检测比例' },
      value: inspect.length === 0 ? null : pct(machines.length, inspect.length), unit: '%', higherIsBetter: true,
      how: inspect.length === 0
        ? { en: 'not assessed: the line has no inspection station', zh: '未评估：产线无检测工位' }
        : { en: `${machines.length} of ${inspect.length} inspection stations are machine vision`, zh: `${inspect.length} 个检测工位中 ${machines.length} 个为机器视觉` },
    },
    {
      id: 'labourPerKGood', stage: 'automation', title: { en: 'Labour per 1000 good parts', zh: '每千件合格品人工工时' },
      value: runs.length === 0 || good === 0 ? null : Math.round((labour / good) * 1000 * 100) / 100, unit: 'h', higherIsBetter: false,
      how: runs.length === 0 || good === 0
        ? { en: 'not assessed: no good part in the runs', zh: '未评估：运行中无合格品' }
        : { en: `paid labour hours over good parts, ${runs.length} simulated runs`, zh: `${runs.length} 次仿真运行的计薪工时除以合格品数` },
    },
    ...systemIndicators(line, runs),
  ];
}

/** Each stage graded from its assessed percentage indicators against the benchmarks. */
export function gradeStages(indicators: readonly Indicator[]): StageGrade[] {
  return RETROFIT_STAGES.map((stage): StageGrade => {
    const xs = indicators.filter((i) => i.stage === stage && i.unit === '%' && i.value !== null).map((i) => i.value as number);
    if (xs.length === 0) return { stage, score: null, level: 'not assessed' };
    const score = Math.round((xs.reduce((a, x) => a + x, 0) / xs.length) * 10) / 10;
    return { stage, score, level: score >= BENCHMARKS.leading ? 'leading' : score >= BENCHMARKS.province ? 'average' : 'behind' };
  });
}

/** Mean ± sd of every numeric KPI of the runs. */
function baselineKpis(runs: readonly CompareRun[]): Record<string, MeanSd> {
  const out: Record<string, MeanSd> = {};
  for (const [name, k] of Object.entries(compareKpis(runs, runs))) out[name] = k.before;
  return out;
}

/** Proposed order: stage by stage, and by rank within a stage. */
export function roadmapOrder(steps: readonly Pick<TriedStep, 'id' | 'stage' | 'rank'>[]): string[] {
  return [...steps].sort((a, b) => RETROFIT_STAGES.indexOf(a.stage) - RETROFIT_STAGES.indexOf(b.stage) || a.rank - b.rank).map((s) => s.id);
}

/** Rank by payback (shortest first; steps that never pay back last, the smaller loss first). */
export function rankSteps<T extends { id: string; economics: Economics }>(steps: readonly T[]): (T & { rank: number })[] {
  const key = (e: Economics): [number, number] => [e.paybackYears ?? Number.POSITIVE_INFINITY, -e.savingsPerYear.net];
  const sorted = [...steps].sort((a, b) => {
    const [pa, na] = key(a.economics);
    const [pb, nb] = key(b.economics);
    return pa - pb || na - nb || a.id.localeCompare(b.id);
  });
  return sorted.map((s, k) => ({ ...s, rank: k + 1 }));
}

/** Runs the diagnosis; returns what `--json` prints. */
export async function diagnose(o: DiagnoseOptions, warn: (line: string) => void = () => undefined): Promise<DiagnoseResult> {
  checkPeriod(o);
  const dir = o.retrofitsDir ?? RETROFITS_DIR;
  const base = o.source ?? loadScenario(o.scenario);
  const spec = parseScenario(base.text, base.file);
  const prices = o.prices === undefined ? DEFAULT_PRICES : loadPrices(o.prices);
  const warnings: string[] = [];
  const say = (w: string): void => {
    warnings.push(w);
    warn(w);
  };
  if (o.seeds < 2) say('one seed per variant: no standard deviation or confidence interval; use --seeds 2 or more');
  // every step alone on the baseline; a step that does not fit the line says why
  const skipped: SkippedStep[] = [];
  const candidates: { id: string; built: ReturnType<typeof buildRetrofit> }[] = [];
  for (const id of retrofitIds(dir)) {
    try {
      candidates.push({ id, built: buildRetrofit(base.text, spec, [id], dir) });
    } catch (e) {
      if (!(e instanceof StepNotApplicable)) throw e;
      skipped.push({ id, reason: e.message });
    }
  }
  const variants = [{ key: spec.id, text: base.text, file: base.file, seed: spec.seed }, ...candidates.map((c) => ({ key: c.built.spec.id, text: c.built.text, file: c.built.spec.file, seed: spec.seed }))];
  const jobsOf = (v: (typeof variants)[number], variant: Job['variant']): Job[] =>
    Array.from({ length: o.seeds }, (_, i) => ({ variant, scenario: v.key, text: v.text, file: v.file, seed: (v.seed + i) % 2 ** 32, stations: true }));
  const workers = (n: number): number => Math.max(1, Math.min(o.workers ?? availableParallelism(), n));
  const t0 = performance.now();
  const jobs = variants.flatMap((v, k) => jobsOf(v, k === 0 ? 'before' : 'after'));
  const runs = await runPool(jobs, workers(jobs.length), o);
  const of = (key: string): CompareRun[] => runs.filter((r) => r.scenario === key);
  const baseRuns = of(spec.id);
  if (baseRuns.every((r) => r.kpis.shipped === 0)) say(`no part left ${spec.id} in the runs: the KPIs describe the line filling, not its steady state; use --warmup or more --hours`);
  const tried = rankSteps(candidates.map((c) => {
    const step = c.built.steps[0]!;
    const kpis = compareKpis(baseRuns, of(c.built.spec.id));
    return {
      id: c.id, title: step.title, stage: step.stage, stations: c.built.applied.flatMap((a) => a.stations),
      kpis, economics: economics(kpis, o.hours, c.built.steps, prices, o.prices ?? null), indicators: lineIndicators(c.built.spec, of(c.built.spec.id)),
    };
  }));
  let roadmap: DiagnoseResult['roadmap'] = null;
  if (tried.length > 0) {
    const order = roadmapOrder(tried);
    let built: ReturnType<typeof buildRetrofit> | null = null;
    try {
      built = buildRetrofit(base.text, spec, order, dir);
    } catch (e) {
      if (!(e instanceof StepNotApplicable)) throw e;
      say(`the roadmap ${order.join(' → ')} cannot be applied as one line: ${e.message}`);
    }
    if (built !== null) {
      // one step alone: its runs are the roadmap's
      const after = order.length === 1 ? of(built.spec.id) : await runPool(jobsOf({ key: built.spec.id, text: built.text, file: built.spec.file, seed: spec.seed }, 'after'), workers(o.seeds), o);
      const kpis = compareKpis(baseRuns, after);
      const indicators = lineIndicators(built.spec, after);
      roadmap = { steps: order, kpis, economics: economics(kpis, o.hours, built.steps, prices, o.prices ?? null), indicators, stages: gradeStages(indicators) };
    }
  }
  const indicators = lineIndicators(spec, baseRuns);
  return {
    scenario: spec.id, file: base.file, title: spec.title, hours: o.hours, warmupHours: o.warmupS / 3600, seeds: o.seeds,
    workers: workers(jobs.length), wallSeconds: Math.round(performance.now() - t0) / 1000, warnings,
    indicators, stages: gradeStages(indicators), kpis: baselineKpis(baseRuns), steps: tried, skipped, roadmap,
  };
}

const fmt = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const signed = (x: number | null | undefined, d = 1): string => (x === null || x === undefined ? '–' : `${x >= 0 ? '+' : ''}${fmt(x, d)}`);
const cny = (x: number): string => `${Math.round(x).toLocaleString('en-US')}`;

/** A table whose first column is text and the rest figures (right-aligned). */
const table = (header: readonly string[], rows: readonly (readonly string[])[]): string => renderTable(header, rows, header.map((_, k) => k > 0));

/** The indicators of the baseline and, where there is one, after the roadmap. */
function indicatorRows(r: DiagnoseResult): string[][] {
  return r.indicators.map((i) => {
    const after = r.roadmap?.indicators.find((x) => x.id === i.id)?.value;
    return [`${i.title.en} [${i.unit}]`, i.stage, fmt(i.value), r.roadmap === null ? '' : fmt(after)];
  });
}

/** The diagnosis as text. */
export function formatDiagnosis(r: DiagnoseResult): string {
  const out: string[] = [];
  out.push(`${r.scenario}: ${r.title.en} · ${r.seeds} seed${r.seeds === 1 ? '' : 's'} per variant · ${fmt(r.hours, 2)} h${r.warmupHours > 0 ? ` after a ${fmt(r.warmupHours, 2)} h warm-up` : ''} · ${r.workers} workers · ${fmt(r.wallSeconds, 1)} s`, '');
  out.push(table(['Indicator', 'stage', 'now', r.roadmap === null ? '' : 'after roadmap'], indicatorRows(r)), '');
  const after = (s: Stage): StageGrade | undefined => r.roadmap?.stages.find((g) => g.stage === s);
  const grade = (g: StageGrade | undefined): string => (g === undefined ? '' : `${g.level}${g.score === null ? '' : ` ${fmt(g.score)} %`}`);
  out.push(`Stages (benchmarks: province ${BENCHMARKS.province} %, leading firms ≥ ${BENCHMARKS.leading} %; now${r.roadmap === null ? '' : ' → after the roadmap'}):`);
  for (const g of r.stages) out.push(`  ${g.stage}: ${grade(g)}${after(g.stage) === undefined || after(g.stage)?.score === g.score ? '' : ` → ${grade(after(g.stage))}`}`);
  out.push('');
  if (r.steps.length === 0) out.push('No retrofit step applies to this line.');
  else {
    const k = (s: TriedStep, name: string): number | null => s.kpis[name]?.deltaPct.mean ?? null;
    out.push(table(
      ['#', 'step', 'stage', 'good/day', 'OEE', 'labour h', 'capex CNY', 'net CNY/a', 'payback'],
      r.steps.map((s) => [String(s.rank), s.id, s.stage, `${signed(k(s, 'goodPerDay'))} %`, `${signed(k(s, 'oee'))} %`, `${signed(k(s, 'labourHours'))} %`, cny(s.economics.capex), cny(s.economics.savingsPerYear.net), s.economics.paybackYears === null ? 'none' : `${fmt(s.economics.paybackYears, 2)} a`]),
    ), '');
  }
  if (r.roadmap !== null) {
    const e = r.roadmap.economics;
    out.push(`Roadmap: ${r.roadmap.steps.join(' → ')}: good/day ${signed(r.roadmap.kpis.goodPerDay?.deltaPct.mean ?? null)} %, labour hours ${signed(r.roadmap.kpis.labourHours?.deltaPct.mean ?? null)} %, capex ${cny(e.capex)} CNY, net ${cny(e.savingsPerYear.net)} CNY/a, payback ${e.paybackYears === null ? 'none' : `${fmt(e.paybackYears, 2)} years`}`);
  }
  for (const s of r.skipped) out.push(`not applicable: ${s.id}: ${s.reason}`);
  return `${out.join('\n')}\n`;
}

/** `twinline diagnose`: returns the exit code. */
export async function diagnoseCommand(o: DiagnoseOptions, io: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean } }): Promise<number> {
  const r = await diagnose(o, (w) => io.stderr.write(`warning: ${w}\n`));
  if (o.html !== undefined) {
    const { diagnoseHtml } = await import('./diagnose-html.ts');
    try {
      writeFileSync(o.html, diagnoseHtml(r, o.lang));
    } catch (e) {
      throw new TwinlineError('IO', `cannot write the HTML report (${(e as { code?: string }).code ?? String(e)})`, { file: o.html });
    }
    io.stderr.write(`wrote ${o.html}\n`);
  }
  io.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatDiagnosis(r));
  return 0;
}
