/**
 * `twinline run`: runs a scenario for a number of simulated hours, in this thread or in a
 * worker thread (same `SimApi`, same event-log hash), prints the KPI report or one JSON
 * object, and optionally writes the run record.
 */
import { performance } from 'node:perf_hooks';
import { TwinlineError } from '../core/errors.ts';
import type { LineKpis } from '../core/kpi.ts';
import { asyncApi, type AsyncApi, type LoadedInfo, type SimApi, type Speed } from '../worker/api.ts';
import { SimEngine } from '../worker/engine.ts';
import { loadRemote, spawnNodeSim } from '../worker/node-host.ts';
import { ProgressBar, type BarStream } from './progress.ts';
import { loadScenario, RunRecord, twinlineVersion, type RunMeta } from './record.ts';
import { formatKpiReport } from './table.ts';

/** Options of `twinline run`. */
export interface RunOptions {
  file: string;
  /** simulated hours the KPIs cover [h] */
  hours: number;
  /** simulated seconds run first and left out of the KPIs (the line filling) [s]; default 0 */
  warmupS?: number;
  /** default: the scenario's */
  seed?: number;
  speed: Speed;
  json: boolean;
  /** directory for the run record */
  out?: string;
  /** run in a worker thread */
  worker: boolean;
}

/** Where `run` writes. */
export interface RunIo {
  stdout: { write(s: string): boolean };
  stderr: BarStream;
}

/** The JSON object `run --json` prints. */
export interface RunResult {
  scenario: string;
  title: string;
  file: string;
  seed: number;
  hours: number;
  ticks: number;
  speed: Speed;
  /** stopped early by Ctrl-C (`ticks` says how far it got) */
  interrupted: boolean;
  worker: boolean;
  /** events in the log */
  events: number;
  eventLogHash: string;
  wallSeconds: number;
  /** simulated seconds per wall second */
  simSpeed: number;
  /** warm-up left out of the KPIs [h] */
  warmupHours: number;
  /** when the first part left the last station [h of the run]: the line's fill; null if none did */
  fillHours: number | null;
  /** why the KPIs may not describe the steady state (also printed on stderr) */
  warnings: string[];
  kpis: LineKpis;
}

/** The fill may take this share of the measured window before `run` warns that KPIs include it. */
const FILL_SHARE_WARN = 0.02;

const hoursText = (h: number): string => `${h < 0.1 ? h.toFixed(3) : h.toFixed(2)} h`;

/** Warnings for KPIs read before the line reached its steady state. */
export function steadyStateWarnings(o: { hours: number; warmupHours: number; fillHours: number | null; runHours: number; interrupted: boolean }): string[] {
  if (o.fillHours === null) {
    return [`no part left the last station in ${hoursText(o.runHours)}: the KPIs describe the line filling, not its steady state; run longer (--hours)`];
  }
  const inWindow = o.fillHours - o.warmupHours;
  if (inWindow <= FILL_SHARE_WARN * o.hours) return [];
  const measured = o.warmupHours > 0 ? `the KPIs start after the ${hoursText(o.warmupHours)} warm-up, before the fill ended` : 'the KPIs include the fill';
  return [`the line took ${hoursText(o.fillHours)} to fill (first part out of the last station); ${measured}, so rates and per-day figures are low. Use --warmup ${Math.ceil(o.fillHours * 10) / 10}h or more to measure the steady state`];
}

/** Ticks per `step()` call at max speed: a simulated minute at 1 ms. */
const CHUNK = 60_000;
/** How often a paced run is polled for events and progress [ms]. */
const POLL_MS = 200;

interface OpenSim {
  api: AsyncApi<SimApi>;
  info: LoadedInfo;
  close(): Promise<void>;
}

async function openSim(text: string, o: RunOptions): Promise<OpenSim> {
  const loadOpts = o.seed !== undefined ? { seed: o.seed } : {};
  if (o.worker) {
    const sim = spawnNodeSim();
    try {
      const info = await loadRemote(sim.api, text, o.file, loadOpts);
      return { api: sim.api, info, close: () => sim.terminate() };
    } catch (e) {
      await sim.terminate();
      throw e;
    }
  }
  const engine = new SimEngine({ defer: (fn) => setImmediate(fn) });
  const r = engine.load(text, o.file, loadOpts);
  if (!r.ok) throw TwinlineError.of(r.problems);
  return { api: asyncApi(engine), info: r.info, close: async () => engine.pause() };
}

/** Runs the scenario; returns what `--json` prints (the caller prints it or the table). */
export async function runScenario(o: RunOptions, io: RunIo): Promise<RunResult> {
  if (!(o.hours > 0 && o.hours <= 24 * 366)) throw new TwinlineError('USAGE', `--hours must be in (0, 8784], got ${o.hours}`);
  const loaded = loadScenario(o.file);
  const text = loaded.text;
  o = { ...o, file: loaded.file };
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const sim = await openSim(text, o);
  try {
    const { api, info } = sim;
    const warmupTicks = Math.round((o.warmupS ?? 0) / info.dt);
    const total = warmupTicks + Math.round((o.hours * 3600) / info.dt);
    // the fill: the first tick seen with a part shipped (to a chunk or a poll)
    let fillTick: number | null = null;
    const watchFill = async (tick: number): Promise<void> => {
      if (fillTick !== null) return;
      const s = await api.state();
      if (s.kpis.shipped > 0) fillTick = tick;
    };
    const record = o.out !== undefined ? new RunRecord(o.out) : null;
    const bar = new ProgressBar(io.stderr, total * info.dt, () => performance.now());
    const take = async (): Promise<void> => {
      const ev = await api.drainEvents();
      record?.addEvents(ev);
    };
    // Ctrl-C ends the run early but still writes a complete record of what ran
    let interrupted = false;
    const onSigint = (): void => {
      interrupted = true;
    };
    process.once('SIGINT', onSigint);
    try {
      if (o.speed === 'max') {
        for (let tick = 0; tick < total && !interrupted; ) {
          const to = tick < warmupTicks ? warmupTicks : total;
          tick = await api.step(Math.min(CHUNK, to - tick));
          if (tick === warmupTicks && warmupTicks > 0) {
            await watchFill(tick);
            await api.markKpiStart();
          }
          await take();
          await watchFill(tick);
          bar.update(tick * info.dt);
          // a macrotask turn, so signals are seen even when the simulation runs in this thread
          await new Promise((r) => setImmediate(r));
        }
      } else {
        await api.setSpeed(o.speed);
        let marked = warmupTicks === 0;
        await api.start(marked ? total : warmupTicks);
        for (;;) {
          await new Promise((r) => setTimeout(r, POLL_MS));
          await take();
          const s = await api.state();
          if (fillTick === null && s.kpis.shipped > 0) fillTick = s.tick;
          bar.update(s.simTimeS);
          if (!s.running && !marked && !interrupted) {
            // the warm-up ran to its tick and paused there: KPIs start now
            marked = true;
            await api.markKpiStart();
            await api.start(total);
            continue;
          }
          if (!s.running) break;
          if (interrupted) {
            await api.pause();
            break;
          }
        }
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
    await take();
    bar.done();
    const st = await api.state();
    if (interrupted) io.stderr.write(`interrupted after ${(st.simTimeS / 3600).toFixed(3)} of ${o.hours} simulated hours\n`);
    if (st.dropped > 0) io.stderr.write(`warning: ${st.dropped} events were dropped before they could be written\n`);
    const wallSeconds = (performance.now() - t0) / 1000;
    const warmupHours = (warmupTicks * info.dt) / 3600;
    const fillHours = fillTick === null ? null : Math.round(((fillTick as number) * info.dt) / 3600 * 1000) / 1000;
    const warnings = interrupted ? [] : steadyStateWarnings({ hours: o.hours, warmupHours, fillHours, runHours: st.simTimeS / 3600, interrupted });
    for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
    const result: RunResult = {
      scenario: info.id, title: info.title.en, file: o.file, seed: info.seed, hours: o.hours, ticks: st.tick, speed: o.speed, interrupted,
      worker: o.worker, events: st.events, eventLogHash: await api.eventLogHash(), wallSeconds: Math.round(wallSeconds * 1000) / 1000,
      simSpeed: Math.round(st.simTimeS / wallSeconds), warmupHours, fillHours, warnings, kpis: st.kpis,
    };
    if (record !== null) {
      const meta: RunMeta = {
        scenario: info.id, file: o.file, seed: info.seed, hours: o.hours, ticks: st.tick, speed: o.speed, interrupted, worker: o.worker,
        events: st.events, eventLogHash: result.eventLogHash, twinlineVersion: twinlineVersion(), startedAt, wallSeconds: result.wallSeconds,
      };
      record.finish(st.tick, st.kpis, await api.commands(), meta);
    }
    return result;
  } finally {
    await sim.close();
  }
}

/** `twinline run`: runs and prints the report (or JSON); returns the exit code. */
export async function runCommand(o: RunOptions, io: RunIo): Promise<number> {
  const r = await runScenario(o, io);
  if (o.json) io.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    io.stdout.write(formatKpiReport(r.kpis, { scenario: r.scenario, title: r.title, seed: r.seed, hours: r.hours, events: r.events, eventLogHash: r.eventLogHash, wallSeconds: r.wallSeconds }));
    if (o.out !== undefined) io.stdout.write(`\nrun record: ${o.out}\n`);
  }
  // 130: the shell's code for a run ended by SIGINT
  return r.interrupted ? 130 : 0;
}
