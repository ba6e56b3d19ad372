/**
 * Manual visual inspection by a team of `operators` inspectors (one faster server: each needs
 * `secondsPerPart`, divided by the pace they are pushed to). Detection is per defect class:
 * surface defects by eye (`detectionRate`), internal ones by the tap test (`internalDetectionRate`:
 * a cracked piece rings dull). Both fall with fatigue, linearly with hours on task (vigilance
 * decrement), and with pace as pace^(−paceExponent): hurried eyes miss more. Breaks restore
 * them: every `breakEvery` hours on task the team steps away for `breakLength` (the station
 * stops meanwhile, so breaks cost capacity), and a new shift starts rested. False rejects rise
 * with pace. Marks parts inspected / rejected; never scraps.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import type { World } from '../core/world.ts';
import { advanceFifo, clamp, crewCycle, fifoAdvance, fifoQuiet, headInWork, hoursIntoShift, inspectByClass, justFinished } from './flow.ts';
import { ALL_PLACES, crewed, staff, staffing, staffSettled } from '../core/crew.ts';
import { inspectionCounters } from './fields.ts';

const ALARM_NO_CREW = 1;

/** Time on task now: hours into the shift, restarted after each break; true while on a break. */
function taskClock(v: KindView, i: number, w: World): boolean {
  const every = v.breakEvery![i]!;
  let onTask = hoursIntoShift(w, v.shiftLength![i]!);
  let away = false;
  if (every > 0) {
    onTask %= every + v.breakLength![i]! / 3600;
    away = onTask >= every;
    if (away) onTask = 0;
  }
  v.timeOnTask![i] = onTask;
  v.onBreak![i] = away ? 1 : 0;
  return away;
}

export const manualInspection: MachineKind = {
  kind: 'manual-inspection',
  title: { en: 'Manual inspection', zh: '人工检验' },
  role: 'process',
  companion: ['Machinery'],
  fields: {
    secondsPerPart: { unit: 's', description: 'time one inspector needs per part at standard pace', access: 'rw', default: 40, min: 1, max: 3600 },
    pace: { unit: '', description: 'working pace relative to standard (1 = standard)', access: 'rw', default: 1, min: 0.5, max: 3 },
    detectionRate: { unit: '', description: 'share of real surface defects a rested inspector finds at standard pace', access: 'rw', default: 0.85, min: 0, max: 1 },
    internalDetectionRate: { unit: '', description: 'share of real internal defects (cracks, porosity) a rested inspector finds at standard pace (tap test)', access: 'rw', default: 0.7, min: 0, max: 1 },
    falseRejectRate: { unit: '', description: 'share of good parts rejected by mistake at standard pace', access: 'rw', default: 0.03, min: 0, max: 1 },
    fatiguePerHour: { unit: '1/h', description: 'share of the detection rates lost per hour on task since the last break', access: 'rw', default: 0.03, min: 0, max: 1 },
    paceExponent: { unit: '', description: 'how strongly detection falls with pace', access: 'rw', default: 1, min: 0, max: 5 },
    shiftLength: { unit: 'h', description: 'length of a shift (fatigue resets at shift change)', access: 'rw', default: 8, min: 0.5, max: 24 },
    breakEvery: { unit: 'h', description: 'hours on task between breaks, 0 = no breaks', access: 'rw', default: 0, min: 0, max: 24 },
    breakLength: { unit: 's', description: 'length of a break (the team steps away together)', access: 'rw', default: 900, min: 0, max: 7200 },
    lightingPower: { unit: 'W', description: 'inspection booth lighting', access: 'rw', default: 400, min: 0, max: 1e4 },
    timeOnTask: { unit: 'h', description: 'hours on task since the last break or shift change', access: 'r', default: 0 },
    onBreak: { unit: '', description: '1 while the team is on a break', access: 'r', default: 0, integer: true },
    internalDetection: { unit: '', description: 'internal-defect detection rate now', access: 'r', default: 0.7 },
    ...inspectionCounters(0.85),
  },
  alarms: [{ bit: 0, code: 'NO_CREW', severity: 500, text: { en: 'No inspectors assigned', zh: '未安排检验人员' } }],
  idealRate(v, i, s, w) {
    return 1 / crewCycle(v.secondsPerPart![i]! / v.pace![i]!, staffing(w, s));
  },
  quietFor(v, i, s, w) {
    const away = taskClock(v, i, w);
    const pooled = crewed(w, s);
    const want = pooled && !away && headInWork(w, s) ? ALL_PLACES : 0;
    if (pooled && !staffSettled(w, s, want)) return 0;
    const ops = pooled ? w.crew.s.held[s]! : w.st.operators[s]!;
    if (((w.st.alarms[s]! & ALARM_NO_CREW) !== 0) !== (ops <= 0 && !away && (want > 0 || !pooled))) return 0;
    // until the break begins or ends, or the shift changes
    const len = Math.max(v.shiftLength![i]!, 1e-6) * 3600;
    const x = (w.tick * w.dt) % len;
    let left = len - x;
    const every = v.breakEvery![i]!;
    if (every > 0) {
      const y = (x / 3600) % (every + v.breakLength![i]! / 3600);
      left = Math.min(left, (away ? every + v.breakLength![i]! / 3600 - y : every - y) * 3600);
    }
    const k = Math.floor(left / w.dt) - 2;
    if (k <= 0) return 0;
    return Math.min(k, fifoQuiet(w, s, crewCycle(v.secondsPerPart![i]! / v.pace![i]!, away ? 0 : ops)));
  },
  advance(v, i, s, w, k) {
    const away = v.onBreak![i] === 1;
    const ops = crewed(w, s) ? w.crew.s.held[s]! : w.st.operators[s]!;
    fifoAdvance(w, s, crewCycle(v.secondsPerPart![i]! / v.pace![i]!, away ? 0 : ops), k);
    const t = w.tick;
    w.tick = t + k - 1;
    taskClock(v, i, w);
    w.tick = t;
  },
  step(v, i, s, w) {
    const away = taskClock(v, i, w);
    // inspectors come from the crew while a part is in work and they are not on a break (a
    // crew-less station has its own)
    const pooled = crewed(w, s);
    const want = pooled && !away && headInWork(w, s) ? ALL_PLACES : 0;
    const ops = pooled ? staff(w, s, want) : w.st.operators[s]!;
    w.setAlarm(s, ALARM_NO_CREW, ops <= 0 && !away && (want > 0 || !pooled));
    w.st.power[s] = w.running(s) ? v.lightingPower![i]! : 0;
    const pace = v.pace![i]!;
    advanceFifo(w, s, 1, crewCycle(v.secondsPerPart![i]! / pace, away ? 0 : ops));
    const p = justFinished(w, s);
    if (p < 0) return;
    const factor = (1 - v.fatiguePerHour![i]! * v.timeOnTask![i]!) * Math.pow(pace, -v.paceExponent![i]!);
    const detect = clamp(v.detectionRate![i]! * factor, 0, 1);
    const internal = clamp(v.internalDetectionRate![i]! * factor, 0, 1);
    v.detection![i] = detect;
    v.internalDetection![i] = internal;
    v.inspected![i] = v.inspected![i]! + 1;
    if (inspectByClass(w, p, detect, internal, clamp(v.falseRejectRate![i]! * pace, 0, 1))) v.rejected![i] = v.rejected![i]! + 1;
  },
};
