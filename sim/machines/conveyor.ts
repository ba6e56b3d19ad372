/**
 * Belt conveyor: parts ride at `speed` with at least `pitch` between them and queue at the end.
 * Jams come from physics: the jam hazard grows with distance carried, with speed above the
 * rated speed (cubed) and with wear.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import type { World } from '../core/world.ts';
import { QUIET_FOREVER } from '../core/advance.ts';
import { exponential } from '../core/rng.ts';
import { Fault } from '../core/station.ts';
import { beltHasRoom, convey, ticksBefore } from './flow.ts';

export const conveyor: MachineKind = {
  kind: 'conveyor',
  title: { en: 'Belt conveyor', zh: '皮带输送机' },
  role: 'process',
  companion: ['Machinery'],
  fields: {
    length: { unit: 'm', description: 'belt length', access: 'rw', default: 6, min: 0.2, max: 500 },
    speed: { unit: 'm/s', description: 'belt speed setpoint', access: 'rw', write: 'operator', default: 0.2, min: 0, max: 3 },
    ratedSpeed: { unit: 'm/s', description: 'speed the belt is built for', access: 'rw', default: 0.5, min: 0.01, max: 3 },
    pitch: { unit: 'm', description: 'minimum distance between parts', access: 'rw', default: 0.4, min: 0.05, max: 10 },
    jamsPerKm: { unit: '1/km', description: 'jams per kilometre of part travel at rated speed, new belt', access: 'rw', default: 0.5, min: 0, max: 1000 },
    jamClearTime: { unit: 's', description: 'mean time to clear a jam', access: 'rw', default: 120, min: 1, max: 36000 },
    motorPower: { unit: 'W', description: 'drive motor rated power', access: 'rw', default: 750, min: 0, max: 1e5 },
    load: { unit: '', description: 'belt occupancy 0…1', access: 'r', default: 0 },
    jamHazard: { unit: '', description: 'accumulated jam hazard', access: 'r', default: 0 },
    jamLimit: { unit: '', description: 'jam hazard at which the next jam happens', access: 'r', default: 1 },
    travelled: { unit: 'm', description: 'part-metres carried', access: 'r', default: 0 },
  },
  alarms: [],
  capacity(params) {
    return Math.floor((params.length ?? 0) / (params.pitch ?? 1)) + 1;
  },
  init(v, i, _s, w) {
    v.jamLimit![i] = exponential(w.rng, 1);
  },
  idealRate(v, i) {
    return v.speed![i]! / v.pitch![i]!;
  },
  quietFor(v, i, s, w) {
    if (!w.running(s)) return QUIET_FOREVER;
    const len = v.length![i]!;
    const pitch = v.pitch![i]!;
    const speed = v.speed![i]!;
    const step = speed * w.dt;
    const head = w.qHead[s] ?? -1;
    if (head < 0) return QUIET_FOREVER;
    const { pos, next } = w.parts;
    // a belt on which nothing can move (empty, or a stack waiting behind its head) stays so
    // until the world takes the head or brings a part (as convey() computes each part's room)
    let moving = false;
    let limit = len;
    for (let p = head; p >= 0 && !moving; p = next[p]!) {
      const after = Math.min(pos[p]! + step, limit);
      moving = after > pos[p]!;
      limit = Math.max(0, after - pitch);
    }
    if (!moving) return QUIET_FOREVER;
    // the head reaching the end (it is then ready to leave), the tail clearing the entry (room
    // for the next part), the jam hazard reaching its limit
    let k = pos[head]! < len ? ticksBefore(pos[head]!, step, len) : QUIET_FOREVER;
    const tail = w.qTail[s] ?? -1;
    if (pos[tail]! < pitch) k = Math.min(k, ticksBefore(pos[tail]!, step, pitch));
    const perTick = jamHazardOf(v, i, s, w, w.qLen[s]! * step);
    return Math.min(k, ticksBefore(v.jamHazard![i]!, perTick * (1 + 1e-9), v.jamLimit![i]!));
  },
  advance(v, i, s, w, k) {
    // the belt as it moves, part by part over the k ticks; tick by tick when a jam falls in them
    if (glide(v, i, s, w, k)) return;
    for (let j = 0; j < k; j++) if (!convStep(v, i, s, w)) break;
  },
  step(v, i, s, w) {
    convStep(v, i, s, w);
  },
  accepts(v, i, s, w) {
    return beltHasRoom(w, s, v.pitch![i]!);
  },
};

/** Drive power of a running belt at its load [W]. */
function beltPower(v: KindView, i: number): number {
  return v.motorPower![i]! * (0.3 + 0.7 * v.load![i]!) * Math.min(1, v.speed![i]! / v.ratedSpeed![i]!);
}

/** Jam hazard of carrying parts `metres` at the belt's speed and wear. */
function jamHazardOf(v: KindView, i: number, s: number, w: World, metres: number): number {
  const over = v.speed![i]! / v.ratedSpeed![i]!;
  return (metres / 1000) * v.jamsPerKm![i]! * over * over * over * (1 + 5 * (w.st.wear[s] ?? 0));
}

/** One tick of the belt; false when nothing moved. */
function convStep(v: KindView, i: number, s: number, w: World): boolean {
  const running = w.running(s);
  const slots = w.st.slots[s] ?? 1;
  v.load![i] = (w.qLen[s] ?? 0) / slots;
  w.st.power[s] = running ? beltPower(v, i) : 0;
  const moved = convey(w, s, v.length![i]!, v.speed![i]!, v.pitch![i]!);
  if (moved <= 0) return false;
  v.travelled![i] = v.travelled![i]! + moved;
  const hz = v.jamHazard![i]! + jamHazardOf(v, i, s, w, moved);
  v.jamHazard![i] = hz;
  if (hz >= v.jamLimit![i]!) {
    v.jamHazard![i] = 0;
    v.jamLimit![i] = exponential(w.rng, 1);
    w.fail(s, Fault.jam, exponential(w.rng, v.jamClearTime![i]!));
  }
  return true;
}

/** Most ticks `glide` takes at once (beyond, the belt is stepped tick by tick). */
const MAX_GLIDE = 1 << 20;
/** Scratch of `glide`, per tick of the window: part-metres moved, and where the part ahead is. */
let movedAt = new Float64Array(1024);
let aheadAt = new Float64Array(1024);
/** Scratch of `glide`, per part on the belt: its position, and where it was bound for, at the end. */
let endPos = new Float64Array(64);
let endAfter = new Float64Array(64);

/**
 * `k` ticks of convStep at once, when no jam falls within them: each part is moved over the
 * whole window before the next (a part's tick t needs only the part ahead's tick t), with the
 * same operations in the same order as tick by tick, so the result is bit for bit the same.
 * The parts standing at the front (the head at the end, the queue behind it) stand for the
 * whole window and cost one test each. A tick in which nothing moves ends the window (as
 * convStep's `false` does): nothing moves after it either. Changes nothing and returns false
 * when a jam would fall in the window, or the belt is stopped or empty.
 */
function glide(v: KindView, i: number, s: number, w: World, k: number): boolean {
  const head = w.qHead[s] ?? -1;
  const n = w.qLen[s] ?? 0;
  if (k <= 0 || k > MAX_GLIDE || head < 0 || !w.running(s)) return false;
  if (endPos.length < n) {
    endPos = new Float64Array(Math.max(n, 2 * endPos.length));
    endAfter = new Float64Array(endPos.length);
  }
  const length = v.length![i]!;
  const pitch = v.pitch![i]!;
  const step = v.speed![i]! * w.dt;
  const { pos, progress, next } = w.parts;
  let j = 0;
  let p = head;
  // the standing front: each part's bound is the same every tick while the one ahead stands
  let ahead = NaN;
  let moving = false;
  for (; p >= 0; p = next[p] ?? -1, j++) {
    const before = pos[p] ?? 0;
    const after = Math.min(before + step, j === 0 ? length : Math.max(0, ahead - pitch));
    if (after > before) {
      moving = true;
      break;
    }
    endPos[j] = before;
    endAfter[j] = after;
    ahead = after;
  }
  if (moving) {
    if (movedAt.length < k) {
      movedAt = new Float64Array(Math.max(k, 2 * movedAt.length));
      aheadAt = new Float64Array(movedAt.length);
    }
    movedAt.fill(0, 0, k);
    aheadAt.fill(ahead, 0, k);
    for (; p >= 0; p = next[p] ?? -1, j++) {
      let before = pos[p] ?? 0;
      let after = before;
      for (let t = 0; t < k; t++) {
        after = Math.min(before + step, j === 0 ? length : Math.max(0, aheadAt[t]! - pitch));
        if (after > before) {
          movedAt[t] = movedAt[t]! + (after - before);
          before = after;
        }
        aheadAt[t] = after;
      }
      endPos[j] = before;
      endAfter[j] = after;
    }
  }
  if (j !== n) return false;
  // the belt's own accumulators, tick by tick as convStep adds them
  let travelled = v.travelled![i]!;
  let hz = v.jamHazard![i]!;
  for (let t = 0; moving && t < k; t++) {
    const moved = movedAt[t]!;
    if (moved <= 0) break;
    travelled = travelled + moved;
    hz = hz + jamHazardOf(v, i, s, w, moved);
    if (hz >= v.jamLimit![i]!) return false;
  }
  const slots = w.st.slots[s] ?? 1;
  v.load![i] = n / slots;
  w.st.power[s] = beltPower(v, i);
  j = 0;
  for (p = head; p >= 0; p = next[p] ?? -1, j++) {
    pos[p] = endPos[j]!;
    progress[p] = endAfter[j]! >= length ? 1 : endAfter[j]! / length;
  }
  v.travelled![i] = travelled;
  v.jamHazard![i] = hz;
  return true;
}
