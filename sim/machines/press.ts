/**
 * Forming press (ceramic roller/press forming). One part per cycle. Shape defects follow the
 * physics of the stroke: pressing force away from the recipe value, and die wear.
 */
import type { MachineKind } from '../core/types.ts';
import { chance } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { advanceFifo, cycleTimeTiming, justFinished, poissonAny, waitingPower } from './flow.ts';

export const press: MachineKind = {
  kind: 'press',
  title: { en: 'Forming press', zh: '成型压机' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    cycleTime: { unit: 's', description: 'time per stroke', access: 'rw', write: 'operator', default: 12, min: 0.5, max: 3600 },
    force: { unit: 'kN', description: 'pressing force setpoint', access: 'rw', write: 'operator', default: 800, min: 0, max: 5000 },
    recipeForce: { unit: 'kN', description: 'force the product recipe calls for', access: 'rw', write: 'operator', default: 800, min: 1, max: 5000 },
    tolerance: { unit: '', description: 'relative force deviation that gives about one defect in e', access: 'rw', default: 0.15, min: 0.001, max: 1 },
    idlePower: { unit: 'W', description: 'hydraulic pack power at idle', access: 'rw', default: 3000, min: 0, max: 1e6 },
    strokePower: { unit: 'W', description: 'power during a stroke', access: 'rw', default: 22000, min: 0, max: 1e6 },
    strokes: { unit: '', description: 'strokes made', access: 'r', default: 0, integer: true },
  },
  alarms: [
    { bit: 0, code: 'FORCE_DEVIATION', severity: 500, text: { en: 'Pressing force off recipe by more than tolerance', zh: '压制力偏离工艺配方' } },
  ],
  ...cycleTimeTiming,
  step(v, i, s, w) {
    const worked = advanceFifo(w, s, 1, v.cycleTime![i]!);
    w.st.power[s] = w.running(s) ? (worked > 0 ? v.strokePower![i]! : v.idlePower![i]!) : waitingPower(w, s, v.idlePower![i]!);
    const dev = Math.abs(v.force![i]! - v.recipeForce![i]!) / v.recipeForce![i]!;
    w.setAlarm(s, 1, dev > v.tolerance![i]!);
    const p = justFinished(w, s);
    if (p < 0) return;
    v.strokes![i] = v.strokes![i]! + 1;
    const x = dev / v.tolerance![i]!;
    const wear = w.st.wear[s] ?? 0;
    if (chance(w.rng, poissonAny(0.002 + x * x + 0.05 * wear * wear))) w.parts.defects[p] = (w.parts.defects[p] ?? 0) | Defect.shape;
  },
};
