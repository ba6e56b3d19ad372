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
import { readScenario, RunRecord, twinlineVersion, type RunMeta } from './record.ts';
import { formatKpiReport } from './table.ts';

/** Options of `twinline run`. */
export interface RunOptions {
  file: string;
  /** simulated hours [h] */
  hours: number;
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
  kpis: LineKpis;
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
  const text = readScenario(o.file);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const sim = await openSim(text, o);
  try {
    const { api, info } = sim;
    const total = Math.round((o.hours * 3600) / info.dt);
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
          tick = await api.step(Math.min(CHUNK, total - tick));
          await take();
          bar.update(tick * info.dt);
          // a macrotask turn, so signals are seen even when the simulation runs in this thread
          await new Promise((r) => setImmediate(r));
        }
      } else {
        await api.setSpeed(o.speed);
        await api.start(total);
        for (;;) {
          await new Promise((r) => setTimeout(r, POLL_MS));
          await take();
          const s = await api.state();
          bar.update(s.simTimeS);
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
    const result: RunResult = {
      scenario: info.id, title: info.title.en, file: o.file, seed: info.seed, hours: o.hours, ticks: st.tick, speed: o.speed, interrupted,
      worker: o.worker, events: st.events, eventLogHash: await api.eventLogHash(), wallSeconds: Math.round(wallSeconds * 1000) / 1000,
      simSpeed: Math.round(st.simTimeS / wallSeconds), kpis: st.kpis,
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
