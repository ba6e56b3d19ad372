/**
 * The two per-tick passes after the machines have stepped: moving finished parts downstream,
 * and accounting (OEE time classes, wear, failure hazard, energy, labour). Hot code: no
 * allocation, plain loops over the typed arrays.
 */
import type { World } from './world.ts';
import { Activity, Fault, ALARM_WEAR } from './station.ts';
import { PartFlag } from './parts.ts';
import { exponential, uniform } from './rng.ts';
import { H } from './world-layout.ts';
import { isUp, State } from '../plc/packml.ts';

const UP = new Uint8Array(18);
for (let k = 0; k < UP.length; k++) UP[k] = isUp(k) ? 1 : 0;
const ROLE_SOURCE = 0;
const STARVED = Activity.starved;
const BUSY = Activity.busy;
const BLOCKED = Activity.blocked;
const EXECUTE = State.Execute;

/** Moves ready parts downstream, last station first, so space freed this tick is used. */
export function transferParts(w: World): void {
  const { progress, flags, next } = w.parts;
  const st = w.st;
  for (let s = w.ids.length - 1; s >= 0; s--) {
    if ((st.fault[s] ?? 0) !== 0 || UP[st.state[s] ?? 0] === 0) continue;
    for (let guard = 0; guard < 256; guard++) {
      const p = w.qHead[s] ?? -1;
      if (p < 0 || (progress[p] ?? 0) < 1) break;
      const rej = w.rejectOf[s] ?? -1;
      const d = ((flags[p] ?? 0) & PartFlag.rejected) !== 0 && rej >= 0 ? rej : (w.nextOf[s] ?? -1);
      if (d < 0 || !w.accepts(d)) break;
      w.qHead[s] = next[p] ?? -1;
      if ((w.qHead[s] ?? -1) < 0) w.qTail[s] = -1;
      w.qLen[s] = (w.qLen[s] ?? 0) - 1;
      st.partsOut[s] = (st.partsOut[s] ?? 0) + 1;
      w.enter(d, p);
    }
  }
}

/** time class "down" (fault, stopped, held, aborted …) */
const DOWN = 3;
/** added to the activity while the station is in Execute (MTBF, wear and hazard run then) */
const EXEC = 4;

/**
 * Per-tick accounting. Each station's OEE time class (starved, busy or blocked, + Execute;
 * or down) is worked out every tick, but the counters, wear and failure hazard are settled
 * only when the class changes and once per simulated second: most ticks touch three numbers
 * per station. Energy is integrated every tick because power varies within a cycle.
 */
export function accountTick(w: World): void {
  const { activity, waitSince, fault, state, timeClass, energy, power, slots } = w.st;
  const { progress } = w.parts;
  const { qLen, qHead } = w;
  const role = w.roleCode;
  const dt = w.dt;
  const t = w.tick;
  const n = w.ids.length;
  for (let s = 0; s < n; s++) {
    const q = qLen[s]!;
    const act =
      role[s] === ROLE_SOURCE ? (q >= slots[s]! ? BLOCKED : BUSY)
        : q === 0 ? STARVED
          : progress[qHead[s]!]! >= 1 ? BLOCKED : BUSY;
    const prevAct = activity[s]!;
    if (act !== prevAct) {
      if (prevAct === BUSY) waitSince[s] = t;
      activity[s] = act;
    }
    const st = state[s]!;
    const cls = fault[s] !== 0 || UP[st] === 0 ? DOWN : st === EXECUTE ? act + EXEC : act;
    if (cls !== timeClass[s]) settle(w, s, t, cls);
    energy[s]! += power[s]! * dt;
  }
  const h = w.hdr;
  if (t >= h[H.nextSettle]!) {
    h[H.nextSettle] = t + Math.max(1, Math.round(1 / dt));
    for (let s = 0; s < n; s++) settle(w, s, t, timeClass[s]!);
    // a cheap safety net: anything that changed without raising the flag is seen within 1 s
    w.attention.fill(1);
    settleLabour(w);
  }
}

/**
 * Closes station `s`'s open time-class interval at tick `t` (adding it to the counters, to
 * wear and to the failure hazard, and failing the machine if the hazard is used up) and
 * opens one of class `next`.
 */
function settle(w: World, s: number, t: number, next: number): void {
  const st = w.st;
  const prev = st.timeClass[s]!;
  const d = t - st.classSince[s]!;
  if (prev >= 0 && d > 0) {
    if (prev === DOWN) st.downTicks[s]! += d;
    else {
      const act = prev & 3;
      if (act === BUSY) st.busyTicks[s]! += d;
      else if (act === BLOCKED) st.blockedTicks[s]! += d;
      else st.starvedTicks[s]! += d;
      if ((prev & EXEC) !== 0) {
        st.runTicks[s]! += d;
        const wear = st.wear[s]!;
        const mtbf = st.mtbf[s]!;
        if (mtbf > 0) st.hazard[s]! += ((d * w.dt) / mtbf) * (1 + 4 * wear * wear);
        if (act === BUSY) st.wear[s] = Math.min(1, wear + (st.wearRate[s]! * d * w.dt) / 3600);
        if (st.wear[s]! > 0.8) w.setAlarm(s, ALARM_WEAR, true);
        if (st.hazard[s]! >= st.hazardLimit[s]!) {
          // predictive maintenance sees this share of breakdowns coming: a planned intervention of
          // its own length instead (drawn only where it is fitted, so other lines' runs are unchanged)
          const pdm = st.pdmDetect[s]!;
          if (pdm > 0 && uniform(w.rng) < pdm) w.fail(s, Fault.maintenance, st.pdmTime[s]!);
          else w.fail(s, Fault.breakdown, exponential(w.rng, st.mttr[s]!));
        }
      }
    }
  }
  if ((prev === DOWN) !== (next === DOWN)) {
    const h = w.hdr;
    const before = h[H.downStations]!;
    const after = before + (next === DOWN ? 1 : -1);
    h[H.downStations] = after;
    if (before === 0 && after > 0) h[H.downSince] = t;
    else if (before > 0 && after === 0) h[H.lineDownTicks]! += t - h[H.downSince]!;
  }
  st.timeClass[s] = next;
  st.classSince[s] = t;
}

/** Adds operator time up to now to the labour counter (call before staffing changes). */
export function settleLabour(w: World): void {
  const h = w.hdr;
  const t = w.tick;
  let operators = 0;
  for (let s = 0; s < w.ids.length; s++) operators += w.st.operators[s]!;
  h[H.labour]! += operators * (t - h[H.labourSince]!) * w.dt;
  h[H.labourSince] = t;
}

/** Time counters of station `s` up to now, including the open interval [ticks]. */
export function stationTimes(w: World, s: number): { busy: number; starved: number; blocked: number; down: number; run: number; repair: number } {
  const st = w.st;
  const out = { busy: st.busyTicks[s]!, starved: st.starvedTicks[s]!, blocked: st.blockedTicks[s]!, down: st.downTicks[s]!, run: st.runTicks[s]!, repair: st.repairTicks[s]! };
  const cls = st.timeClass[s]!;
  const d = w.tick - st.classSince[s]!;
  if (cls === DOWN) out.down += d;
  else if (cls >= 0) {
    const act = cls & 3;
    if (act === BUSY) out.busy += d;
    else if (act === BLOCKED) out.blocked += d;
    else out.starved += d;
    if ((cls & EXEC) !== 0) out.run += d;
  }
  // a planned intervention is no repair (MTTR counts the repairs of failures)
  if (st.fault[s] !== 0 && st.fault[s] !== Fault.maintenance) out.repair += w.tick - st.faultSince[s]!;
  return out;
}

/** Line-level time and labour up to now: ticks with any station down, operator-seconds. */
export function lineTimes(w: World): { downTicks: number; labourSeconds: number } {
  const h = w.hdr;
  let operators = 0;
  for (let s = 0; s < w.ids.length; s++) operators += w.st.operators[s]!;
  return {
    downTicks: h[H.lineDownTicks]! + (h[H.downStations]! > 0 ? w.tick - h[H.downSince]! : 0),
    labourSeconds: h[H.labour]! + operators * (w.tick - h[H.labourSince]!) * w.dt,
  };
}
