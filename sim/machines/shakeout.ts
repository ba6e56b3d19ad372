/**
 * Vibrating shakeout: knocks the sand mould off the casting. Automatic grids take `cycleTime`
 * per mould; by hand (`automatic` = 0) a crew needs `manualTime` per mould per person. Castings
 * knocked out while still above `hotThreshold` are damaged by the impacts (soft, oxidising
 * surface): surface defect with probability 1 − exp(−(T − hotThreshold)/surfaceScale).
 * Losing the sand cools the casting towards the air by `sandCooling` of its excess.
 */
import type { MachineKind } from '../core/types.ts';
import { chance } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, advanceFifo, handCrewSteady, fifoAdvance, fifoQuiet, headInWork, heldOps, machineOrCrewCycle, justFinished } from './flow.ts';
import { ALL_PLACES, crewed, staff } from '../core/crew.ts';
import { ambientField } from './fields.ts';

const ALARM_HOT = 1;
const ALARM_NO_CREW = 2;

export const shakeout: MachineKind = {
  kind: 'shakeout',
  title: { en: 'Vibrating shakeout', zh: '振动落砂机' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    automatic: { unit: '', description: '1: vibrating grid, 0: knocked out by hand (needs operators)', access: 'rw', default: 1, min: 0, max: 1, integer: true },
    cycleTime: { unit: 's', description: 'time per mould on the vibrating grid', access: 'rw', write: 'operator', default: 30, min: 1, max: 3600 },
    manualTime: { unit: 's', description: 'time one worker needs per mould by hand', access: 'rw', default: 180, min: 1, max: 36000 },
    hotThreshold: { unit: '°C', description: 'casting temperature above which knocking out damages the surface', access: 'rw', default: 400, min: 0, max: 1500 },
    surfaceScale: { unit: '°C', interval: true, description: 'excess over the threshold giving a surface defect with probability 1 − 1/e', access: 'rw', default: 150, min: 1, max: 2000 },
    sandCooling: { unit: '', description: 'share of the excess over ambient the casting loses with its sand', access: 'rw', default: 0.2, min: 0, max: 1 },
    ambient: ambientField('air temperature'),
    motorPower: { unit: 'W', description: 'vibrator motor power while shaking (automatic)', access: 'rw', default: 15000, min: 0, max: 1e6 },
    toolPower: { unit: 'W', description: 'hand tools and extraction while working by hand', access: 'rw', default: 3000, min: 0, max: 1e5 },
    lastTemp: { unit: '°C', description: 'temperature of the last casting knocked out', access: 'r', default: 0 },
  },
  alarms: [
    { bit: 0, code: 'HOT_CASTING', severity: 400, text: { en: 'Casting knocked out too hot', zh: '铸件落砂温度过高' } },
    { bit: 1, code: 'NO_CREW', severity: 500, text: { en: 'Manual shakeout without operators', zh: '手工落砂无人员' } },
  ],
  idealRate(v, i, s, w) {
    return 1 / machineOrCrewCycle(v, i, s, w);
  },
  quietFor(v, i, s, w) {
    const ops = handCrewSteady(w, s, v.automatic![i] === 1, ALARM_NO_CREW);
    if (ops === null) return 0;
    return fifoQuiet(w, s, machineOrCrewCycle(v, i, s, w, ops));
  },
  advance(v, i, s, w, k) {
    fifoAdvance(w, s, machineOrCrewCycle(v, i, s, w, heldOps(w, s)), k);
  },
  step(v, i, s, w) {
    const auto = v.automatic![i] === 1;
    const pooled = crewed(w, s);
    const want = pooled && !auto && headInWork(w, s) ? ALL_PLACES : 0;
    const ops = pooled ? staff(w, s, want) : w.st.operators[s]!;
    w.setAlarm(s, ALARM_NO_CREW, !auto && ops <= 0 && (want > 0 || !pooled));
    const worked = advanceFifo(w, s, 1, machineOrCrewCycle(v, i, s, w, ops));
    w.st.power[s] = w.running(s) && worked > 0 ? (auto ? v.motorPower![i]! : v.toolPower![i]!) : 0;
    const p = justFinished(w, s);
    if (p < 0) return;
    const amb = v.ambient![i]!;
    const t = w.parts.temp[p] ?? amb;
    v.lastTemp![i] = t;
    const excess = t - v.hotThreshold![i]!;
    w.setAlarm(s, ALARM_HOT, excess > 0);
    if (excess > 0 && chance(w.rng, 1 - Math.exp(-excess / v.surfaceScale![i]!))) addDefect(w, p, Defect.surface);
    w.parts.temp[p] = t - (t - amb) * v.sandCooling![i]!;
  },
};
