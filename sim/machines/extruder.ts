/**
 * Cable insulation extruder (crosshead, cooling trough and haul-off as one station). The cable
 * runs continuously; the twin cuts it into `segmentLength` pieces, one part each, made in
 * `segmentLength / lineSpeed`.
 *
 * The insulated diameter of a piece is `nominalDiameter + offset + noise·N(0,1)`. The process
 * mean `offset` wanders as a real extrusion does (melt temperature, compound lot, conductor
 * size): per piece a random walk of `drift` per √h of running, plus a steady `trend` per hour,
 * faster by `wearTrend` as screw and die wear. A piece more than `tolerance` off nominal is a
 * dimension defect (ground truth).
 *
 * Who corrects the mean decides the scrap:
 * - `spc` 0, by hand: every `checkInterval` of running the operator measures the piece coming
 *   off with a micrometer (error `manualError`), rejects it if it is out of tolerance, and, when
 *   it is more than `adjustBand` off, corrects the mean by what was measured. What drifts out
 *   between checks goes on unseen. With a crew whose skills include `inspect` serving the
 *   station, a check is a person's work: one is called when the check is due, measures the
 *   next piece off (at once if free then) and stays for `checkTime`; while nobody is free the
 *   check waits and the drift goes on. Without one, the check takes nobody's time.
 * - `spc` 1, a laser gauge and statistical process control: every piece is measured (error
 *   `gaugeError`); a piece out of tolerance is rejected (cut out). The measurements feed an EWMA
 *   chart (weight `ewmaLambda`, limits `chartSigma` standard deviations of the EWMA of the
 *   short-term scatter); when the EWMA leaves its limits the controller takes the mean back by
 *   it and restarts the chart. Inside the limits it leaves the process alone, so the short-term
 *   scatter is not chased (no tampering).
 *
 * The process evolves only when a piece is finished (per piece, not per tick), so the kind is
 * quiet between pieces (and a check's person's time) and time advance skips them.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import type { World } from '../core/world.ts';
import { normal } from '../core/rng.ts';
import { Defect, PartFlag } from '../core/parts.ts';
import { crewed, staff, staffSettled } from '../core/crew.ts';
import { addDefect, cycleStep, fifoAdvance, fifoQuiet, standbyQuiet, ticksBefore } from './flow.ts';

const ALARM_DIAMETER = 1;
const ALARM_OUT_OF_CONTROL = 2;
const ALARM_CHECK_WAITING = 4;

/** People a check by hand wants now: one while it is due or under way (spc 0, running), else none. */
function checkWant(v: KindView, i: number, s: number, w: World): number {
  if (v.spc![i] === 1 || !w.running(s)) return 0;
  return v.checkClock![i]! > 0 || v.sinceCheck![i]! >= v.checkInterval![i]! ? 1 : 0;
}

/** Seconds one piece takes at the line speed. */
function pieceTime(v: KindView, i: number): number {
  return (v.segmentLength![i]! / v.lineSpeed![i]!) * 60;
}

export const extruder: MachineKind = {
  kind: 'extruder',
  title: { en: 'Cable insulation extruder', zh: '电缆绝缘挤出机' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    lineSpeed: { unit: 'm/min', description: 'line (haul-off) speed', access: 'rw', write: 'operator', default: 60, min: 0.1, max: 3000 },
    segmentLength: { unit: 'm', description: 'cable length the twin treats as one piece', access: 'rw', default: 100, min: 1, max: 10000 },
    nominalDiameter: { unit: 'mm', description: 'insulated diameter the product calls for', access: 'rw', write: 'operator', default: 8, min: 0.5, max: 200 },
    tolerance: { unit: 'mm', description: 'allowed deviation of the diameter from nominal', access: 'rw', default: 0.1, min: 0.001, max: 10 },
    noise: { unit: 'mm', description: 'short-term scatter (standard deviation) of the diameter from piece to piece', access: 'rw', default: 0.02, min: 0, max: 10 },
    drift: { unit: 'mm', description: 'random wander of the process mean over one hour of running (standard deviation; grows with the square root of time)', access: 'rw', default: 0.03, min: 0, max: 10 },
    trend: { unit: 'mm', description: 'steady change of the process mean per hour of running (melt temperature creeping up, compound lot)', access: 'rw', default: 0.02, min: -10, max: 10 },
    wearTrend: { unit: 'mm', description: 'extra change of the process mean per hour of running at full screw and die wear', access: 'rw', default: 0.04, min: -10, max: 10 },
    spc: { unit: '', description: '1: laser gauge on every piece and SPC with automatic correction; 0: checks by hand', access: 'rw', default: 0, min: 0, max: 1, integer: true },
    checkInterval: { unit: 's', description: 'running time between an operator\'s checks by hand (spc 0)', access: 'rw', default: 1800, min: 1, max: 1e6 },
    adjustBand: { unit: 'mm', description: 'deviation measured by hand beyond which the operator corrects the mean (spc 0)', access: 'rw', default: 0.05, min: 0, max: 10 },
    checkTime: { unit: 's', description: 'time a check by hand holds a person of the station\'s crew (cut a sample, measure it round, note it); no crew: it takes nobody\'s time', access: 'rw', default: 180, min: 0, max: 36000 },
    manualError: { unit: 'mm', description: 'measurement error (standard deviation) of a check by hand', access: 'rw', default: 0.01, min: 0, max: 10 },
    gaugeError: { unit: 'mm', description: 'measurement error (standard deviation) of the laser gauge (spc 1)', access: 'rw', default: 0.003, min: 0, max: 10 },
    ewmaLambda: { unit: '', description: 'weight of the newest measurement in the EWMA chart (spc 1)', access: 'rw', default: 0.2, min: 0.01, max: 1 },
    chartSigma: { unit: '', description: 'EWMA control limits in standard deviations (spc 1)', access: 'rw', default: 3, min: 0.5, max: 10 },
    runPower: { unit: 'W', description: 'barrel heaters and screw drive while extruding', access: 'rw', default: 75000, min: 0, max: 1e7 },
    idlePower: { unit: 'W', description: 'barrel heaters holding temperature while no cable runs', access: 'rw', default: 30000, min: 0, max: 1e7 },
    offset: { unit: 'mm', description: 'process mean minus nominal now', access: 'r', default: 0 },
    diameter: { unit: 'mm', description: 'insulated diameter of the last piece (true value)', access: 'r', default: 0 },
    measured: { unit: 'mm', description: 'diameter last measured (gauge or hand)', access: 'r', default: 0 },
    ewma: { unit: 'mm', description: 'EWMA of the measured deviation from nominal (spc 1)', access: 'r', default: 0 },
    sinceCheck: { unit: 's', description: 'running time since the last check by hand', access: 'r', default: 0 },
    checkClock: { unit: 's', description: 'time left of the check by hand under way (a person held), 0 = none', access: 'r', default: 0 },
    metres: { unit: 'm', description: 'cable extruded', access: 'r', default: 0 },
    outOfTolerance: { unit: '', description: 'pieces made out of tolerance (true count)', access: 'r', default: 0, integer: true },
    corrections: { unit: '', description: 'corrections of the process mean made (by hand or by SPC)', access: 'r', default: 0, integer: true },
  },
  alarms: [
    { bit: 0, code: 'DIAMETER_OUT_OF_TOLERANCE', severity: 600, text: { en: 'Insulated diameter measured out of tolerance', zh: '绝缘外径测量超差' } },
    { bit: 1, code: 'SPC_OUT_OF_CONTROL', severity: 400, text: { en: 'Diameter EWMA outside control limits: mean corrected', zh: '外径EWMA超出控制限：已修正均值' } },
    { bit: 2, code: 'CHECK_WAITING', severity: 300, text: { en: 'Check by hand due: nobody of the crew free', zh: '人工抽检已到期：班组无人空闲' } },
  ],
  idealRate(v, i) {
    return 1 / pieceTime(v, i);
  },
  quietFor(v, i, s, w) {
    const q = Math.min(fifoQuiet(w, s, pieceTime(v, i)), standbyQuiet(w, s));
    if (!crewed(w, s)) return q;
    if (!staffSettled(w, s, checkWant(v, i, s, w))) return 0;
    const clock = v.checkClock![i]!;
    return clock > 0 && w.crew.s.held[s]! > 0 && w.running(s) ? Math.min(q, ticksBefore(-clock, w.dt, 0)) : q;
  },
  advance(v, i, s, w, k) {
    fifoAdvance(w, s, pieceTime(v, i), k);
    if (!crewed(w, s) || w.crew.s.held[s] === 0 || !w.running(s)) return;
    let clock = v.checkClock![i]!;
    for (let j = 0; j < k && clock > 0; j++) {
      const left = clock - w.dt;
      clock = left > 0 ? left : 0;
    }
    v.checkClock![i] = clock;
  },
  step(v, i, s, w) {
    // a check by hand holds its person until its time is up (the clock stands while nobody is there)
    const crew = crewed(w, s);
    const want = crew ? checkWant(v, i, s, w) : 0;
    let held = crew ? staff(w, s, want) : 0;
    if (crew) w.setAlarm(s, ALARM_CHECK_WAITING, held === 0 && want > 0);
    const clock = v.checkClock![i]!;
    if (held > 0 && clock > 0 && w.running(s)) {
      const left = clock - w.dt;
      v.checkClock![i] = left > 0 ? left : 0;
    }
    const t = pieceTime(v, i);
    const p = cycleStep(v, i, s, w, t);
    if (p < 0) return;
    const hours = t / 3600;
    const nominal = v.nominalDiameter![i]!;
    const tol = v.tolerance![i]!;
    const wear = w.st.wear[s] ?? 0;
    const offset = v.offset![i]! + (v.trend![i]! + v.wearTrend![i]! * wear) * hours + v.drift![i]! * Math.sqrt(hours) * normal(w.rng);
    const d = nominal + offset + v.noise![i]! * normal(w.rng);
    v.offset![i] = offset;
    v.diameter![i] = d;
    v.metres![i] = v.metres![i]! + v.segmentLength![i]!;
    if (Math.abs(d - nominal) > tol) {
      addDefect(w, p, Defect.dimension);
      v.outOfTolerance![i] = v.outOfTolerance![i]! + 1;
    }
    let out = false;
    let control = false;
    if (v.spc![i] === 1) {
      const m = d + v.gaugeError![i]! * normal(w.rng);
      v.measured![i] = m;
      out = Math.abs(m - nominal) > tol;
      const lambda = v.ewmaLambda![i]!;
      const z = lambda * (m - nominal) + (1 - lambda) * v.ewma![i]!;
      const sigma = Math.hypot(v.noise![i]!, v.gaugeError![i]!) * Math.sqrt(lambda / (2 - lambda));
      control = Math.abs(z) > v.chartSigma![i]! * sigma;
      if (control) {
        v.offset![i] = offset - z;
        v.ewma![i] = 0;
        v.corrections![i] = v.corrections![i]! + 1;
      } else v.ewma![i] = z;
    } else {
      const since = v.sinceCheck![i]! + t;
      // with a crew, the check is due now: a person free this moment takes this piece
      if (crew && since >= v.checkInterval![i]! && held === 0 && v.checkClock![i] === 0) held = staff(w, s, 1);
      if (since >= v.checkInterval![i]! && (!crew || (held > 0 && v.checkClock![i] === 0))) {
        const m = d + v.manualError![i]! * normal(w.rng);
        v.measured![i] = m;
        out = Math.abs(m - nominal) > tol;
        if (Math.abs(m - nominal) > v.adjustBand![i]!) {
          v.offset![i] = offset - (m - nominal);
          v.corrections![i] = v.corrections![i]! + 1;
        }
        v.sinceCheck![i] = 0;
        if (crew) v.checkClock![i] = v.checkTime![i]!;
      } else v.sinceCheck![i] = since;
    }
    // a check falling due at this piece with nobody free waits from now
    if (crew) w.setAlarm(s, ALARM_CHECK_WAITING, held === 0 && checkWant(v, i, s, w) > 0);
    if (out) w.parts.flags[p] = (w.parts.flags[p] ?? 0) | PartFlag.inspected | PartFlag.rejected;
    w.setAlarm(s, ALARM_DIAMETER, out);
    w.setAlarm(s, ALARM_OUT_OF_CONTROL, control);
  },
};
