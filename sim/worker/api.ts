/**
 * The `SimApi`: what a host (CLI, server, browser) can ask of one simulated line, whether the
 * line runs in the same thread, in a Node `worker_threads` worker or in a browser Web Worker
 * (through comlink). Every value crossing it is structured-cloneable plain data.
 */
import type { AuditEntry, Command, CommandResult, LoggedCommand } from '../core/commands.ts';
import type { Problem } from '../core/errors.ts';
import type { SimEvent } from '../core/events.ts';
import type { KpiBase, LineKpis } from '../core/kpi.ts';

/** Speed factor: N × real time (1 = real time), or `'max'`: as fast as the CPU allows. */
export type Speed = number | 'max';

/** Options for loading a scenario. */
export interface LoadOptions {
  /** seed; default: the scenario's */
  seed?: number;
  /** do not latch the line to start at tick 0 */
  paused?: boolean;
}

/** What a loaded scenario is. */
export interface LoadedInfo {
  id: string;
  title: { en: string; zh: string };
  file: string;
  seed: number;
  /** tick length [s] */
  dt: number;
  stations: { id: string; kind: string }[];
}

/** Result of `load()`: bad scenarios are data, not exceptions, so they survive comlink. */
export type LoadResult = { ok: true; info: LoadedInfo } | { ok: false; problems: Problem[] };

/** Tick period error statistics of real-time pacing [ms]. */
export interface PacingStats {
  /** ticks measured */
  ticks: number;
  /** median |actual − ideal| tick period [ms] */
  p50: number;
  /** 99th percentile [ms] */
  p99: number;
  /** worst [ms] */
  max: number;
  /** how far the simulation is behind its real-time schedule now [ms] */
  lagMs: number;
  /** times the schedule was given up because the lag exceeded the catch-up limit */
  slips: number;
}

/** One station, compactly. */
export interface StationState {
  id: string;
  kind: string;
  /** PackML state name, e.g. `Execute` */
  state: string;
  /** unit mode name, e.g. `Production` */
  mode: string;
  /** active fault name, `none` when healthy */
  fault: string;
  /** active alarm bits */
  alarms: number;
  /** parts held now */
  queue: number;
  partsOut: number;
  /** [W] */
  power: number;
  /** 0 (new) … 1 (worn out) */
  wear: number;
  /** `starved`, `busy` or `blocked` */
  activity: string;
}

/** What `state()` returns. */
export interface SimState {
  tick: number;
  /** simulated time since start [s] */
  simTimeS: number;
  /** whether the real-time loop is running */
  running: boolean;
  speed: Speed;
  /** tick at which the loop pauses by itself, or null */
  untilTick: number | null;
  /** simulated seconds per wall second over the current run (0 while paused) */
  rate: number;
  /** events in the log so far */
  events: number;
  /** events not yet drained */
  undrained: number;
  /** events dropped because nobody drained them (the buffer is bounded) */
  dropped: number;
  pacing: PacingStats;
  stations: StationState[];
  kpis: LineKpis;
}

/** Where zero-copy readers find the world: build a `World` over `buffer` (see reader.ts). */
export interface SharedView {
  buffer: ArrayBufferLike;
  text: string;
  file: string;
  seed: number;
}

/** The simulation of one line, as served from a worker. */
export interface SimApi {
  /** Parses `text` (a scenario file's content; `file` is its name for messages) and builds the world. */
  load(text: string, file: string, opts?: LoadOptions): LoadResult;
  /** Starts (or resumes) real-time stepping at the current speed; pauses by itself at `untilTick`. */
  start(untilTick?: number): void;
  /** Pauses real-time stepping. */
  pause(): void;
  /** Advances `n` ticks now, as fast as possible (while paused); returns the tick reached. */
  step(n: number): number;
  /** Speed factor (1 = real time) or 'max'. */
  setSpeed(speed: Speed): void;
  /** Queues a command; resolves with its result when a tick applies it (while paused: at the next `step`). */
  send(cmd: Command): Promise<CommandResult>;
  /** Logs what a protocol face decided by itself (an `audit` event at the next tick); false if the entry is malformed. */
  audit(entry: AuditEntry): boolean;
  state(): SimState;
  /** From now on `state().kpis` leave out what came before this tick (a warm-up); returns the tick. */
  markKpiStart(): number;
  /** The accumulators `markKpiStart` kept (null: KPIs cover the whole run). */
  kpiStart(): KpiBase | null;
  /** KPIs leave out what came before `base`, a `kpiStart()` of this same run (kept across a restore of its snapshot). */
  setKpiStart(base: KpiBase | null): void;
  /** Events logged since the last drain, in order. */
  drainEvents(): SimEvent[];
  /** Commands applied so far from index `from` (the replayable command log). */
  commands(from?: number): LoggedCommand[];
  snapshot(): Uint8Array;
  /** Restores a snapshot of the same line; the line pauses. */
  restore(bytes: Uint8Array): void;
  /** After `restore`: schedules a run's logged commands from the snapshot's tick on at their ticks (World.replayLogged); returns how many. */
  replay(commands: LoggedCommand[]): number;
  eventLogHash(): string;
  /** The shared state buffer and what is needed to lay a reader over it. */
  shared(): SharedView;
}

/** `T` with every method returning a promise: how a comlink remote (or an async wrapper) looks. */
export type AsyncApi<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

/** Every method of `SimApi`, for adapters that wrap one. */
export const SIM_API_METHODS = [
  'load', 'start', 'pause', 'step', 'setSpeed', 'send', 'audit', 'state', 'markKpiStart', 'kpiStart', 'setKpiStart', 'drainEvents', 'commands', 'snapshot', 'restore', 'replay', 'eventLogHash', 'shared',
] as const satisfies readonly (keyof SimApi)[];

/**
 * An async view of a `SimApi` implementation (local object or comlink remote). `guard`
 * wraps every call, e.g. to fail calls when the worker behind them dies.
 */
export function asyncApi(target: object, guard: <T>(p: Promise<T>) => Promise<T> = (p) => p): AsyncApi<SimApi> {
  const t = target as Record<string, (...a: unknown[]) => unknown>;
  const out: Record<string, (...a: unknown[]) => Promise<unknown>> = {};
  for (const m of SIM_API_METHODS) out[m] = (...a) => guard(Promise.resolve().then(() => t[m]!(...a)));
  return out as unknown as AsyncApi<SimApi>;
}
