/**
 * Cooling conveyor / tunnel. Parts cool exponentially towards the air, T = Ta + (T0 − Ta)·e^(−t/τ),
 * with τ shortened by forced air (`fanBoost` when the fans run). A part is released as soon as
 * it is below `releaseTemp`, or at the latest after `residence`; leaving hot raises an alarm
 * (the shakeout downstream will damage it). Parts are updated every 0.5 s, not every tick.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import type { World } from '../core/world.ts';
import { advanceFifo, due, eachFinished, ticksOf } from './flow.ts';
import { ambientField } from './fields.ts';

const ALARM_HOT_EXIT = 1;
const PERIOD = 0.5;

function released(v: KindView, i: number, s: number, w: World, p: number): void {
  const t = w.parts.temp[p] ?? 0;
  v.lastExitTemp![i] = t;
  w.setAlarm(s, ALARM_HOT_EXIT, t > v.releaseTemp![i]!);
}

export const cooling: MachineKind = {
  kind: 'cooling',
  title: { en: 'Cooling conveyor', zh: '冷却输送线' },
  role: 'process',
  companion: ['Machinery'],
  fields: {
    residence: { unit: 's', description: 'longest time a part stays (conveyor length / speed)', access: 'rw', write: 'operator', default: 2700, min: 1, max: 172800 },
    tau: { unit: 's', description: 'cooling time constant in still air', access: 'rw', default: 2400, min: 1, max: 1e6 },
    fanBoost: { unit: '', description: 'factor by which the fans shorten the time constant', access: 'rw', default: 2, min: 1, max: 20 },
    releaseTemp: { unit: '°C', description: 'parts cooler than this are released early', access: 'rw', write: 'operator', default: 300, min: -40, max: 2000 },
    ambient: ambientField('air temperature'),
    fanPower: { unit: 'W', description: 'fan and drive power while running', access: 'rw', default: 11000, min: 0, max: 5e5 },
    lastExitTemp: { unit: '°C', description: 'temperature of the last part released', access: 'r', default: 0 },
    partClock: { unit: 'tick', description: 'ticks until parts are next updated', access: 'r', default: 0, integer: true },
  },
  alarms: [{ bit: 0, code: 'HOT_EXIT', severity: 500, text: { en: 'Part released above release temperature', zh: '铸件出口温度过高' } }],
  capacity(params) {
    return Math.max(1, Math.round(params.slots ?? 1));
  },
  idealRate(v, i, s, w) {
    return (w.st.slots[s] ?? 1) / v.residence![i]!;
  },
  quietFor(v, i) {
    // between the multirate updates only the update clock runs
    return v.partClock![i]!;
  },
  advance(v, i, _s, _w, k) {
    v.partClock![i] = v.partClock![i]! - k;
  },
  step(v, i, s, w) {
    const running = w.running(s);
    w.st.power[s] = running ? v.fanPower![i]! : 0;
    const every = ticksOf(w, PERIOD);
    if (!due(v.partClock!, i, every)) return;
    const tau = running ? v.tau![i]! / v.fanBoost![i]! : v.tau![i]!;
    const factor = Math.exp(-(every * w.dt) / tau);
    const amb = v.ambient![i]!;
    const release = v.releaseTemp![i]!;
    advanceFifo(w, s, w.st.slots[s] ?? 1, v.residence![i]! / every);
    const { temp, progress, next } = w.parts;
    for (let p = w.qHead[s] ?? -1; p >= 0; p = next[p] ?? -1) {
      const t = amb + ((temp[p] ?? amb) - amb) * factor;
      temp[p] = t;
      if (t <= release && running) progress[p] = 1;
    }
    eachFinished(v, i, s, w, released);
  },
};
