/**
 * Case packer: collects `partsPerBox` parts, then packs them in one box cycle (`boxTime`) and
 * releases the full box. O(1) per tick: parts already packed and waiting to leave are counted
 * as `packed − partsOut`, so only box completion walks the queue. Holds two boxes' worth of
 * parts so the infeed keeps running while a full box leaves.
 */
import type { MachineKind } from '../core/types.ts';
import { crewed, staff, staffSettled } from '../core/crew.ts';
import { QUIET_FOREVER } from '../core/advance.ts';
import { standbyQuiet, ticksBefore, waitingPower } from './flow.ts';

export const packer: MachineKind = {
  kind: 'packer',
  title: { en: 'Case packer', zh: '装箱机' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    partsPerBox: { unit: '', description: 'parts per box', access: 'rw', write: 'operator', default: 12, min: 1, max: 1000, integer: true },
    boxTime: { unit: 's', description: 'time to close, label and eject one box', access: 'rw', write: 'operator', default: 30, min: 0.5, max: 3600 },
    packPower: { unit: 'W', description: 'power during a box cycle', access: 'rw', default: 2200, min: 0, max: 1e5 },
    idlePower: { unit: 'W', description: 'power while collecting parts', access: 'rw', default: 300, min: 0, max: 1e5 },
    boxClock: { unit: 's', description: 'time left in the current box cycle, 0 = collecting', access: 'r', default: 0 },
    packed: { unit: '', description: 'parts packed so far', access: 'r', default: 0, integer: true },
    boxes: { unit: '', description: 'boxes packed', access: 'r', default: 0, integer: true },
  },
  alarms: [],
  capacity(params) {
    return 2 * Math.max(1, Math.round(params.partsPerBox ?? 1));
  },
  idealRate(v, i) {
    return v.partsPerBox![i]! / v.boxTime![i]!;
  },
  quietFor(v, i, s, w) {
    const running = w.running(s);
    const per = Math.max(1, Math.round(v.partsPerBox![i]!));
    const clock = v.boxClock![i]!;
    const waiting = v.packed![i]! - (w.st.partsOut[s] ?? 0);
    if (crewed(w, s)) {
      if (!staffSettled(w, s, running && (clock > 0 || (w.qLen[s] ?? 0) - waiting >= per) ? 1 : 0)) return 0;
      if (w.crew.s.held[s] === 0) return standbyQuiet(w, s);
    }
    if (!running) return standbyQuiet(w, s);
    if (clock > 0) return ticksBefore(-clock, w.dt, 0);
    return (w.qLen[s] ?? 0) - waiting >= per ? 0 : QUIET_FOREVER;
  },
  advance(v, i, s, w, k) {
    if ((crewed(w, s) && w.crew.s.held[s] === 0) || !w.running(s)) return;
    let clock = v.boxClock![i]!;
    if (clock <= 0) return;
    for (let j = 0; j < k; j++) clock -= w.dt;
    v.boxClock![i] = clock;
  },
  step(v, i, s, w) {
    const running = w.running(s);
    const per = Math.max(1, Math.round(v.partsPerBox![i]!));
    const clock = v.boxClock![i]!;
    w.st.power[s] = running ? (clock > 0 ? v.packPower![i]! : v.idlePower![i]!) : waitingPower(w, s, v.idlePower![i]!);
    const waiting = v.packed![i]! - (w.st.partsOut[s] ?? 0);
    // With a crew, a box cycle is a packer's work: one person from filling to closing the box.
    if (crewed(w, s) && staff(w, s, running && (clock > 0 || (w.qLen[s] ?? 0) - waiting >= per) ? 1 : 0) === 0) return;
    if (!running) return;
    if (clock > 0) {
      const left = clock - w.dt;
      v.boxClock![i] = left > 0 ? left : 0;
      if (left > 0) return;
      // Box done: the next `per` unpacked parts (behind those still waiting to leave) are ready.
      const { progress, next } = w.parts;
      let k = 0;
      for (let p = w.qHead[s] ?? -1; p >= 0 && k < waiting + per; p = next[p] ?? -1, k++) if (k >= waiting) progress[p] = 1;
      v.packed![i] = v.packed![i]! + per;
      v.boxes![i] = v.boxes![i]! + 1;
    } else if ((w.qLen[s] ?? 0) - waiting >= per) {
      v.boxClock![i] = v.boxTime![i]!;
    }
  },
};
