/**
 * Case packer: collects `partsPerBox` parts, then packs them in one box cycle (`boxTime`) and
 * releases the full box. O(1) per tick: parts already packed and waiting to leave are counted
 * as `packed − partsOut`, so only box completion walks the queue. Holds two boxes' worth of
 * parts so the infeed keeps running while a full box leaves.
 */
import type { MachineKind } from '../core/types.ts';

export const packer: MachineKind = {
  kind: 'packer',
  title: { en: 'Case packer', zh: '装箱机' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    partsPerBox: { unit: '', description: 'parts per box', access: 'rw', default: 12, min: 1, max: 1000, integer: true },
    boxTime: { unit: 's', description: 'time to close, label and eject one box', access: 'rw', default: 30, min: 0.5, max: 3600 },
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
  step(v, i, s, w) {
    const running = w.running(s);
    const per = Math.max(1, Math.round(v.partsPerBox![i]!));
    const clock = v.boxClock![i]!;
    w.st.power[s] = running ? (clock > 0 ? v.packPower![i]! : v.idlePower![i]!) : 0;
    if (!running) return;
    const waiting = v.packed![i]! - (w.st.partsOut[s] ?? 0);
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
