/**
 * Part-flow building blocks shared by machine kinds. Each walks a station's FIFO queue
 * (a linked list through `parts.next`) and allocates nothing.
 */
import type { World } from '../core/world.ts';
import { PartFlag } from '../core/parts.ts';

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
