/**
 * `SimEngine`: the one implementation of `SimApi`. It owns the world, runs it paced in real
 * time (× speed) or as fast as possible, buffers its events for `drainEvents()` and answers
 * commands. No Node and no DOM imports: the same class is served from a Node worker, a
 * browser Web Worker, or used in-process by the CLI.
 */
import type { World } from '../core/world.ts';
import { computeKpis, kpiBase, type KpiBase } from '../core/kpi.ts';
import { TwinlineError, type Problem } from '../core/errors.ts';
import type { SimEvent } from '../core/events.ts';
import { auditCommand, type AuditEntry, type Command, type CommandResult, type LoggedCommand } from '../core/commands.ts';
import { FAULT_NAMES } from '../core/station.ts';
import { MODE_NAMES, STATE_NAMES } from '../plc/packml.ts';
import { createWorld } from '../line/build.ts';
import { parseScenario } from '../line/parse.ts';
import type { LineSpec } from '../line/types.ts';
import type { LoadedInfo, LoadOptions, LoadResult, SharedView, SimApi, SimState, Speed, StationState } from './api.ts';
import { atomicsClock, Pacer, type PaceClock } from './pacer.ts';
import { checkAudit, checkCommand, commandKey, eventKey } from './command-check.ts';

/** Injectable scheduling of the engine (tests use fakes; hosts pick the fastest yield). */
export interface EngineOptions {
  clock?: PaceClock;
  /** runs `fn` soon, after pending messages: `setImmediate` in Node, a MessageChannel in browsers */
  defer?: (fn: () => void) => void;
}

/** Between two yields to the event loop the engine runs at most this long [ms]. */
const SLICE_MS = 2;
/** Largest batch of ticks run back to back when catching up. */
const CATCH_UP_BATCH = 50;
/** Ticks per write batch at max speed (readers retry while a batch is being written). */
const MAX_BATCH = 64;
/** Undrained events kept at most; newer ones are counted as dropped. */
const EVENT_BUFFER = 500_000;
const ACTIVITY = ['starved', 'busy', 'blocked'];

function messageChannelDefer(): (fn: () => void) => void {
  const ch = new MessageChannel();
  const queue: (() => void)[] = [];
  ch.port1.onmessage = () => queue.shift()?.();
  return (fn) => {
    queue.push(fn);
    ch.port2.postMessage(0);
  };
}

interface PendingSend {
  key: string;
  resolve: (r: CommandResult) => void;
}

/** The simulation of one line behind the `SimApi`. */
export class SimEngine implements SimApi {
  private w: World | null = null;
  private spec: LineSpec | null = null;
  private text = '';
  private seed = 0;
  private speed: Speed = 1;
  private running = false;
  private untilTick: number | null = null;
  private events: SimEvent[] = [];
  private dropped = 0;
  private sends: PendingSend[] = [];
  private readonly clock: PaceClock;
  private readonly defer: (fn: () => void) => void;
  private readonly pacer: Pacer;
  private runStartWall = 0;
  private runStartTick = 0;
  private pumpQueued = false;
  /** accumulators at the end of the warm-up; null: KPIs cover the whole run */
  private kpiFrom: KpiBase | null = null;

  constructor(opts: EngineOptions = {}) {
    this.clock = opts.clock ?? atomicsClock();
    this.defer = opts.defer ?? messageChannelDefer();
    this.pacer = new Pacer(this.clock);
  }

  private get world(): World {
    if (this.w === null) throw new TwinlineError('USAGE', 'no scenario loaded: call load() first');
    return this.w;
  }

  load(text: string, file: string, opts: LoadOptions = {}): LoadResult {
    const seed = opts.seed;
    if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
      return { ok: false, problems: [{ code: 'BAD_ARGUMENT', message: `seed must be a whole number in [0, 2^32), got ${seed}`, where: { file } }] };
    }
    let spec: LineSpec;
    let w: World;
    try {
      spec = parseScenario(text, file);
      w = createWorld(spec, { ...(opts.seed !== undefined ? { seed: opts.seed } : {}), paused: opts.paused === true });
    } catch (e) {
      if (e instanceof TwinlineError) return { ok: false, problems: e.problems.map((p): Problem => ({ ...p, where: { file, ...p.where } })) };
      throw e;
    }
    this.pause();
    this.failSends('a new scenario was loaded');
    this.w = w;
    this.spec = spec;
    this.text = text;
    this.seed = opts.seed ?? spec.seed;
    this.events = [];
    this.dropped = 0;
    this.kpiFrom = null;
    return { ok: true, info: this.info() };
  }

  private info(): LoadedInfo {
    const spec = this.spec as LineSpec;
    return {
      id: spec.id, title: spec.title, file: spec.file, seed: this.seed, dt: spec.dt,
      stations: spec.stations.map((s) => ({ id: s.id, kind: s.kind })),
    };
  }

  start(untilTick?: number): void {
    const w = this.world;
    if (untilTick !== undefined && !Number.isInteger(untilTick)) throw new TwinlineError('BAD_ARGUMENT', `start needs a whole tick number to stop at, got ${untilTick}`);
    this.untilTick = untilTick ?? null;
    if (this.untilTick !== null && w.tick >= this.untilTick) return;
    if (!this.running) {
      this.running = true;
      this.runStartWall = this.clock.now();
      this.runStartTick = w.tick;
      this.pacer.restart(this.periodMs());
    }
    this.schedulePump();
  }

  pause(): void {
    this.running = false;
  }

  step(n: number): number {
    const w = this.world;
    if (!Number.isInteger(n) || n < 0) throw new TwinlineError('BAD_ARGUMENT', `step needs a whole number of ticks ≥ 0, got ${n}`);
    for (let left = n; left > 0; ) {
      const k = Math.min(left, MAX_BATCH);
      this.advance(w, k);
      left -= k;
    }
    return w.tick;
  }

  setSpeed(speed: Speed): void {
    if (speed !== 'max' && !(typeof speed === 'number' && Number.isFinite(speed) && speed > 0 && speed <= 1e6)) {
      throw new TwinlineError('BAD_ARGUMENT', `speed must be 'max' or a factor in (0, 1e6], got ${String(speed)}`);
    }
    this.speed = speed;
    if (this.running) {
      this.runStartWall = this.clock.now();
      this.runStartTick = this.world.tick;
      this.pacer.restart(this.periodMs());
    }
  }

  send(cmd: Command): Promise<CommandResult> {
    const bad = checkCommand(cmd);
    if (bad !== null) return Promise.resolve(bad);
    const w = this.world;
    return new Promise((resolve) => {
      this.sends.push({ key: commandKey(cmd), resolve });
      w.enqueue(cmd);
    });
  }

  audit(entry: AuditEntry): boolean {
    if (checkAudit(entry) !== null) return false;
    this.world.enqueue(auditCommand(entry));
    return true;
  }

  state(): SimState {
    const w = this.world;
    const st = w.st;
    const stations: StationState[] = [];
    for (let s = 0; s < w.size; s++) {
      stations.push({
        id: w.ids[s] ?? '',
        kind: w.kindOf[s]?.kind ?? '',
        state: STATE_NAMES[st.state[s] ?? 0] ?? 'Undefined',
        mode: MODE_NAMES[st.mode[s] ?? 0] ?? 'Undefined',
        fault: FAULT_NAMES[st.fault[s] ?? 0] ?? 'unknown',
        alarms: st.alarms[s] ?? 0,
        queue: w.qLen[s] ?? 0,
        partsOut: st.partsOut[s] ?? 0,
        power: st.power[s] ?? 0,
        wear: st.wear[s] ?? 0,
        activity: ACTIVITY[st.activity[s] ?? 0] ?? 'starved',
      });
    }
    const p = this.pacer;
    const wallS = (this.clock.now() - this.runStartWall) / 1000;
    return {
      tick: w.tick,
      simTimeS: w.tick * w.dt,
      running: this.running,
      speed: this.speed,
      untilTick: this.untilTick,
      rate: this.running && wallS > 0 ? ((w.tick - this.runStartTick) * w.dt) / wallS : 0,
      events: w.eventCount,
      undrained: this.events.length,
      dropped: this.dropped,
      pacing: { ticks: p.stats.ticks, p50: p.stats.quantile(0.5), p99: p.stats.quantile(0.99), max: p.stats.max, lagMs: p.lagMs, slips: p.slips },
      stations,
      kpis: computeKpis(w, this.kpiFrom),
    };
  }

  markKpiStart(): number {
    const w = this.world;
    this.kpiFrom = kpiBase(w);
    return w.tick;
  }

  kpiStart(): KpiBase | null {
    return this.kpiFrom;
  }

  setKpiStart(base: KpiBase | null): void {
    this.kpiFrom = base;
  }

  drainEvents(): SimEvent[] {
    this.collect(this.world);
    const out = this.events;
    this.events = [];
    return out;
  }

  commands(from = 0): LoggedCommand[] {
    return this.world.commandsFrom(from);
  }

  snapshot(): Uint8Array {
    return this.world.takeSnapshot();
  }

  restore(bytes: Uint8Array): void {
    const w = this.world;
    if (!(bytes instanceof Uint8Array)) throw new TwinlineError('BAD_ARGUMENT', 'restore needs the bytes of a snapshot (Uint8Array)');
    // a bad snapshot is refused before anything is copied, so the line runs on untouched
    w.beginWrite();
    try {
      w.restoreSnapshot(bytes);
    } finally {
      w.endWrite();
    }
    this.pause();
    // a base from another timeline would subtract counts this one never had
    this.kpiFrom = null;
    // the abandoned future's events and commands no longer happen
    this.events = [];
    this.failSends('discarded by a snapshot restore');
  }

  replay(commands: LoggedCommand[]): number {
    if (!Array.isArray(commands)) throw new TwinlineError('BAD_ARGUMENT', 'replay needs a list of logged commands');
    return this.world.replayLogged(commands);
  }

  eventLogHash(): string {
    return this.world.eventLogHash();
  }

  shared(): SharedView {
    return { buffer: this.world.buffer, text: this.text, file: this.spec?.file ?? '', seed: this.seed };
  }

  // ───────────────────────────── the loop ─────────────────────────────

  private periodMs(): number {
    const dtMs = this.world.dt * 1000;
    return this.speed === 'max' ? dtMs : dtMs / this.speed;
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    this.defer(this.pump);
  }

  /** One slice of the loop: runs (paced) ticks for up to SLICE_MS, then yields to messages. */
  private readonly pump = (): void => {
    this.pumpQueued = false;
    const w = this.w;
    if (!this.running || w === null) return;
    const sliceEnd = this.clock.now() + SLICE_MS;
    while (this.running) {
      let n: number;
      if (this.speed === 'max') {
        n = MAX_BATCH;
      } else {
        n = this.pacer.next(sliceEnd, CATCH_UP_BATCH);
        if (n === 0) break;
      }
      if (this.untilTick !== null) n = Math.min(n, this.untilTick - w.tick);
      this.advance(w, n);
      if (this.untilTick !== null && w.tick >= this.untilTick) this.running = false;
      if (this.clock.now() >= sliceEnd) break;
    }
    if (this.running) this.schedulePump();
  };

  /** Steps `n` ticks as one write batch and collects their events. */
  private advance(w: World, n: number): void {
    w.beginWrite();
    try {
      w.step(n);
    } finally {
      w.endWrite();
    }
    this.collect(w);
  }

  private readonly onEvent = (e: SimEvent): void => {
    if ((e.type === 'command' || e.type === 'rejected') && this.sends.length > 0) this.settle(e);
    if (this.events.length < EVENT_BUFFER) this.events.push(e);
    else this.dropped++;
  };

  private collect(w: World): void {
    w.drainEvents(this.onEvent);
  }

  /** Resolves the oldest pending send this command event answers. */
  private settle(e: SimEvent): void {
    const key = eventKey(e);
    const k = this.sends.findIndex((p) => p.key === key);
    if (k < 0) return;
    const [p] = this.sends.splice(k, 1);
    const d = e.data;
    p?.resolve(e.type === 'command' ? { ok: true } : { ok: false, code: String(d.code), reason: String(d.reason) });
  }

  private failSends(reason: string): void {
    const s = this.sends;
    this.sends = [];
    for (const p of s) p.resolve({ ok: false, code: 'NOT_ALLOWED', reason });
  }
}
