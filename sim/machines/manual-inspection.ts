/**
 * Manual visual inspection by a team of `operators` inspectors (one faster server: each needs
 * `secondsPerPart`, divided by the pace they are pushed to). Detection falls with fatigue,
 * linearly with hours into the shift, and with pace as pace^(−paceExponent): hurried eyes miss
 * more. False rejects rise with pace. Marks parts inspected / rejected; never scraps.
 */
import type { MachineKind } from '../core/types.ts';
import { advanceFifo, clamp, crewCycle, hoursIntoShift, inspectPart, justFinished } from './flow.ts';
import { inspectionCounters } from './fields.ts';

const ALARM_NO_CREW = 1;

export const manualInspection: MachineKind = {
  kind: 'manual-inspection',
  title: { en: 'Manual inspection', zh: '人工检验' },
  role: 'process',
  companion: ['Machinery'],
  fields: {
    secondsPerPart: { unit: 's', description: 'time one inspector needs per part at standard pace', access: 'rw', default: 40, min: 1, max: 3600 },
    pace: { unit: '', description: 'working pace relative to standard (1 = standard)', access: 'rw', default: 1, min: 0.5, max: 3 },
    detectionRate: { unit: '', description: 'share of real defects a rested inspector finds at standard pace', access: 'rw', default: 0.85, min: 0, max: 1 },
    falseRejectRate: { unit: '', description: 'share of good parts rejected by mistake at standard pace', access: 'rw', default: 0.03, min: 0, max: 1 },
    fatiguePerHour: { unit: '1/h', description: 'share of the detection rate lost per hour into the shift', access: 'rw', default: 0.03, min: 0, max: 1 },
    paceExponent: { unit: '', description: 'how strongly detection falls with pace', access: 'rw', default: 1, min: 0, max: 5 },
    shiftLength: { unit: 'h', description: 'length of a shift (fatigue resets at shift change)', access: 'rw', default: 8, min: 0.5, max: 24 },
    lightingPower: { unit: 'W', description: 'inspection booth lighting', access: 'rw', default: 400, min: 0, max: 1e5 },
    ...inspectionCounters(0.85),
  },
  alarms: [{ bit: 0, code: 'NO_CREW', severity: 500, text: { en: 'No inspectors assigned', zh: '未安排检验人员' } }],
  idealRate(v, i, s, w) {
    return 1 / crewCycle(v.secondsPerPart![i]! / v.pace![i]!, w.st.operators[s] ?? 0);
  },
  step(v, i, s, w) {
    const ops = w.st.operators[s] ?? 0;
    w.setAlarm(s, ALARM_NO_CREW, ops <= 0);
    w.st.power[s] = w.running(s) ? v.lightingPower![i]! : 0;
    const pace = v.pace![i]!;
    advanceFifo(w, s, 1, crewCycle(v.secondsPerPart![i]! / pace, ops));
    const p = justFinished(w, s);
    if (p < 0) return;
    const fatigue = 1 - v.fatiguePerHour![i]! * hoursIntoShift(w, v.shiftLength![i]!);
    const detect = clamp(v.detectionRate![i]! * fatigue * Math.pow(pace, -v.paceExponent![i]!), 0, 1);
    v.detection![i] = detect;
    v.inspected![i] = v.inspected![i]! + 1;
    if (inspectPart(w, p, detect, clamp(v.falseRejectRate![i]! * pace, 0, 1))) v.rejected![i] = v.rejected![i]! + 1;
  },
};
