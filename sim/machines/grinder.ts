/**
 * Bearing-ring raceway grinder (one ring per `cycleTime`, loaded by its gantry). The raceway
 * diameter comes out at size plus scatter that widens as the wheel wears between dressings; a
 * ring more than `tolerance` off size is a dimension defect. What the hardening did to the ring
 * (its hardness) the grinder neither changes nor sees.
 */
import type { MachineKind } from '../core/types.ts';
import { normal } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, cycleStep, cycleTimeTiming } from './flow.ts';

export const grinder: MachineKind = {
  kind: 'grinder',
  title: { en: 'Raceway grinder', zh: '沟道磨床' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    cycleTime: { unit: 's', description: 'time to grind one ring, loading included', access: 'rw', write: 'operator', default: 15, min: 0.5, max: 3600 },
    tolerance: { unit: 'mm', description: 'allowed deviation of the raceway diameter from size', access: 'rw', default: 0.01, min: 0.0001, max: 10 },
    scatter: { unit: 'mm', description: 'scatter (standard deviation) of the raceway diameter with a freshly dressed wheel', access: 'rw', default: 0.002, min: 0, max: 10 },
    wearScatter: { unit: 'mm', description: 'extra scatter with a fully worn wheel', access: 'rw', default: 0.004, min: 0, max: 10 },
    runPower: { unit: 'W', description: 'spindles, coolant pump and gantry while grinding', access: 'rw', default: 22000, min: 0, max: 1e6 },
    idlePower: { unit: 'W', description: 'coolant and controls while waiting', access: 'rw', default: 4000, min: 0, max: 1e6 },
    lastDeviation: { unit: 'mm', description: 'raceway diameter of the last ring minus size', access: 'r', default: 0 },
    rings: { unit: '', description: 'rings ground', access: 'r', default: 0, integer: true },
  },
  alarms: [],
  ...cycleTimeTiming,
  step(v, i, s, w) {
    const p = cycleStep(v, i, s, w, v.cycleTime![i]!);
    if (p < 0) return;
    const dev = (v.scatter![i]! + v.wearScatter![i]! * (w.st.wear[s] ?? 0)) * normal(w.rng);
    v.lastDeviation![i] = dev;
    v.rings![i] = v.rings![i]! + 1;
    if (Math.abs(dev) > v.tolerance![i]!) addDefect(w, p, Defect.dimension);
  },
};
