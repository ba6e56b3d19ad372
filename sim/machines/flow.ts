/**
 * Part-flow building blocks shared by machine kinds. Each walks a station's FIFO queue
 * (a linked list through `parts.next`) and allocates nothing.
 */
import type { World } from '../core/world.ts';
import type { KindView, MachineKind } from '../core/types.ts';
import { DefectClass, PartFlag } from '../core/parts.ts';
import { chance } from '../core/rng.ts';
import { State } from '../plc/packml.ts';
import { ALL_PLACES, crewed, staffing, staffSettled } from '../core/crew.ts';
import { QUIET_FOREVER, firstTickAfter } from '../core/advance.ts';

/**
 * Advances the first `capacity` parts of station `s` by `dt / cycle` (cycle [s]) while the
 * station runs; a part with progress ≥ 1 is ready to leave. Returns how many parts advanced.
 */
export function advanceFifo(w: World, s: number, capacity: number, cycle: number): number {
  if (!w.running(s)) return 0;
  const { progress, next } = w.parts;
  const inc = w.dt / Math.max(cycle, w.dt);
  let k = 0;
  for (let p = w.qHead[s] ?? -1; p >= 0 && k < capacity; p = next[p] ?? -1, k++) {
    const pr = progress[p] ?? 0;
    if (pr < 1) progress[p] = pr + inc >= 1 - 1e-12 ? 1 : pr + inc;
  }
  return k;
}

/**
 * Moves parts along a belt of `length` [m] at `speed` [m/s], keeping `pitch` [m] between
 * them; the head stops at the end until the next station takes it. Returns metres moved.
 */
export function convey(w: World, s: number, length: number, speed: number, pitch: number): number {
  if (!w.running(s)) return 0;
  const { pos, progress, next } = w.parts;
  const step = speed * w.dt;
  let limit = length;
  let moved = 0;
  for (let p = w.qHead[s] ?? -1; p >= 0; p = next[p] ?? -1) {
    const before = pos[p] ?? 0;
    const after = Math.min(before + step, limit);
    if (after > before) {
      pos[p] = after;
      moved += after - before;
    }
    progress[p] = after >= length ? 1 : after / length;
    limit = Math.max(0, after - pitch);
  }
  return moved;
}

/** Whether a belt has room at its entry: the last part is at least `pitch` [m] in. */
export function beltHasRoom(w: World, s: number, pitch: number): boolean {
  const tail = w.qTail[s] ?? -1;
  return (tail < 0 || (w.parts.pos[tail] ?? 0) >= pitch) && (w.qLen[s] ?? 0) < (w.st.slots[s] ?? 1);
}

/** First-order lag: moves `value` towards `target` with time constant `tau` [s] over `dt` [s]. */
export function lag(value: number, target: number, tau: number, dt: number): number {
  return value + (target - value) * Math.min(1, dt / Math.max(tau, dt));
}

/** Probability that at least one event of a Poisson process with the given expectation occurs. */
export function poissonAny(expected: number): number {
  return expected <= 0 ? 0 : 1 - Math.exp(-expected);
}

/** Clamps `x` into [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * The head part of station `s` if it has just finished here (progress ≥ 1) and was not
 * reported before, else -1. Use it to apply end-of-operation physics exactly once per part.
 */
export function justFinished(w: World, s: number): number {
  const p = w.qHead[s] ?? -1;
  if (p < 0 || (w.parts.progress[p] ?? 0) < 1) return -1;
  const f = w.parts.flags[p] ?? 0;
  if ((f & PartFlag.done) !== 0) return -1;
  w.parts.flags[p] = f | PartFlag.done;
  return p;
}

/** Cycle time standing in for "nobody there" [s]: finite so state stays printable, long enough to stop work. */
export const NO_CREW_CYCLE = 1e9;

/**
 * Cycle time of a crew [s]: `perOperator` seconds per part for one person, shared by
 * `operators` working in parallel (modelled as one faster server, O(1) per tick).
 */
export function crewCycle(perOperator: number, operators: number): number {
  return operators > 0 ? Math.min(NO_CREW_CYCLE, perOperator / operators) : NO_CREW_CYCLE;
}

/**
 * Nominal cycle [s] of a station that runs either automatically (`automatic` = 1, `cycleTime`)
 * or by hand (`manualTime` per operator, shared by `ops` people; default: as many as the
 * station can have, see `staffing`).
 */
export function machineOrCrewCycle(v: KindView, i: number, s: number, w: World, ops = staffing(w, s)): number {
  return v.automatic![i] === 1 ? v.cycleTime![i]! : crewCycle(v.manualTime![i]!, ops);
}

/**
 * Whether station `s` has a part in work: its head part exists and is not finished. Manual
 * stations ask for people only then, so people are free while a station waits for parts.
 */
export function headInWork(w: World, s: number): boolean {
  const p = w.qHead[s] ?? -1;
  return p >= 0 && (w.parts.progress[p] ?? 0) < 1 && w.running(s);
}

/**
 * Countdown for work done every `ticks` ticks rather than every tick (long queues, slow
 * physics). `clock[i]` holds the ticks left; returns true on the ticks the work is due.
 */
export function due(clock: Float64Array, i: number, ticks: number): boolean {
  const c = clock[i] ?? 0;
  if (c > 0) {
    clock[i] = c - 1;
    return false;
  }
  clock[i] = ticks - 1;
  return true;
}

/** Ticks in `period` [s] at the world's tick length, at least 1. */
export function ticksOf(w: World, period: number): number {
  return Math.max(1, Math.round(period / w.dt));
}

/**
 * The head part of station `s` if the station has not started on it yet, else -1. The serial
 * of the last part seen is kept in `seen[i]`, so per-part draws (cycle time) happen once.
 */
export function newHead(w: World, s: number, seen: Float64Array, i: number): number {
  const p = w.qHead[s] ?? -1;
  if (p < 0) return -1;
  const serial = w.parts.serial[p] ?? 0;
  if (serial === seen[i]) return -1;
  seen[i] = serial;
  return p;
}

/** Temperature after `seconds` [s] of exponential cooling from `t0` towards `ambient` with time constant `tau` [s]. */
export function cooled(t0: number, ambient: number, tau: number, seconds: number): number {
  return ambient + (t0 - ambient) * Math.exp(-Math.max(0, seconds) / Math.max(tau, 1e-9));
}

/** Hours since the current shift began [h]; shifts of `shiftLength` [h] start at simulated t = 0. */
export function hoursIntoShift(w: World, shiftLength: number): number {
  const len = Math.max(shiftLength, 1e-6) * 3600;
  return ((w.tick * w.dt) % len) / 3600;
}

/**
 * Inspects part `p` per defect class: a part with surface defects is caught with probability
 * `surface`, one with internal defects with `internal` (independent looks; a part with both is
 * caught if either look finds it); a good part is flagged with `falseReject`. Marks it
 * inspected; never scraps. Returns true when the part was flagged rejected.
 */
export function inspectByClass(w: World, p: number, surface: number, internal: number, falseReject: number): boolean {
  const d = w.parts.defects[p] ?? 0;
  const miss = ((d & DefectClass.surface) !== 0 ? 1 - surface : 1) * ((d & DefectClass.internal) !== 0 ? 1 - internal : 1);
  const rejected = chance(w.rng, d !== 0 ? 1 - miss : falseReject);
  w.parts.flags[p] = (w.parts.flags[p] ?? 0) | PartFlag.inspected | (rejected ? PartFlag.rejected : 0);
  return rejected;
}

/** Adds defect bit(s) `bits` to part `p`. */
export function addDefect(w: World, p: number, bits: number): void {
  w.parts.defects[p] = (w.parts.defects[p] ?? 0) | bits;
}

/** End-of-operation physics for part `p` of instance `i` (station `s`); define at module level so nothing is allocated per call. */
export type FinishHook = (v: KindView, i: number, s: number, w: World, p: number) => void;

/**
 * Calls `hook` once for every part of station `s` that has finished (progress ≥ 1) but was not
 * reported yet, and marks it done. Stations that work on many parts at once need this rather
 * than `justFinished`: after a blockage several parts are ready, and the world may move them all
 * in one tick. Walks the whole queue, so call it from batched updates, not every tick.
 */
export function eachFinished(v: KindView, i: number, s: number, w: World, hook: FinishHook): void {
  const { progress, flags, next } = w.parts;
  for (let p = w.qHead[s] ?? -1; p >= 0; p = next[p] ?? -1) {
    const f = flags[p] ?? 0;
    if ((progress[p] ?? 0) < 1 || (f & PartFlag.done) !== 0) continue;
    flags[p] = f | PartFlag.done;
    hook(v, i, s, w, p);
  }
}

/**
 * Whether heaters, chillers and fans of station `s` may run: whenever the station is up, also
 * while Suspended for lack of parts or room (a held melt or bath must keep its temperature),
 * but not when stopped, held, aborted, faulted or interlocked.
 */
export function powered(w: World, s: number): boolean {
  const state = w.st.state[s];
  return state !== State.Stopped && state !== State.Stopping && state !== State.Aborted && state !== State.Aborting &&
    state !== State.Held && w.st.fault[s] === 0 && w.st.interlock[s] === 0;
}

/** ticks kept in hand before a threshold a linear accumulator is heading for (rounding of the sums) */
const MARGIN = 2;

/**
 * Power of station `s` while it does not run: `idle` while it waits Suspended for parts or room
 * (drives and pumps on, also while it suspends or unsuspends) until `standbyAfter` of Suspended
 * turns them off (energy standby, 0 W); 0 when stopped, held, aborted, down or interlocked.
 */
export function waitingPower(w: World, s: number, idle: number): number {
  const st = w.st;
  const state = st.state[s];
  if (st.fault[s] !== 0 || st.interlock[s] !== 0) return 0;
  if (state === State.Suspending || state === State.Unsuspending) return idle;
  if (state !== State.Suspended) return 0;
  const after = st.standbyAfter[s]!;
  return after > 0 && (w.tick - st.stateSince[s]!) * w.dt >= after ? 0 : idle;
}

/**
 * The usual step of a machine that works one part at a time for `cycle` [s] and has `runPower`
 * and `idlePower` fields (extruder, coiler, grinder): advances the head part and sets the power
 * (running while a part is in work, idle while up without one, the waiting power when
 * Suspended). Returns the part that has just finished, or -1.
 */
export function cycleStep(v: KindView, i: number, s: number, w: World, cycle: number): number {
  const worked = advanceFifo(w, s, 1, cycle);
  w.st.power[s] = w.running(s) ? (worked > 0 ? v.runPower![i]! : v.idlePower![i]!) : waitingPower(w, s, v.idlePower![i]!);
  return justFinished(w, s);
}

/** For `quietFor` of a station drawing `waitingPower`: ticks from now until its standby begins (its power changes then). */
export function standbyQuiet(w: World, s: number): number {
  const st = w.st;
  const after = st.standbyAfter[s]!;
  if (!(after > 0) || st.state[s] !== State.Suspended || st.fault[s] !== 0 || st.interlock[s] !== 0) return QUIET_FOREVER;
  const t = firstTickAfter(st.stateSince[s]!, after, w.dt) - w.tick;
  return t > 0 ? t : QUIET_FOREVER;
}

/** Quiet ticks before `value`, growing by `rate` per tick, reaches `threshold` (conservative); QUIET_FOREVER when it never does. */
export function ticksBefore(value: number, rate: number, threshold: number): number {
  if (!(rate > 0)) return value < threshold ? QUIET_FOREVER : 0;
  const n = Math.floor((threshold - value) / rate) - MARGIN;
  return n > 0 ? n : 0;
}

/**
 * `quietFor` of a station that works its head part with `advanceFifo(w, s, 1, cycle)` and
 * reports it with `justFinished`: quiet until the head's progress reaches 1, forever while the
 * head waits to leave or the station is empty or not running (a part arriving or leaving, a
 * state change, is the world's event). `reports` false: the kind never calls `justFinished`.
 */
export function fifoQuiet(w: World, s: number, cycle: number, reports = true): number {
  const p = w.qHead[s] ?? -1;
  if (p < 0) return QUIET_FOREVER;
  const pr = w.parts.progress[p] ?? 0;
  if (pr >= 1) return !reports || ((w.parts.flags[p] ?? 0) & PartFlag.done) !== 0 ? QUIET_FOREVER : 0;
  if (!w.running(s)) return QUIET_FOREVER;
  return ticksBefore(pr, w.dt / Math.max(cycle, w.dt), 1 - 1e-12);
}

/** `k` quiet ticks of `advanceFifo(w, s, 1, cycle)` (the same additions, one per tick). */
export function fifoAdvance(w: World, s: number, cycle: number, k: number): void {
  if (!w.running(s)) return;
  const p = w.qHead[s] ?? -1;
  if (p < 0) return;
  const progress = w.parts.progress;
  let pr = progress[p] ?? 0;
  if (pr >= 1) return;
  const inc = w.dt / Math.max(cycle, w.dt);
  for (let j = 0; j < k; j++) pr += inc;
  progress[p] = pr;
}

/** People station `s` works with as of its last step: those it holds of its crew, or its `operators`. */
export function heldOps(w: World, s: number): number {
  return crewed(w, s) ? w.crew.s.held[s]! : w.st.operators[s]!;
}

/**
 * For `quietFor` of a station that asks its crew for `want` people and shows alarm `bit`
 * when it should be `on`: whether staffing and that alarm stay as they are.
 */
export function crewSteady(w: World, s: number, want: number, bit: number, on: boolean): boolean {
  if (crewed(w, s) && !staffSettled(w, s, want)) return false;
  return ((w.st.alarms[s] ?? 0) & bit) !== 0 === on;
}

/**
 * For `quietFor` of a hand-worked station (pouring, shake-out) that asks its whole crew while a
 * piece is in work unless `automatic`, and shows alarm `bit` while it has nobody: the people it
 * holds when staffing and that alarm stay as they are, else null.
 */
export function handCrewSteady(w: World, s: number, automatic: boolean, bit: number): number | null {
  const pooled = crewed(w, s);
  const want = pooled && !automatic && headInWork(w, s) ? ALL_PLACES : 0;
  const ops = heldOps(w, s);
  return crewSteady(w, s, want, bit, !automatic && ops <= 0 && (want > 0 || !pooled)) ? ops : null;
}

/**
 * Ideal rate, quiet ticks and bulk advance of a station that works one part at a time for its
 * `cycleTime` [s] field, reports it with `justFinished` and may go to energy standby (press,
 * glazer, robot, coiler): spread into the kind.
 */
export const cycleTimeTiming: Pick<MachineKind, 'idealRate' | 'quietFor' | 'advance'> = {
  idealRate(v, i) {
    return 1 / v.cycleTime![i]!;
  },
  quietFor(v, i, s, w) {
    return Math.min(fifoQuiet(w, s, v.cycleTime![i]!), standbyQuiet(w, s));
  },
  advance(v, i, s, w, k) {
    fifoAdvance(w, s, v.cycleTime![i]!, k);
  },
};
