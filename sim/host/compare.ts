/**
 * `twinline compare <before> <after>`: runs both scenarios over K seeds (seed = each
 * scenario's own seed + i) in a pool of worker threads, each run at the scenario's own tick,
 * and reports every line KPI as mean ± sd with the change in percent and its 95 % interval
 * (compare-stats.ts). Runs are deterministic: the same seeds give the same numbers.
 *
 * Before and after must be variants of one line: they are if one's `compareWith` names the
 * other, or if both are one scenario (an A/A comparison: the spread between seeds alone), or,
 * when neither names a scenario, if their ISA-95 line names are the same (two variants that
 * share the line's name). A `compareWith` that names a third scenario is a mismatch.
 *
 * With `--retrofit a,b` the after line is the before line with those steps applied
 * (sim/line/retrofit.ts), run over the same seeds, and the result gains the payback
 * (compare-economics.ts).
 */
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { TwinlineError } from '../core/errors.ts';
import type { LineKpis, StationKpis } from '../core/kpi.ts';
import { parseScenario } from '../line/parse.ts';
import type { LineSpec } from '../line/types.ts';
import type { AsyncApi, SimApi } from '../worker/api.ts';
import { loadRemote, spawnNodeSim, type NodeSim } from '../worker/node-host.ts';
import { deltaPct, meanSd, type DeltaPct, type MeanSd } from './compare-stats.ts';
import { compareHtml } from './compare-html.ts';
import { DEFAULT_PRICES, economics, formatEconomics, loadPrices, type Economics } from './compare-economics.ts';
import { buildRetrofit, retrofitList } from './retrofits.ts';
import { loadScenario } from './record.ts';
import { renderTable } from './table.ts';

/** Options of `twinline compare`. */
export interface CompareOptions {
  before: string;
  /** the after scenario; or none, with `retrofit` */
  after?: string | undefined;
  /** retrofit step ids (`--retrofit a,b`): the after line is the before line with these steps */
  retrofit?: string | undefined;
  /** prices file for the payback (`--prices`); only with `retrofit` */
  prices?: string | undefined;
  /** simulated hours the KPIs cover [h] */
  hours: number;
  /** seeds per scenario */
  seeds: number;
  /** run first and left out of the KPIs [s] */
  warmupS: number;
  json: boolean;
  /** write the HTML report here */
  html?: string;
  /** worker threads; default: the cores available */
  workers?: number;
}

/** What each run of a pool covers: the measured hours after the warm-up. */
export type RunPeriod = Pick<CompareOptions, 'hours' | 'warmupS'>;

/** Line KPIs without the station list, as each run reports them. */
export type RunKpis = Omit<LineKpis, 'stations'>;

/** One simulation run of a comparison. */
export interface CompareRun {
  variant: 'before' | 'after';
  scenario: string;
  seed: number;
  eventLogHash: string;
  /** end of each sampling interval [h of the measured period] */
  hoursAt: number[];
  /** parts shipped per hour in each sampling interval */
  throughputPerHour: number[];
  kpis: RunKpis;
  /** the stations' KPIs, when the job asked for them */
  stations?: StationKpis[];
}

/** One KPI's comparison. */
export interface KpiComparison {
  before: MeanSd;
  after: MeanSd;
  deltaPct: DeltaPct;
}

/** What a comparison or a diagnosis ran: the period, the seeds, the pool and its wall time, and the warnings. */
export interface PoolReport {
  hours: number;
  warmupHours: number;
  seeds: number;
  workers: number;
  wallSeconds: number;
  warnings: string[];
}

/** What `compare --json` prints. */
export interface CompareResult extends PoolReport {
  before: { scenario: string; file: string; title: string };
  after: { scenario: string; file: string; title: string };
  kpis: Record<string, KpiComparison>;
  /** with `--retrofit`: capex, yearly savings and payback (compare-economics.ts) */
  economics?: Economics;
  runs: CompareRun[];
}

/** One run a comparison (or a diagnosis) asks of the pool. */
export interface Job {
  variant: 'before' | 'after';
  /** name of the scenario in the results */
  scenario: string;
  text: string;
  file: string;
  seed: number;
  /** keep the stations' KPIs in the run */
  stations?: boolean;
}

/** Ticks per `step()` call: a simulated minute at 1 ms (events are drained in between). */
const CHUNK = 60_000;

/** Checks that `b` and `a` are variants of one line (rule in the module comment); throws a usage error naming both. */
export function checkSameLine(b: LineSpec, a: LineSpec): void {
  // a scenario against itself (or a copy of it) shows the spread between seeds alone
  if (b.compareWith === a.id || a.compareWith === b.id || (b.id === a.id && b.isa95.line === a.isa95.line)) return;
  for (const [x, y] of [[b, a], [a, b]] as const) {
    if (x.compareWith !== null) {
      throw new TwinlineError('USAGE', `${x.id} (${x.file}) compares with "${x.compareWith}" (compareWith), not with ${y.id}: they are not variants of one line`);
    }
  }
  if (b.isa95.line !== a.isa95.line) {
    throw new TwinlineError('USAGE', `before and after are different lines: ${b.id} is line "${b.isa95.line}", ${a.id} is line "${a.isa95.line}" (isa95.line), and neither names the other in compareWith`);
  }
}

/** Runs one job in a worker: warm-up, then the measured period sampled in intervals. */
async function runJob(api: AsyncApi<SimApi>, job: Job, o: RunPeriod): Promise<CompareRun> {
  const info = await loadRemote(api, job.text, job.file, { seed: job.seed });
  const dt = info.dt;
  const stepTo = async (from: number, to: number): Promise<number> => {
    let t = from;
    while (t < to) {
      t = await api.step(Math.min(CHUNK, to - t));
      await api.drainEvents();
    }
    return t;
  };
  const warmTicks = Math.round(o.warmupS / dt);
  let tick = await stepTo(0, warmTicks);
  if (warmTicks > 0) await api.markKpiStart();
  const total = Math.round((o.hours * 3600) / dt);
  // hourly samples, or six over a run shorter than 6 h
  const sampleTicks = Math.max(1, Math.round((Math.min(1, o.hours / 6) * 3600) / dt));
  const hoursAt: number[] = [];
  const throughputPerHour: number[] = [];
  let shipped = 0;
  let done = 0;
  let last: LineKpis | null = null;
  while (done < total) {
    const n = Math.min(sampleTicks, total - done);
    tick = await stepTo(tick, tick + n);
    done += n;
    last = (await api.state()).kpis;
    hoursAt.push(Math.round(((done * dt) / 3600) * 1e4) / 1e4);
    throughputPerHour.push(Math.round(((last.shipped - shipped) / ((n * dt) / 3600)) * 100) / 100);
    shipped = last.shipped;
  }
  const { stations, ...kpis } = last ?? (await api.state()).kpis;
  return { variant: job.variant, scenario: job.scenario, seed: job.seed, eventLogHash: await api.eventLogHash(), hoursAt, throughputPerHour, kpis, ...(job.stations === true ? { stations } : {}) };
}

/** Runs `jobs` on a pool of `size` worker threads; results in job order. */
export async function runPool(jobs: readonly Job[], size: number, o: RunPeriod): Promise<CompareRun[]> {
  const out: CompareRun[] = new Array<CompareRun>(jobs.length);
  const sims: NodeSim[] = [];
  let next = 0;
  try {
    const lane = async (sim: NodeSim): Promise<void> => {
      for (let k = next++; k < jobs.length; k = next++) out[k] = await runJob(sim.api, jobs[k] as Job, o);
    };
    const lanes: Promise<void>[] = [];
    for (let k = 0; k < Math.min(size, jobs.length); k++) {
      const sim = spawnNodeSim();
      sims.push(sim);
      lanes.push(lane(sim));
    }
    await Promise.all(lanes);
  } finally {
    await Promise.all(sims.map((s) => s.terminate()));
  }
  return out;
}

/** Numeric line KPIs every run reports (a KPI that is null in some run, e.g. MTBF without failures, is left out). */
function kpiNames(runs: readonly CompareRun[]): string[] {
  const first = runs[0]?.kpis ?? {};
  const skip = new Set(['simHours', 'fromHours']);
  return Object.keys(first).filter((k) => !skip.has(k) && runs.every((r) => typeof (r.kpis as unknown as Record<string, unknown>)[k] === 'number'));
}

/** `--hours` and `--seeds` in range, or a usage error naming the flag. */
export function checkPeriod(o: { hours: number; seeds: number }): void {
  if (!(o.hours > 0 && o.hours <= 24 * 366)) throw new TwinlineError('USAGE', `--hours must be in (0, 8784], got ${o.hours}`);
  if (!(Number.isInteger(o.seeds) && o.seeds >= 1 && o.seeds <= 1000)) throw new TwinlineError('USAGE', `--seeds must be a whole number from 1 to 1000, got ${o.seeds}`);
}

/** Every numeric KPI of the `before` and `after` runs: mean ± sd of each, and the change in percent with its 95 % interval. */
export function compareKpis(before: readonly CompareRun[], after: readonly CompareRun[]): Record<string, KpiComparison> {
  const kpis: Record<string, KpiComparison> = {};
  for (const name of kpiNames([...before, ...after])) {
    const of = (runs: readonly CompareRun[]): number[] => runs.map((r) => (r.kpis as unknown as Record<string, number>)[name] ?? 0);
    kpis[name] = { before: meanSd(of(before)), after: meanSd(of(after)), deltaPct: deltaPct(of(before), of(after)) };
  }
  return kpis;
}

/** Runs the comparison; returns what `--json` prints. */
export async function compareScenarios(o: CompareOptions, warn: (line: string) => void = () => undefined): Promise<CompareResult> {
  checkPeriod(o);
  const load = (arg: string): { file: string; text: string; spec: LineSpec } => {
    const l = loadScenario(arg);
    return { ...l, spec: parseScenario(l.text, l.file) };
  };
  if (o.after !== undefined && o.retrofit !== undefined) throw new TwinlineError('USAGE', `give an after scenario or --retrofit, not both (after: ${o.after}, --retrofit ${o.retrofit})`);
  if (o.after === undefined && o.retrofit === undefined) throw new TwinlineError('USAGE', 'compare needs an after scenario or --retrofit step,…');
  if (o.prices !== undefined && o.retrofit === undefined) throw new TwinlineError('USAGE', '--prices needs --retrofit: the capital cost comes from the retrofit steps');
  const b = load(o.before);
  let a: { file: string; text: string; spec: LineSpec };
  let built: ReturnType<typeof buildRetrofit> | null = null;
  if (o.retrofit !== undefined) {
    built = buildRetrofit(b.text, b.spec, retrofitList(o.retrofit));
    a = { file: built.spec.file, text: built.text, spec: built.spec };
  } else {
    a = load(o.after ?? '');
  }
  const prices = o.prices === undefined ? DEFAULT_PRICES : loadPrices(o.prices);
  checkSameLine(b.spec, a.spec);
  const warnings: string[] = [];
  if (b.spec.designRate === null || a.spec.designRate === null || b.spec.designRate !== a.spec.designRate) {
    warnings.push(`the line's planned rate (designRate) is not declared the same in both (${b.spec.id}: ${rateText(b.spec)}, ${a.spec.id}: ${rateText(a.spec)}): performance and OEE may be scored against different rates; declare designRate in both`);
  }
  if (o.seeds < 2) warnings.push('one seed per scenario: no standard deviation or confidence interval; use --seeds 2 or more');
  for (const w of warnings) warn(w);
  const jobs: Job[] = [];
  for (const [variant, x] of [['before', b], ['after', a]] as const) {
    for (let i = 0; i < o.seeds; i++) jobs.push({ variant, scenario: x.spec.id, text: x.text, file: x.file, seed: (x.spec.seed + i) % 2 ** 32 });
  }
  const workers = Math.max(1, Math.min(o.workers ?? availableParallelism(), jobs.length));
  const t0 = performance.now();
  const runs = await runPool(jobs, workers, o);
  const wallSeconds = Math.round(performance.now() - t0) / 1000;
  const empty = runs.filter((r) => r.kpis.shipped === 0).map((r) => `${r.scenario} seed ${r.seed}`);
  if (empty.length > 0) {
    const w = `no part left the line in ${empty.join(', ')}: the KPIs describe the line filling, not its steady state; use --warmup or more --hours`;
    warnings.push(w);
    warn(w);
  }
  const kpis = compareKpis(runs.filter((r) => r.variant === 'before'), runs.filter((r) => r.variant === 'after'));
  const head = (x: typeof b): CompareResult['before'] => ({ scenario: x.spec.id, file: x.file, title: x.spec.title.en });
  const econ = built === null ? {} : { economics: economics(kpis, o.hours, built.steps, prices, o.prices ?? null) };
  return { before: head(b), after: head(a), hours: o.hours, warmupHours: o.warmupS / 3600, seeds: o.seeds, workers, wallSeconds, warnings, kpis, ...econ, runs };
}

function rateText(s: LineSpec): string {
  return s.designRate === null ? 'from the machines' : `${Math.round(s.designRate * 3600 * 100) / 100}/h`;
}

const fmt = (x: number | null, digits: number): string => (x === null ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** Digits to show for a KPI of this size. */
function digitsFor(x: number): number {
  const m = Math.abs(x);
  return m === 0 || m >= 100 ? 1 : m >= 1 ? 2 : 4;
}

/** The comparison as a text table. */
export function formatComparison(r: CompareResult): string {
  const head = `${r.before.scenario} → ${r.after.scenario} · ${r.seeds} seed${r.seeds === 1 ? '' : 's'} each · ${fmt(r.hours, 2)} h${r.warmupHours > 0 ? ` after a ${fmt(r.warmupHours, 2)} h warm-up` : ''} · ${r.workers} workers · ${fmt(r.wallSeconds, 1)} s`;
  const rows = Object.entries(r.kpis).map(([name, k]) => {
    const d = digitsFor(Math.max(Math.abs(k.before.mean), Math.abs(k.after.mean)));
    const ci = k.deltaPct.lo === null || k.deltaPct.hi === null ? '' : ` [${fmt(k.deltaPct.lo, 1)}, ${fmt(k.deltaPct.hi, 1)}]`;
    return [name, `${fmt(k.before.mean, d)} ± ${fmt(k.before.sd, d)}`, `${fmt(k.after.mean, d)} ± ${fmt(k.after.sd, d)}`, k.deltaPct.mean === null ? '–' : `${k.deltaPct.mean >= 0 ? '+' : ''}${fmt(k.deltaPct.mean, 1)} %${ci}`];
  });
  const table = renderTable(['KPI', 'before (mean ± sd)', 'after (mean ± sd)', 'change, 95 % CI'], rows, [false, true, true, true]);
  const econ = r.economics === undefined ? [] : [formatEconomics(r.economics)];
  return [head, '', table, '', ...econ].join('\n');
}

/** `twinline compare`: returns the exit code. */
export async function compareCommand(o: CompareOptions, io: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean } }): Promise<number> {
  const r = await compareScenarios(o, (w) => io.stderr.write(`warning: ${w}\n`));
  if (o.html !== undefined) {
    try {
      writeFileSync(o.html, compareHtml(r));
    } catch (e) {
      throw new TwinlineError('IO', `cannot write the HTML report (${(e as { code?: string }).code ?? String(e)})`, { file: o.html });
    }
    io.stderr.write(`wrote ${o.html}\n`);
  }
  io.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatComparison(r));
  return 0;
}
