/**
 * The two per-tick passes after the machines have stepped: moving finished parts downstream,
 * and accounting (OEE time classes, wear, failure hazard, energy, labour). Hot code: no
 * allocation, plain loops over the typed arrays.
 */
import type { World } from './world.ts';
import { Activity, Fault, ALARM_WEAR } from './station.ts';
import { PartFlag } from './parts.ts';
import { exponential } from './rng.ts';
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

/** Per-tick accounting: OEE time classes, wear, hazard and failures, energy, labour. */
export function accountTick(w: World): void {
  const { activity, waitTicks, stateTicks, fault, repairTicks, state, busyTicks, blockedTicks, starvedTicks, runTicks, wear, wearRate, hazard, mtbf, hazardLimit, downTicks, energy, power, operators, slots } = w.st;
  const dt = w.dt;
  const progress = w.parts.progress;
  const qLen = w.qLen;
  const qHead = w.qHead;
  const role = w.roleCode;
  let anyDown = false;
  let labour = 0;
  const n = w.ids.length;
  for (let s = 0; s < n; s++) {
    const q = qLen[s]!;
    const act =
      role[s] === ROLE_SOURCE ? (q >= slots[s]! ? BLOCKED : BUSY)
        : q === 0 ? STARVED
          : progress[qHead[s]!]! >= 1 ? BLOCKED : BUSY;
    activity[s] = act;
    waitTicks[s] = act === BUSY ? 0 : waitTicks[s]! + 1;
    stateTicks[s]! += 1;
    const faulted = fault[s] !== 0;
    if (faulted) repairTicks[s]! += 1;
    const st = state[s]!;
    if (!faulted && UP[st] === 1) {
      if (act === BUSY) busyTicks[s]! += 1;
      else if (act === BLOCKED) blockedTicks[s]! += 1;
      else starvedTicks[s]! += 1;
      if (st === EXECUTE) {
        runTicks[s]! += 1;
        const wr = wear[s]!;
        if (act === BUSY && wr < 1) wear[s] = Math.min(1, wr + (wearRate[s]! * dt) / 3600);
        const hz = hazard[s]! + (dt / mtbf[s]!) * (1 + 4 * wr * wr);
        hazard[s] = hz;
        if (hz >= hazardLimit[s]!) w.fail(s, Fault.breakdown, exponential(w.rng, w.st.mttr[s]!));
        if (wr > 0.8) w.st.alarms[s] = w.st.alarms[s]! | ALARM_WEAR;
      }
    } else {
      downTicks[s]! += 1;
      anyDown = true;
    }
    energy[s]! += power[s]! * dt;
    labour += operators[s]!;
  }
  const h = w.hdr;
  if (anyDown) h[H.lineDownTicks]! += 1;
  h[H.labour]! += labour * dt;
}

