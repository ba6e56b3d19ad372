/**
 * Generic manual work: loading, unloading, handling, deburring. A crew of `operators` shares
 * the work (`secondsPerPart` each, divided by pace). Handling damage per part starts at
 * `errorRate` and grows with fatigue (hours into the shift) and with the square of the pace:
 * p = errorRate·(1 + fatigueGain·h)·pace². Damaged parts carry `Defect.handling`.
 */
import type { MachineKind } from '../core/types.ts';
import { chance } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, advanceFifo, clamp, crewCycle, crewSteady, fifoAdvance, fifoQuiet, headInWork, heldOps, hoursIntoShift, justFinished } from './flow.ts';
import { ALL_PLACES, crewed, staff, staffing } from '../core/crew.ts';

const ALARM_NO_CREW = 1;

export const manualStation: MachineKind = {
  kind: 'manual-station',
  title: { en: 'Manual work station', zh: '人工工位' },
  role: 'process',
  companion: ['Machinery'],
  fields: {
    secondsPerPart: { unit: 's', description: 'time one operator needs per part at standard pace', access: 'rw', default: 30, min: 0.5, max: 36000 },
    pace: { unit: '', description: 'working pace relative to standard (1 = standard)', access: 'rw', default: 1, min: 0.5, max: 3 },
    errorRate: { unit: '', description: 'share of parts damaged by a rested operator at standard pace', access: 'rw', default: 0.004, min: 0, max: 1 },
    fatigueGain: { unit: '1/h', description: 'relative rise of the error rate per hour into the shift', access: 'rw', default: 0.1, min: 0, max: 10 },
    shiftLength: { unit: 'h', description: 'length of a shift (fatigue resets at shift change)', access: 'rw', default: 8, min: 0.5, max: 24 },
    toolPower: { unit: 'W', description: 'hoists, tools and lighting while working', access: 'rw', default: 500, min: 0, max: 1e5 },
    handled: { unit: '', description: 'parts handled', access: 'r', default: 0, integer: true },
    damaged: { unit: '', description: 'parts damaged in handling', access: 'r', default: 0, integer: true },
  },
  alarms: [{ bit: 0, code: 'NO_CREW', severity: 500, text: { en: 'No operators assigned', zh: '未安排操作人员' } }],
  idealRate(v, i, s, w) {
    return 1 / crewCycle(v.secondsPerPart![i]! / v.pace![i]!, staffing(w, s));
  },
  quietFor(v, i, s, w) {
    const pooled = crewed(w, s);
    const want = pooled && headInWork(w, s) ? ALL_PLACES : 0;
    const ops = heldOps(w, s);
    if (!crewSteady(w, s, want, ALARM_NO_CREW, ops <= 0 && (want > 0 || !pooled))) return 0;
    return fifoQuiet(w, s, crewCycle(v.secondsPerPart![i]! / v.pace![i]!, ops));
  },
  advance(v, i, s, w, k) {
    fifoAdvance(w, s, crewCycle(v.secondsPerPart![i]! / v.pace![i]!, heldOps(w, s)), k);
  },
  step(v, i, s, w) {
    const pooled = crewed(w, s);
    const want = pooled && headInWork(w, s) ? ALL_PLACES : 0;
    const ops = pooled ? staff(w, s, want) : w.st.operators[s]!;
    w.setAlarm(s, ALARM_NO_CREW, ops <= 0 && (want > 0 || !pooled));
    const pace = v.pace![i]!;
    const worked = advanceFifo(w, s, 1, crewCycle(v.secondsPerPart![i]! / pace, ops));
    w.st.power[s] = w.running(s) && worked > 0 ? v.toolPower![i]! : 0;
    const p = justFinished(w, s);
    if (p < 0) return;
    v.handled![i] = v.handled![i]! + 1;
    const risk = v.errorRate![i]! * (1 + v.fatigueGain![i]! * hoursIntoShift(w, v.shiftLength![i]!)) * pace * pace;
    if (chance(w.rng, clamp(risk, 0, 1))) {
      addDefect(w, p, Defect.handling);
      v.damaged![i] = v.damaged![i]! + 1;
    }
  },
};
