/**
 * Accumulation buffer: a FIFO store of `slots` parts between two machines. Parts wait in
 * order; only the head is being transferred out, taking `transferTime` per part, so the
 * buffer decouples stoppages without adding per-part work. No process physics, hence no
 * defects; a level alarm warns when it is nearly full (the upstream machine will block soon).
 */
import type { MachineKind } from '../core/types.ts';
import { advanceFifo, fifoAdvance, fifoQuiet } from './flow.ts';

const ALARM_HIGH_LEVEL = 1;

export const buffer: MachineKind = {
  kind: 'buffer',
  title: { en: 'Accumulation buffer', zh: '缓存工位' },
  role: 'process',
  companion: ['Machinery'],
  fields: {
    transferTime: { unit: 's', description: 'time to hand one part on to the next station', access: 'rw', default: 2, min: 0.01, max: 600 },
    highLevel: { unit: '', description: 'fill level (share of slots) above which the high-level alarm is raised', access: 'rw', default: 0.9, min: 0, max: 1 },
    drivePower: { unit: 'W', description: 'power of the transfer drive while moving a part', access: 'rw', default: 550, min: 0, max: 2e4 },
    standbyPower: { unit: 'W', description: 'power of sensors and controls while running', access: 'rw', default: 60, min: 0, max: 1e4 },
    level: { unit: '', description: 'fill level: parts held over slots (0…1)', access: 'r', default: 0 },
  },
  alarms: [{ bit: 0, code: 'HIGH_LEVEL', severity: 200, text: { en: 'Buffer nearly full', zh: '缓存即将满仓' } }],
  capacity(params) {
    return Math.max(1, Math.round(params.slots ?? 1));
  },
  idealRate(v, i) {
    return 1 / v.transferTime![i]!;
  },
  quietFor(v, i, s, w) {
    return fifoQuiet(w, s, v.transferTime![i]!, false);
  },
  advance(v, i, s, w, k) {
    fifoAdvance(w, s, v.transferTime![i]!, k);
  },
  step(v, i, s, w) {
    const level = (w.qLen[s] ?? 0) / Math.max(1, w.st.slots[s] ?? 1);
    v.level![i] = level;
    w.setAlarm(s, ALARM_HIGH_LEVEL, level >= v.highLevel![i]! && level > 0);
    advanceFifo(w, s, 1, v.transferTime![i]!);
    const head = w.qHead[s] ?? -1;
    const moving = head >= 0 && (w.parts.progress[head] ?? 1) < 1;
    w.st.power[s] = w.running(s) ? v.standbyPower![i]! + (moving ? v.drivePower![i]! : 0) : 0;
  },
};
