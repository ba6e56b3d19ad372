/**
 * The world: a fixed-step simulation of one line. All numeric state lives in one buffer
 * (header, station arrays, kind arrays, part pool, RNG and hash words), so a snapshot is a copy
 * of its bytes. One writer: whoever calls `step()`. Structure is fixed at construction; during
 * a tick only values change.
 */
import { COMMON_FIELDS, Fault, FAULT_NAMES, ALARM_BREAKDOWN, ALARM_JAM, ALARM_WEAR, type CommonField, type StationArrays } from './station.ts';
import { PartFlag, type PartArrays } from './parts.ts';
import { layoutWorld, H, withDefaults } from './world-layout.ts';
export { withDefaults };
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import { accountTick, settleLabour, transferParts } from './tick.ts';
import { advanceQuiet, quietTicks } from './advance.ts';
import { exponential, seedState } from './rng.ts';
import { HASH_INIT_A, HASH_INIT_B, hashHex } from './hash.ts';
import { hashEvent, type EventData, type EventType, type SimEvent } from './events.ts';
import { AUDIT, type Command, type CommandResult, type LoggedCommand } from './commands.ts';
import type { FieldSpec, KindView, MachineKind } from './types.ts';
import { TwinlineError } from './errors.ts';
import { crewTick, initCrews, type CrewDef, type CrewState } from './crew.ts';
import { offSpecPart, type Disturbances } from './disturbance.ts';
import { applyCommand, plcScanAll } from '../plc/plc.ts';
import { State, STATE_NAMES } from '../plc/packml.ts';
import { plannedCycleTimes, type PlannedStops } from './iso22400.ts';

/** A station as the world needs it; the line builder makes these from a scenario. */
export interface StationDef {
  id: string;
  kind: MachineKind;
  /** parameter values in the field's unit (common or kind fields with access 'rw') */
  params: Readonly<Record<string, number>>;
  /** station that takes finished parts, or null (sinks) */
  next: string | null;
  /** station that takes parts flagged rejected, or null (they follow `next`) */
  reject: string | null;
  /** declared planned run time per part (ISO 22400-2) [s]; default: the kind's ideal cycle at start */
  plannedCycleTime?: number;
}

/** Everything needed to build a world. */
export interface WorldDef {
  /** tick length [s] */
  dt: number;
  seed: number;
  stations: readonly StationDef[];
  /** simulated time between KPI snapshot events [s] */
  kpiInterval?: number;
  /** planned (design) rate of the line [parts/s]; default: the slowest station's planned cycle */
  designRate?: number;
  /** planned breaks of every shift (ISO 22400 planned downtime), for the KPIs */
  plannedStops?: PlannedStops;
  /** crews whose people the stations' tasks take (crew.ts); none: stations use `operators` */
  crews?: readonly CrewDef[];
}


const ROLE_SOURCE = 0;
const ROLE_PROCESS = 1;
const ROLE_SINK = 2;
/** commands the world keeps in memory; a long-running host appends the rest to disk */
export const COMMAND_LOG_MAX = 20_000;

/** A command's arguments as logged: JSON, with NaN and ±Infinity written as what they were (JSON has no literal for them). */
export function argsText(args: Command['args']): string {
  return JSON.stringify(args ?? {}, keepNonFinite);
}

/** A JSON.stringify replacer that writes NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity" instead of null. */
export function keepNonFinite(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}


/** Simulation world of one line. */
export class World {
  /** tick length [s] */
  readonly dt: number;
  /** current tick (mirrored into the buffer at the end of every tick) */
  tick = 0;
  readonly ids: readonly string[];
  readonly kindOf: readonly MachineKind[];
  /** the kind view of each station */
  readonly viewOf: readonly KindView[];
  /** instance index of each station within its kind */
  readonly inst: Int32Array;
  readonly nextOf: Int32Array;
  readonly rejectOf: Int32Array;
  readonly st: StationArrays;
  readonly parts: PartArrays;
  /** crews and the stations' claims on them (crew.ts) */
  readonly crew: CrewState;
  /** disturbances running at each station (disturbance.ts) */
  readonly disturb: Disturbances;
  readonly qHead: Int32Array;
  readonly qTail: Int32Array;
  readonly qLen: Int32Array;
  readonly rng: Uint32Array;
  readonly buffer: ArrayBufferLike;
  /** kind views by kind id */
  readonly views: ReadonlyMap<string, KindView>;
  /** planned rate of the line [parts/s] (ISO 22400: 1 / planned run time per item) */
  readonly designRate: number;
  /** whether `designRate` was declared (the scenario's or the bottleneck's planned cycle), not derived from machine parameters */
  readonly designRateDeclared: boolean;
  /** planned run time per part of each station [s]; NaN: none (sources, sinks, kinds without an ideal rate) */
  readonly plannedCycleTime: Float64Array;
  /** planned breaks, or null (the whole run is planned busy time) */
  readonly plannedStops: PlannedStops | null;
  readonly kpiInterval: number;
  /** the newest `COMMAND_LOG_MAX` commands (a host keeps the whole log on disk) */
  readonly commandLog: LoggedCommand[] = [];
  /** commands dropped from the front of `commandLog` so far */
  commandLogDropped = 0;

  /** header slots (see `H` in world-layout.ts): counters and scalar state */
  readonly hdr: Float64Array;
  private readonly hashWords: Uint32Array;
  private readonly seqlock: Int32Array;
  private readonly signature: string;
  private readonly index = new Map<string, number>();
  private queue: Command[] = [];
  private schedule: LoggedCommand[] = [];
  private pending: SimEvent[] = [];
  private readonly scanTicks: Int32Array;
  /** ticks until each station's next PLC scan */
  private readonly scanLeft: Int32Array;
  /**
   * 1 while station s may need its PLC scan to act (see `plcScanAll`). Not part of the
   * state: a scan of a station that needs nothing does nothing, so after a restore all are 1.
   */
  readonly attention: Uint8Array;
  /** flow role of each station: 0 source, 1 process, 2 sink */
  readonly roleCode: Int8Array;
  private readonly stepFns: MachineKind['step'][];
  private readonly kpiTicks: number;
  /**
   * 'next-event' (default): `step()` advances stretches in which nothing happens in bulk;
   * 'per-tick': every tick in full. Both give identical state and event logs (a test holds
   * them to it); per-tick is the reference and the bench's baseline. Not part of the state.
   */
  timeAdvance: 'next-event' | 'per-tick' = 'next-event';
  /** called for periodic KPI events; set by the KPI module to avoid a cyclic import */
  kpiSnapshot: ((w: World) => EventData) | null = null;

  constructor(def: WorldDef, buffer?: ArrayBufferLike) {
    if (!(def.dt > 0)) throw new TwinlineError('OUT_OF_RANGE', `tick length must be > 0 s, got ${def.dt}`);
    this.dt = def.dt;
    const n = def.stations.length;
    const ids = def.stations.map((d) => d.id);
    ids.forEach((id, k) => {
      if (this.index.has(id)) throw new TwinlineError('SCENARIO_REFERENCE', `station id "${id}" is used twice`);
      this.index.set(id, k);
    });
    this.ids = ids;
    this.kindOf = def.stations.map((d) => d.kind);

    const mem = layoutWorld(def, buffer);
    this.inst = mem.inst;
    this.signature = mem.signature;
    this.buffer = mem.buffer;
    this.hdr = mem.hdr;
    this.rng = mem.rng;
    this.hashWords = mem.hashWords;
    this.seqlock = mem.seqlock;
    this.st = mem.st;
    this.qHead = mem.qHead;
    this.qTail = mem.qTail;
    this.qLen = mem.qLen;
    this.views = mem.views;
    this.viewOf = mem.viewOf;
    this.parts = mem.parts;
    this.crew = mem.crew;
    this.disturb = mem.disturb;

    const resolve = (from: string, to: string | null, what: string): number => {
      if (to === null) return -1;
      const k = this.index.get(to);
      if (k === undefined) throw new TwinlineError('SCENARIO_REFERENCE', `station "${from}" sends ${what} parts to "${to}", which does not exist`);
      return k;
    };
    this.nextOf = Int32Array.from(def.stations, (d) => resolve(d.id, d.next, 'finished'));
    this.rejectOf = Int32Array.from(def.stations, (d) => resolve(d.id, d.reject, 'rejected'));
    this.scanTicks = new Int32Array(n);
    this.scanLeft = mem.scanLeft;
    this.attention = new Uint8Array(n).fill(1);
    this.roleCode = Int8Array.from(this.kindOf, (k) => (k.role === 'source' ? ROLE_SOURCE : k.role === 'sink' ? ROLE_SINK : ROLE_PROCESS));
    this.stepFns = this.kindOf.map((k) => k.step);

    if (buffer === undefined) this.initialise(def);
    this.tick = this.hdr[H.tick] ?? 0;
    for (let s = 0; s < n; s++) this.scanTicks[s] = Math.max(1, Math.round((this.st.scanPeriod[s] ?? 0.001) / this.dt));
    this.kpiInterval = def.kpiInterval ?? 300;
    this.kpiTicks = Math.max(1, Math.round(this.kpiInterval / this.dt));
    const plan = plannedCycleTimes(this, def);
    this.plannedCycleTime = plan.perStation;
    this.designRate = def.designRate ?? plan.lineRate;
    this.designRateDeclared = def.designRate !== undefined || plan.declared;
    this.plannedStops = def.plannedStops ?? null;
  }

  private initialise(def: WorldDef): void {
    const n = def.stations.length;
    for (const [f, spec] of Object.entries(COMMON_FIELDS) as [CommonField, FieldSpec][]) this.st[f].fill(spec.default ?? 0);
    // once per kind in use: filling per station would be quadratic in the station count
    for (const kind of new Set(def.stations.map((d) => d.kind))) {
      const v = this.views.get(kind.kind) as KindView;
      for (const [f, spec] of Object.entries(kind.fields)) (v[f] as Float64Array).fill(spec.default ?? 0);
    }
    def.stations.forEach((d, s) => {
      const v = this.viewOf[s] as KindView;
      const i = this.inst[s] ?? 0;
      // a release point or dispatch is not a machine that wears out: it breaks down only when the scenario gives it an MTBF
      if (d.kind.role !== 'process') this.st.mtbf[s] = 0;
      const cap = d.kind.capacity?.(withDefaults(d));
      if (cap !== undefined) this.st.slots[s] = cap;
      for (const [name, value] of Object.entries(d.params)) {
        if (name in COMMON_FIELDS) (this.st[name as CommonField])[s] = value;
        else if (v[name] !== undefined) (v[name] as Float64Array)[i] = value;
        else throw new TwinlineError('UNKNOWN_PARAM', `station "${d.id}" (${d.kind.kind}) has no parameter "${name}"`, { path: `stations.${d.id}.params.${name}` });
      }
    });
    this.hdr[H.seed] = def.seed;
    seedState(this.rng, def.seed);
    this.hashWords[0] = HASH_INIT_A;
    this.hashWords[1] = HASH_INIT_B;
    this.qHead.fill(-1);
    this.qTail.fill(-1);
    const cap = this.parts.station.length;
    this.parts.station.fill(-1);
    for (let p = 0; p < cap; p++) this.parts.next[p] = p + 1 < cap ? p + 1 : -1;
    this.hdr[H.free] = cap > 0 ? 0 : -1;
    for (let s = 0; s < n; s++) this.st.hazardLimit[s] = exponential(this.rng, 1);
    this.hdr[H.nextKpi] = Math.max(1, Math.round((def.kpiInterval ?? 300) / def.dt));
    initCrews(this);
    def.stations.forEach((d, s) => d.kind.init?.(this.viewOf[s] as KindView, this.inst[s] ?? 0, s, this));
  }

  // ───────────────────────────── lookups ─────────────────────────────

  /** Station index of `id`, or -1. */
  indexOf(id: string): number {
    return this.index.get(id) ?? -1;
  }

  /** Number of stations. */
  get size(): number {
    return this.ids.length;
  }

  /** Spec of a station field (common or kind), or undefined. */
  fieldSpec(s: number, field: string): FieldSpec | undefined {
    if (field in COMMON_FIELDS) return COMMON_FIELDS[field as CommonField];
    return this.kindOf[s]?.fields[field];
  }

  /** Reads a station field (common or kind) by name; NaN if unknown. */
  read(s: number, field: string): number {
    if (field in COMMON_FIELDS) return this.st[field as CommonField][s] ?? NaN;
    return this.viewOf[s]?.[field]?.[this.inst[s] ?? 0] ?? NaN;
  }

  /** Writes a station field; callers validate access and range (commands do). */
  write(s: number, field: string, value: number): void {
    if (field === 'operators') settleLabour(this);
    if (field in COMMON_FIELDS) (this.st[field as CommonField])[s] = value;
    else {
      const arr = this.viewOf[s]?.[field];
      if (arr !== undefined) arr[this.inst[s] ?? 0] = value;
    }
    if (field === 'scanPeriod') this.scanTicks[s] = Math.max(1, Math.round(value / this.dt));
  }

  /** Line-level counters (for KPIs). */
  counters(): { created: number; shipped: number; escaped: number; scrapped: number; scrappedGood: number; leadTicks: number; lineDownTicks: number; wipTicks: number; labour: number; seed: number } {
    const h = this.hdr;
    return {
      created: h[H.created] ?? 0, shipped: h[H.shipped] ?? 0, escaped: h[H.escaped] ?? 0, scrapped: h[H.scrapped] ?? 0,
      scrappedGood: h[H.scrappedGood] ?? 0, leadTicks: h[H.leadTicks] ?? 0, lineDownTicks: h[H.lineDownTicks] ?? 0,
      wipTicks: h[H.wipTicks] ?? 0, labour: h[H.labour] ?? 0, seed: h[H.seed] ?? 0,
    };
  }

  /** Parts in the line now. */
  get wip(): number {
    const h = this.hdr;
    return (h[H.created] ?? 0) - (h[H.shipped] ?? 0) - (h[H.scrapped] ?? 0);
  }

  // ───────────────────────────── commands ─────────────────────────────

  /** Queues a command for the start of the next tick. */
  enqueue(cmd: Command): void {
    this.queue.push(cmd);
  }

  /** Queues a command for a given tick (scenario scripts, replays). */
  scheduleAt(tick: number, cmd: Command): void {
    const entry: LoggedCommand = { ...cmd, tick };
    let k = this.schedule.length;
    while (k > 0 && (this.schedule[k - 1]?.tick ?? 0) > tick) k--;
    this.schedule.splice(k, 0, entry);
  }

  /**
   * After a restore, replays a run's logged commands: the queued commands but the scenario's own
   * are dropped (one that was applied before the snapshot's line stopped is in the log, one that
   * was not was never answered) and each logged command from the snapshot's tick on is scheduled
   * at the tick it was applied at, in log order. The scenario's own commands are left out: the
   * snapshot's schedule and queue hold them. Returns how many were scheduled.
   */
  replayLogged(commands: readonly LoggedCommand[]): number {
    this.queue = this.queue.filter((c) => c.source === 'scenario');
    let n = 0;
    for (const c of commands) {
      if (c.source === 'scenario' || c.tick < this.tick) continue;
      const { tick, ...cmd } = c;
      this.scheduleAt(tick, cmd);
      n++;
    }
    return n;
  }

  /** Appends to the replayable command log, dropping its oldest tenth when it is full. */
  private logCommand(cmd: Command): void {
    if (this.commandLog.length >= COMMAND_LOG_MAX) {
      const n = Math.ceil(COMMAND_LOG_MAX / 10);
      this.commandLog.splice(0, n);
      this.commandLogDropped += n;
    }
    this.commandLog.push({ ...cmd, tick: this.tick });
  }

  /** The logged commands from absolute position `from` (positions before `commandLogDropped` are gone). */
  commandsFrom(from: number): LoggedCommand[] {
    return this.commandLog.slice(Math.max(0, from - this.commandLogDropped));
  }

  private applyQueued(): void {
    while (this.schedule.length > 0 && (this.schedule[0]?.tick ?? Infinity) <= this.tick) {
      const { tick: _t, ...cmd } = this.schedule.shift() as LoggedCommand;
      this.queue.push(cmd);
    }
    if (this.queue.length === 0) return;
    const q = this.queue;
    this.queue = [];
    for (const cmd of q) {
      if (cmd.command === AUDIT && cmd.target === 'line') {
        // a face's own decision: logged, never applied
        this.logCommand(cmd);
        const a = cmd.args ?? {};
        this.emitAt('audit', null, {
          action: String(a.action ?? ''), outcome: String(a.outcome ?? ''), target: String(a.target ?? ''), reason: String(a.reason ?? ''),
          source: cmd.source, principal: cmd.principal,
          // a running count, only on the entries that report one
          ...(typeof a.count === 'number' ? { count: a.count } : {}),
        });
        continue;
      }
      const r: CommandResult = applyCommand(this, cmd);
      // a command may latch, change alarms or acknowledge them: let the PLC look
      if (cmd.target === 'line') this.attention.fill(1);
      else if (this.index.has(cmd.target)) this.attention[this.indexOf(cmd.target)] = 1;
      this.logCommand(cmd);
      const base: EventData = { command: cmd.command, source: cmd.source, principal: cmd.principal, args: argsText(cmd.args) };
      if (cmd.role !== undefined) base.role = cmd.role;
      const station = cmd.target === 'line' ? null : cmd.target;
      if (r.ok) this.emitAt('command', station, base);
      else this.emitAt('rejected', station, { ...base, code: r.code, reason: r.reason });
    }
  }

  // ───────────────────────────── the tick ─────────────────────────────

  /**
   * Advances the world by `n` ticks. Stretches in which nothing happens are advanced at once
   * (advance.ts) unless `timeAdvance` is 'per-tick'; the results are the same either way.
   * Commands queued before the call take effect at its first tick, as always.
   */
  step(n = 1): void {
    let left = n;
    while (left > 0) {
      if (left > 1 && this.timeAdvance === 'next-event' && this.queue.length === 0) {
        const scheduled = this.schedule.length > 0 ? (this.schedule[0]?.tick ?? 0) - this.tick : Infinity;
        const k = quietTicks(this, left, scheduled, (this.hdr[H.nextKpi] ?? 0) - 1 - this.tick);
        if (k > 1) {
          advanceQuiet(this, this.scanLeft, this.scanTicks, k);
          left -= k;
          continue;
        }
      }
      this.stepOnce();
      left--;
    }
  }

  private stepOnce(): void {
    const t = this.tick;
    if (this.queue.length > 0 || this.schedule.length > 0) this.applyQueued();
    const n = this.ids.length;
    plcScanAll(this, this.scanLeft, this.scanTicks);
    const fns = this.stepFns;
    const views = this.viewOf;
    const inst = this.inst;
    for (let s = 0; s < n; s++) fns[s]!(views[s]!, inst[s]!, s, this);
    transferParts(this);
    accountTick(this);
    crewTick(this);
    const h = this.hdr;
    h[H.wipTicks]! += h[H.created]! - h[H.shipped]! - h[H.scrapped]!;
    this.tick = t + 1;
    h[H.tick] = this.tick;
    if (this.tick >= (h[H.nextKpi] ?? Infinity)) {
      h[H.nextKpi] = this.tick + this.kpiTicks;
      if (this.kpiSnapshot !== null) this.emitAt('kpi', null, this.kpiSnapshot(this));
    }
  }

  /** Whether station `d` takes a part now. */
  accepts(d: number): boolean {
    const st = this.st;
    const state = st.state[d] ?? 0;
    if (state !== State.Execute && state !== State.Suspended && state !== State.Suspending && state !== State.Unsuspending) return false;
    if ((st.fault[d] ?? 0) !== 0 || (st.interlock[d] ?? 0) !== 0 || (st.mode[d] ?? 1) === 2) return false;
    const k = this.kindOf[d] as MachineKind;
    if (k.accepts !== undefined) return k.accepts(this.viewOf[d] as KindView, this.inst[d] ?? 0, d, this);
    return (this.qLen[d] ?? 0) < (st.slots[d] ?? 1);
  }

  // ───────────────────────────── faults and state ─────────────────────────────

  /** Puts station `s` into fault `code` for `duration` [s]; the PLC aborts it at its next scan. */
  fail(s: number, code: number, duration: number): void {
    const st = this.st;
    if ((st.fault[s] ?? 0) !== 0) return;
    st.fault[s] = code;
    st.faultSince[s] = this.tick;
    this.attention[s] = 1;
    // a breakdown or jam nobody is alerted to waits until someone on their rounds sees it (drawn
    // only where patrolTime is set, so other lines' runs are unchanged)
    const patrol = st.patrolTime[s]!;
    const unseen = (code === Fault.breakdown || code === Fault.jam) && patrol > 0 && st.stopAlert[s] !== 1 ? Math.round(exponential(this.rng, patrol) / this.dt) : 0;
    st.noticedAt[s] = this.tick + unseen;
    st.faultEnd[s] = this.tick + unseen + Math.max(1, Math.round(duration / this.dt));
    // a planned intervention stops the machine but is no failure and raises no alarm
    if (code !== Fault.maintenance) {
      st.failures[s] = (st.failures[s] ?? 0) + 1;
      st.alarms[s] = (st.alarms[s] ?? 0) | (code === Fault.jam ? ALARM_JAM : ALARM_BREAKDOWN);
    }
    const data: EventData = { code: FAULT_NAMES[code] ?? String(code), repairS: Math.round(duration * 1000) / 1000 };
    if (unseen > 0) data.unnoticedS = Math.round(unseen * this.dt * 1000) / 1000;
    this.emitAt('fault', this.ids[s] ?? null, data);
  }

  /** Ends the fault of station `s` now; the PLC recovers it if `autoRecover` is set. */
  repair(s: number): void {
    const st = this.st;
    if ((st.fault[s] ?? 0) === 0) return;
    const code = st.fault[s] ?? 0;
    st.fault[s] = 0;
    this.attention[s] = 1;
    if (code !== Fault.maintenance) st.repairTicks[s]! += this.tick - st.faultSince[s]!;
    st.hazard[s] = 0;
    st.hazardLimit[s] = exponential(this.rng, 1);
    st.alarms[s] = (st.alarms[s] ?? 0) & ~(ALARM_BREAKDOWN | ALARM_JAM);
    // a planned intervention renews the worn parts; a repair after a breakdown only fixes what broke
    if (code === Fault.maintenance) {
      st.wear[s] = 0;
      st.alarms[s] = (st.alarms[s] ?? 0) & ~ALARM_WEAR;
    }
    if ((st.autoRecover[s] ?? 0) === 1 && (st.mode[s] ?? 1) !== 3) st.latch[s] = 1;
    this.emitAt('repair', this.ids[s] ?? null, { code: FAULT_NAMES[code] ?? String(code) });
  }

  /** Changes the PackML state of station `s` and logs it. */
  setState(s: number, next: number, cause = ''): void {
    const prev = this.st.state[s] ?? 0;
    if (prev === next) return;
    this.st.state[s] = next;
    this.st.stateSince[s] = this.tick;
    this.st.waitSince[s] = this.tick;
    this.attention[s] = 1;
    this.emitAt('state', this.ids[s] ?? null, { from: STATE_NAMES[prev] ?? String(prev), to: STATE_NAMES[next] ?? String(next), cause });
  }

  /** Whether station `s` processes parts this tick. */
  running(s: number): boolean {
    const st = this.st;
    return st.state[s] === State.Execute && st.fault[s] === 0 && st.interlock[s] === 0;
  }

  /** Sets or clears alarm bits of station `s`. */
  setAlarm(s: number, bits: number, on: boolean): void {
    const a = this.st.alarms[s]!;
    const b = on ? a | bits : a & ~bits;
    if (b !== a) {
      this.st.alarms[s] = b;
      this.attention[s] = 1;
    }
  }

  /** Sets or clears interlock bits of station `s`. */
  setInterlock(s: number, bits: number, on: boolean): void {
    const a = this.st.interlock[s]!;
    const b = on ? a | bits : a & ~bits;
    if (b !== a) {
      this.st.interlock[s] = b;
      this.attention[s] = 1;
    }
  }

  // ───────────────────────────── parts ─────────────────────────────

  /** Creates a part at the tail of station `s`'s queue; -1 when the pool is exhausted. */
  createPart(s: number): number {
    const h = this.hdr;
    const p = h[H.free] ?? -1;
    if (p < 0) return -1;
    const P = this.parts;
    h[H.free] = P.next[p] ?? -1;
    const serial = (h[H.serial] ?? 0) + 1;
    h[H.serial] = serial;
    h[H.created] = (h[H.created] ?? 0) + 1;
    P.serial[p] = serial;
    P.born[p] = this.tick;
    P.temp[p] = 20;
    P.peakTemp[p] = 20;
    P.heatRate[p] = 0;
    P.coolRate[p] = 0;
    P.defects[p] = 0;
    P.traceTick[p] = 0;
    P.traceValue[p] = 0;
    P.flags[p] = 0;
    offSpecPart(this, s, p);
    this.enter(s, p);
    this.emitAt('part-created', this.ids[s] ?? null, { serial });
    return p;
  }

  /** Appends part `p` to station `s`'s queue (the world's transfer and `createPart` call it). */
  enter(s: number, p: number): void {
    const P = this.parts;
    P.station[p] = s;
    P.next[p] = -1;
    P.progress[p] = 0;
    P.pos[p] = 0;
    P.exposure[p] = 0;
    P.exposureLow[p] = 0;
    P.flags[p] = (P.flags[p] ?? 0) & ~PartFlag.done;
    P.entered[p] = this.tick;
    const tail = this.qTail[s] ?? -1;
    if (tail >= 0) P.next[tail] = p;
    else this.qHead[s] = p;
    this.qTail[s] = p;
    this.qLen[s] = (this.qLen[s] ?? 0) + 1;
    this.st.partsIn[s] = (this.st.partsIn[s] ?? 0) + 1;
  }

  /** Unlinks part `p` from station `s`'s queue and returns it to the pool. */
  private remove(s: number, p: number): void {
    const P = this.parts;
    let prev = -1;
    let q = this.qHead[s] ?? -1;
    while (q >= 0 && q !== p) {
      prev = q;
      q = P.next[q] ?? -1;
    }
    if (q < 0) throw new Error(`part ${p} is not at station ${this.ids[s]}`);
    const nx = P.next[p] ?? -1;
    if (prev < 0) this.qHead[s] = nx;
    else P.next[prev] = nx;
    if (this.qTail[s] === p) this.qTail[s] = prev;
    this.qLen[s] = (this.qLen[s] ?? 0) - 1;
    P.station[p] = -1;
    P.next[p] = this.hdr[H.free] ?? -1;
    this.hdr[H.free] = p;
  }

  /** Ships part `p` to the customer from sink `s` (ground truth decides if a defect escaped). */
  ship(s: number, p: number): void {
    const h = this.hdr;
    const P = this.parts;
    const defects = P.defects[p] ?? 0;
    const lead = this.tick - (P.born[p] ?? 0);
    h[H.shipped] = (h[H.shipped] ?? 0) + 1;
    if (defects !== 0) h[H.escaped] = (h[H.escaped] ?? 0) + 1;
    h[H.leadTicks] = (h[H.leadTicks] ?? 0) + lead;
    this.st.partsOut[s] = (this.st.partsOut[s] ?? 0) + 1;
    this.emitAt('part-completed', this.ids[s] ?? null, { serial: P.serial[p] ?? 0, leadS: lead * this.dt, defects });
    this.remove(s, p);
  }

  /** Scraps part `p` at station `s`. */
  scrap(s: number, p: number, reason: string): void {
    const h = this.hdr;
    const P = this.parts;
    const defects = P.defects[p] ?? 0;
    h[H.scrapped] = (h[H.scrapped] ?? 0) + 1;
    if (defects === 0) h[H.scrappedGood] = (h[H.scrappedGood] ?? 0) + 1;
    this.st.partsScrapped[s] = (this.st.partsScrapped[s] ?? 0) + 1;
    this.emitAt('part-scrapped', this.ids[s] ?? null, { serial: P.serial[p] ?? 0, reason, defects });
    this.remove(s, p);
  }

  // ───────────────────────────── events ─────────────────────────────

  /** Appends an event for station `s` (-1: line) to the log. */
  emit(type: EventType, s: number, data: EventData): void {
    this.emitAt(type, s >= 0 ? (this.ids[s] ?? null) : null, data);
  }

  /** Appends an event (station by id) to the log. */
  emitAt(type: EventType, station: string | null, data: EventData): void {
    const seq = this.hdr[H.seq] ?? 0;
    this.hdr[H.seq] = seq + 1;
    const e: SimEvent = { seq, tick: this.tick, type, station, data };
    hashEvent(this.hashWords, 0, e);
    this.pending.push(e);
  }

  /** Hands every event logged since the last drain to `fn`, in order; returns how many. */
  drainEvents(fn: (e: SimEvent) => void): number {
    const ev = this.pending;
    this.pending = [];
    for (const e of ev) fn(e);
    return ev.length;
  }

  /** Events logged so far (including drained ones). */
  get eventCount(): number {
    return this.hdr[H.seq] ?? 0;
  }

  /** Hash of the whole event log so far, 16 hex digits. */
  eventLogHash(): string {
    return hashHex(this.hashWords, 0);
  }

  // ───────────────────────────── consistent reads across threads ─────────────────────────────

  /** Marks the start of a batch of writes (readers in other threads retry meanwhile). */
  beginWrite(): void {
    Atomics.add(this.seqlock, 0, 1);
  }

  /** Marks the end of a batch of writes. */
  endWrite(): void {
    Atomics.add(this.seqlock, 0, 1);
  }

  /**
   * Runs `read` until it sees no concurrent write batch (seqlock): for readers in another
   * thread that built a `World` over the writer's shared buffer. Gives up after `tries`
   * attempts and returns the last result, flagged `consistent: false`. The result object is
   * this world's and is reused by the next call (the 3D view reads parts every frame and must
   * not allocate): take `value` and `consistent` from it at once.
   */
  readConsistent<T>(read: () => T, tries = 1000): { readonly value: T; readonly consistent: boolean } {
    let value = read();
    for (let k = 0; k < tries; k++) {
      const before = Atomics.load(this.seqlock, 0);
      if ((before & 1) === 0) {
        value = read();
        if (Atomics.load(this.seqlock, 0) === before) return this.readResult(value, true);
      }
    }
    return this.readResult(value, false);
  }

  private readResult<T>(value: T, consistent: boolean): { readonly value: T; readonly consistent: boolean } {
    const out = this.lastRead as { value: T; consistent: boolean };
    out.value = value;
    out.consistent = consistent;
    return out;
  }

  /** readConsistent's result, reused */
  private readonly lastRead: { value: unknown; consistent: boolean } = { value: undefined, consistent: false };

  // ───────────────────────────── snapshots ─────────────────────────────

  /** Serialises the whole world (state bytes plus queued commands) to bytes. */
  takeSnapshot(): Uint8Array {
    return encodeSnapshot(this.buffer, { sig: this.signature, queue: this.queue, schedule: this.schedule });
  }

  /** Restores a snapshot taken from a world built from the same line. */
  restoreSnapshot(bytes: Uint8Array): void {
    const meta = decodeSnapshot(bytes, this.buffer, this.signature);
    this.queue = meta.queue;
    this.schedule = meta.schedule;
    this.pending = [];
    this.tick = this.hdr[H.tick] ?? 0;
    for (let s = 0; s < this.ids.length; s++) this.scanTicks[s] = Math.max(1, Math.round((this.st.scanPeriod[s] ?? 0.001) / this.dt));
    this.attention.fill(1);
  }
}
