/**
 * CNC spring coiler. Wire is fed, coiled and cut; the twin counts one part per tray of springs
 * (`cycleTime` per tray). A tray's free length is the setpoint plus scatter that widens as the
 * coiling tools wear; a tray whose length is more than `tolerance` off the drawing is a
 * dimension defect. Coilers stop often (wire tangles, a length alarm, a broken tool): those are
 * the station's breakdowns and jams (common `mtbf`, `mttr`), and how soon someone sees a
 * stopped coiler is the common `patrolTime` / `stopAlert`.
 */
import type { MachineKind } from '../core/types.ts';
import { normal } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, cycleStep, cycleTimeTiming } from './flow.ts';

const ALARM_LENGTH = 1;

export const coiler: MachineKind = {
  kind: 'coiler',
  title: { en: 'CNC spring coiler', zh: '数控卷簧机' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    cycleTime: { unit: 's', description: 'time to coil one tray of springs', access: 'rw', write: 'operator', default: 240, min: 1, max: 36000 },
    freeLength: { unit: 'mm', description: 'free-length setpoint', access: 'rw', write: 'operator', default: 50, min: 1, max: 2000 },
    recipeLength: { unit: 'mm', description: 'free length the drawing calls for', access: 'rw', write: 'operator', default: 50, min: 1, max: 2000 },
    tolerance: { unit: 'mm', description: 'allowed deviation of a tray\'s free length from the drawing', access: 'rw', default: 0.5, min: 0.001, max: 100 },
    scatter: { unit: 'mm', description: 'scatter (standard deviation) of a tray\'s free length with new tools', access: 'rw', default: 0.12, min: 0, max: 100 },
    wearScatter: { unit: 'mm', description: 'extra scatter with fully worn coiling tools', access: 'rw', default: 0.3, min: 0, max: 100 },
    runPower: { unit: 'W', description: 'servo drives while coiling', access: 'rw', default: 7500, min: 0, max: 1e6 },
    idlePower: { unit: 'W', description: 'controls and drives at rest', access: 'rw', default: 800, min: 0, max: 1e6 },
    lastLength: { unit: 'mm', description: 'free length of the last tray', access: 'r', default: 0 },
    trays: { unit: '', description: 'trays coiled', access: 'r', default: 0, integer: true },
  },
  alarms: [{ bit: 0, code: 'LENGTH_OFF_DRAWING', severity: 500, text: { en: 'Free-length setpoint outside the drawing\'s tolerance', zh: '自由长度设定超出图纸公差' } }],
  ...cycleTimeTiming,
  step(v, i, s, w) {
    const p = cycleStep(v, i, s, w, v.cycleTime![i]!);
    if (p < 0) return;
    const wear = w.st.wear[s] ?? 0;
    const recipe = v.recipeLength![i]!;
    const tol = v.tolerance![i]!;
    const len = v.freeLength![i]! + (v.scatter![i]! + v.wearScatter![i]! * wear) * normal(w.rng);
    v.lastLength![i] = len;
    v.trays![i] = v.trays![i]! + 1;
    if (Math.abs(len - recipe) > tol) addDefect(w, p, Defect.dimension);
    w.setAlarm(s, ALARM_LENGTH, Math.abs(v.freeLength![i]! - recipe) > tol);
  },
};
