/**
 * Next-event time advance. Most ticks of a line change nothing but a few linear accumulators:
 * a part's progress through a cycle, a belt's positions, a box timer, energy, time counters.
 * `quietTicks` works out how many ticks from now every participant — the command queue and
 * schedule, the KPI and settlement clocks, the crews, each station's PLC scan, the part
 * transfer, the accounting and every machine kind (`MachineKind.quietFor`) — stays that way;
 * `advanceQuiet` then does those ticks at once: the same floating-point operations in the
 * same order as tick-by-tick stepping (so results, event log and hash are identical), without
 * the per-tick passes over every station. A stretch ends before the first tick at which
 * anything could happen, which is then stepped in full.
 *
 * Every bound is conservative: stopping early only costs speed, never exactness. Hot code:
 * no allocation.
 */
import type { World } from './world.ts';
import type { KindView, MachineKind } from './types.ts';
import { Activity } from './station.ts';
import { PartFlag } from './parts.ts';
import { H } from './world-layout.ts';
import { actingDone, isUp, Mode, State } from '../plc/packml.ts';

/** a bound that means "nothing here limits the stretch" */
export const QUIET_FOREVER = 1e15;

const UP = new Uint8Array(18);
for (let k = 0; k < UP.length; k++) UP[k] = isUp(k) ? 1 : 0;
const ROLE_SOURCE = 0;
const ROLE_PROCESS = 1;
const DOWN = 3;
const EXEC = 4;

/** Ticks past which a tick count no longer tells one tick from the next (2^52): as good as never. */
const TICKS_RESOLVED = 2 ** 52;

/**
 * The first tick T ≥ 0 with (T − since)·dt ≥ seconds (the PLC's own comparison); QUIET_FOREVER
 * when that is 2^52 ticks or more away (or never: a NaN), where T − 1 would equal T and the
 * rounding steps below could not end (a tick of 5e-324 s once hung the fuzz test here).
 */
export function firstTickAfter(since: number, seconds: number, dt: number): number {
  const n = Math.max(0, Math.ceil(seconds / dt));
  if (!(n < TICKS_RESOLVED && since + n < TICKS_RESOLVED)) return QUIET_FOREVER;
  let t = since + n;
  while (t > since && (t - 1 - since) * dt >= seconds) t--;
  while ((t - since) * dt < seconds) t++;
  return t;
}

/**
 * Ticks from now during which the PLC scan of station `s` would do nothing (see `plcScan`):
 * no repair due, no unseen alarm or interlock, no acting state finishing, no latch to
 * sequence, no suspend or unsuspend.
 */
function plcQuiet(w: World, s: number): number {
  const st = w.st;
  const t = w.tick;
  let limit = QUIET_FOREVER;
  const fault = st.fault[s]!;
  if (fault !== 0) {
    if (t >= st.faultEnd[s]!) return 0;
    limit = st.faultEnd[s]! - t;
  }
  if (st.interlock[s] !== st.interlockSeen[s] || st.alarms[s] !== st.alarmsSeen[s]) return 0;
  const state = st.state[s]!;
  if (actingDone(state) > 0) return Math.min(limit, firstTickAfter(st.stateSince[s]!, st.transitionTime[s]!, w.dt) - t);
  if (fault !== 0) return state !== State.Aborted ? 0 : limit;
  if (st.latch[s] === 1 && st.mode[s] !== Mode.manual) {
    return state === State.Aborted || state === State.Stopped || state === State.Complete || state === State.Idle ||
      state === State.Held || state === State.Execute ? 0 : limit;
  }
  if (w.roleCode[s] !== ROLE_PROCESS) return limit;
  const act = st.activity[s]!;
  if (state === State.Execute && act !== Activity.busy) return Math.min(limit, firstTickAfter(st.waitSince[s]!, st.suspendDelay[s]!, w.dt) - t);
  if (state === State.Suspended && act === Activity.busy) return 0;
  return limit;
}

/** Whether the world's transfer pass would move a part now. */
function wouldTransfer(w: World): boolean {
  const { progress, flags } = w.parts;
  const st = w.st;
  for (let s = w.ids.length - 1; s >= 0; s--) {
    if (st.fault[s] !== 0 || UP[st.state[s]!] === 0) continue;
    const p = w.qHead[s]!;
    if (p < 0 || progress[p]! < 1) continue;
    const rej = w.rejectOf[s]!;
    const d = (flags[p]! & PartFlag.rejected) !== 0 && rej >= 0 ? rej : w.nextOf[s]!;
    if (d >= 0 && w.accepts(d)) return true;
  }
  return false;
}

/** Whether station `s`'s OEE time class would change this tick (see `accountTick`). */
function classChanges(w: World, s: number): boolean {
  const st = w.st;
  const q = w.qLen[s]!;
  const act =
    w.roleCode[s] === ROLE_SOURCE ? (q >= st.slots[s]! ? Activity.blocked : Activity.busy)
      : q === 0 ? Activity.starved
        : w.parts.progress[w.qHead[s]!]! >= 1 ? Activity.blocked : Activity.busy;
  if (act !== st.activity[s]) return true;
  const state = st.state[s]!;
  const cls = st.fault[s] !== 0 || UP[state] === 0 ? DOWN : state === State.Execute ? act + EXEC : act;
  return cls !== st.timeClass[s];
}

/**
 * How many ticks from now (at most `limit`) can be advanced in bulk. `scheduled`: ticks until
 * the next scheduled command. 0 or 1: step the next tick in full.
 */
export function quietTicks(w: World, limit: number, scheduled: number, kpiIn: number): number {
  const h = w.hdr;
  const t = w.tick;
  let k = Math.min(limit, scheduled, kpiIn, h[H.nextSettle]! - t);
  if (k <= 1) return 0;
  const cs = w.crew;
  if (cs.active) {
    for (let c = 0; c < cs.defs.length; c++) k = Math.min(k, cs.nextLook[c]! - 1 - t);
    if (k <= 1) return 0;
    const served = cs.served;
    const fault = w.st.fault;
    const noticedAt = w.st.noticedAt;
    for (let j = 0; j < served.length; j++) {
      const s = served[j]!;
      const r = cs.repairCrew[s]!;
      if (r < 0) continue;
      // an unnoticed fault claims nobody until it is noticed
      if (fault[s] !== 0 && t < noticedAt[s]!) {
        k = Math.min(k, noticedAt[s]! - t);
        if (k <= 1) return 0;
        continue;
      }
      const rh = cs.s.repairHeld[s]!;
      if (fault[s] !== 0 ? rh === 0 && cs.c.avail[r]! - cs.c.busy[r]! >= 1 : rh !== 0) return 0;
    }
  }
  const n = w.ids.length;
  const kinds = w.kindOf;
  const views = w.viewOf;
  const inst = w.inst;
  for (let s = 0; s < n; s++) {
    const kind = kinds[s]!;
    if (kind.quietFor === undefined) return 0;
    k = Math.min(k, plcQuiet(w, s));
    if (k <= 1) return 0;
    k = Math.min(k, kind.quietFor(views[s]!, inst[s]!, s, w));
    if (k <= 1) return 0;
    if (classChanges(w, s)) return 0;
  }
  if (wouldTransfer(w)) return 0;
  return Math.floor(k);
}

/** Station s's PLC scan countdown after `k` more ticks (see `plcScanAll`). */
function scanAfter(left: number, period: number, k: number): number {
  if (k <= left) return left - k;
  return period - 1 - ((k - left - 1) % period);
}

/**
 * Default bulk advance of a kind without its own: `k` calls of step() at their ticks from
 * `w.tick`, each followed by its tick's energy (the power may change from tick to tick).
 */
function stepEach(kind: MachineKind, v: KindView, i: number, s: number, w: World, k: number): void {
  const t0 = w.tick;
  const { energy, power } = w.st;
  for (let j = 0; j < k; j++) {
    w.tick = t0 + j;
    kind.step(v, i, s, w);
    energy[s]! += power[s]! * w.dt;
  }
}

/**
 * Advances `k` quiet ticks (as found by `quietTicks`) at once. Leaves `w.tick` and the header
 * tick at the end of the stretch.
 */
export function advanceQuiet(w: World, scanLeft: Int32Array, scanTicks: Int32Array, k: number): void {
  const n = w.ids.length;
  const kinds = w.kindOf;
  const views = w.viewOf;
  const inst = w.inst;
  const { energy, power } = w.st;
  const dt = w.dt;
  const t0 = w.tick;
  for (let s = 0; s < n; s++) {
    scanLeft[s] = scanAfter(scanLeft[s]!, scanTicks[s]!, k);
    const kind = kinds[s]!;
    // the first tick in full: it sets what a step writes afresh every tick (power, load …)
    // as it is for the whole stretch; the kind's bulk advance does the other k − 1
    w.tick = t0;
    kind.step(views[s]!, inst[s]!, s, w);
    w.tick = t0 + 1;
    if (kind.advance === undefined) {
      energy[s]! += power[s]! * dt;
      stepEach(kind, views[s]!, inst[s]!, s, w, k - 1);
    } else {
      kind.advance(views[s]!, inst[s]!, s, w, k - 1);
      // energy as accountTick integrates it, one tick at a time (the same sums, bit for bit)
      const pw = power[s]!;
      if (pw !== 0) {
        let e = energy[s]!;
        for (let j = 0; j < k; j++) e += pw * dt;
        energy[s] = e;
      }
    }
    w.tick = t0;
  }
  crewAdvance(w, k);
  const h = w.hdr;
  h[H.wipTicks]! += k * (h[H.created]! - h[H.shipped]! - h[H.scrapped]!);
  w.tick += k;
  h[H.tick] = w.tick;
}

/** `k` ticks of `crewTick` in which no claim changes and nobody's presence is looked at (integer counts: exact). */
function crewAdvance(w: World, k: number): void {
  const cs = w.crew;
  if (!cs.active) return;
  const C = cs.c;
  const S = cs.s;
  const served = cs.served;
  const nc = cs.defs.length;
  for (let c = 0; c < nc; c++) C.wanted[c] = 0;
  const fault = w.st.fault;
  const noticedAt = w.st.noticedAt;
  for (let j = 0; j < served.length; j++) {
    const s = served[j]!;
    const r = cs.repairCrew[s]!;
    if (r >= 0 && fault[s] !== 0 && w.tick >= noticedAt[s]!) {
      C.wanted[r]! += 1;
      if (S.repairHeld[s] === 0) {
        w.st.faultEnd[s]! += k;
        C.waitTicks[r]! += k;
      } else S.workTicks[s]! += k;
    }
    const c = cs.taskCrew[s]!;
    if (c < 0) continue;
    const want = S.want[s]!;
    const held = S.held[s]!;
    C.wanted[c]! += want;
    S.workTicks[s]! += k * held;
    if (want > 0 && held === 0) {
      S.labourWaitTicks[s]! += k;
      C.waitTicks[c]! += k;
    }
  }
  for (let c = 0; c < nc; c++) {
    C.busyTicks[c]! += k * C.busy[c]!;
    const avail = C.avail[c]!;
    C.availTicks[c]! += k * avail;
    if (avail > 0) C.shiftTicks[c]! += k;
    if (C.wanted[c]! > C.peak[c]!) C.peak[c] = C.wanted[c]!;
  }
}
