/**
 * Final inspection and hardness release of bearing rings. Every ring passes an automatic gauge
 * in `passTime` that finds surface and dimension faults (`gaugeDetection`); hardness it cannot
 * see, so some rings also get a Rockwell test by hand (`testTime` per person; the station's
 * people come from its crew's `inspect` skill, or its `operators`). Which rings are tested is
 * the point of the station:
 * - the sample plan: every `sampleEvery`-th ring;
 * - while a containment is open, every ring hardened after the last good sample;
 * - with `trace` 1 (a code marked on each ring and read here, linked to the hardening furnace's
 *   records), every ring whose own quench record (`traceValue`: how far the bath it met was
 *   above the quench's limit) is above `holdAbove`.
 *
 * A soft ring is rejected. When a ring is found soft that its record did not single out (a
 * sample, or any ring without `trace`), the plant cannot tell which rings share its cause, so
 * it opens a containment: every ring hardened after the last good sample is tested before it
 * may ship, those already on the line and those still to come, until `releaseAfter` rings in a
 * row hardened after the containment began test hard (the process is shown right again). Rings
 * released before it are gone: their soft ones are the escapes. With `trace` the record takes
 * the rings of a bath excursion and only those, as they come.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import type { World } from '../core/world.ts';
import { Defect, PartFlag } from '../core/parts.ts';
import { ALL_PLACES, crewed, staff } from '../core/crew.ts';
import { advanceFifo, crewCycle, crewSteady, fifoAdvance, fifoQuiet, heldOps, inspectByClass, justFinished } from './flow.ts';

const ALARM_NO_CREW = 1;
const ALARM_CONTAINMENT = 2;

/** Seconds the head ring takes here with `ops` people: a hand test or the gauge alone. */
function cycle(v: KindView, i: number, ops: number): number {
  return v.testing![i] === 1 ? crewCycle(v.testTime![i]!, ops) : v.passTime![i]!;
}

/** Decides, once per ring, whether the new head ring is tested by hand. */
function newHead(v: KindView, i: number, s: number, w: World): void {
  const p = w.qHead[s] ?? -1;
  if (p < 0 || w.parts.serial[p] === v.headSerial![i]) return;
  v.headSerial![i] = w.parts.serial[p]!;
  const count = v.sinceSample![i]! + 1;
  const sample = count >= v.sampleEvery![i]!;
  v.sinceSample![i] = sample ? 0 : count;
  v.sampled![i] = sample ? 1 : 0;
  const hardened = w.parts.traceTick[p]!;
  const byRecord = v.trace![i] === 1 && hardened > 0 && w.parts.traceValue[p]! > v.holdAbove![i]!;
  v.byRecord![i] = byRecord ? 1 : 0;
  const held = v.containment![i]! > 0 && hardened > v.lastGood![i]!;
  if (held && !sample && !byRecord) v.held![i] = v.held![i]! + 1;
  v.testing![i] = sample || byRecord || held ? 1 : 0;
}

/** The people who may test: asked of the crew only while a hand test is in work. */
function want(v: KindView, s: number, w: World, i: number): number {
  const p = w.qHead[s] ?? -1;
  return crewed(w, s) && v.testing![i] === 1 && p >= 0 && (w.parts.progress[p] ?? 0) < 1 && w.running(s) ? ALL_PLACES : 0;
}

/** The outcome of a hand test of ring `p`: true when it is soft (rejected). */
function tested(v: KindView, i: number, w: World, p: number): boolean {
  const hardened = w.parts.traceTick[p]!;
  v.tested![i] = v.tested![i]! + 1;
  v.testHours![i] = v.testHours![i]! + v.testTime![i]! / 3600;
  const open = v.containment![i]!;
  if ((w.parts.defects[p]! & Defect.hardness) !== 0) {
    w.parts.flags[p] = w.parts.flags[p]! | PartFlag.inspected | PartFlag.rejected;
    v.softFound![i] = v.softFound![i]! + 1;
    v.goodRun![i] = 0;
    // a ring singled out by its record confirms what is known; any other soft ring is news
    if (open === 0 && v.byRecord![i] !== 1) {
      v.containment![i] = w.tick;
      v.holds![i] = v.holds![i]! + 1;
    }
    return true;
  }
  if (open > 0 && hardened > open) {
    v.goodRun![i] = v.goodRun![i]! + 1;
    if (v.goodRun![i]! >= v.releaseAfter![i]!) {
      v.containment![i] = 0;
      v.goodRun![i] = 0;
      v.lastGood![i] = hardened;
    }
  } else if (open === 0 && v.sampled![i] === 1) v.lastGood![i] = Math.max(v.lastGood![i]!, hardened);
  return false;
}

export const releaseTest: MachineKind = {
  kind: 'release-test',
  title: { en: 'Final inspection and hardness release', zh: '终检与硬度放行' },
  role: 'process',
  companion: ['Machinery'],
  fields: {
    passTime: { unit: 's', description: 'time the automatic gauge needs per ring', access: 'rw', default: 8, min: 0.1, max: 3600 },
    gaugeDetection: { unit: '', description: 'share of surface and dimension faults the gauge finds', access: 'rw', default: 0.98, min: 0, max: 1 },
    testTime: { unit: 's', description: 'time one person needs for a Rockwell test of a ring, handling included', access: 'rw', default: 60, min: 1, max: 3600 },
    sampleEvery: { unit: '', description: 'rings per hardness sample (the sample plan)', access: 'rw', default: 250, min: 1, max: 1e6, integer: true },
    releaseAfter: { unit: '', description: 'rings in a row, hardened after a containment began, that must test hard to end it', access: 'rw', default: 25, min: 1, max: 1e6, integer: true },
    trace: { unit: '', description: '1: each ring\'s code is read here and its quench record looked up; 0: rings cannot be told apart', access: 'rw', default: 0, min: 0, max: 1, integer: true },
    holdAbove: { unit: '°C', interval: true, description: 'how far above the quench\'s limit the bath in a ring\'s record may be before the ring is tested (trace 1)', access: 'rw', default: 0, min: -100, max: 500 },
    lightingPower: { unit: 'W', description: 'gauge, hardness tester and lighting', access: 'rw', default: 1500, min: 0, max: 1e5 },
    testing: { unit: '', description: '1 while the ring in work is tested by hand', access: 'r', default: 0, integer: true },
    sampled: { unit: '', description: '1 if the ring in work is a sample of the plan', access: 'r', default: 0, integer: true },
    byRecord: { unit: '', description: '1 if the ring in work is tested because of its quench record', access: 'r', default: 0, integer: true },
    headSerial: { unit: '', description: 'serial of the ring in work', access: 'r', default: 0, integer: true },
    sinceSample: { unit: '', description: 'rings since the last sample', access: 'r', default: 0, integer: true },
    lastGood: { unit: 'tick', description: 'quench tick of the last sample found hard (or of the ring that ended a containment)', access: 'r', default: 0 },
    containment: { unit: 'tick', description: 'tick the open containment began, 0 = none open', access: 'r', default: 0 },
    goodRun: { unit: '', description: 'rings in a row hardened after the containment began that tested hard', access: 'r', default: 0, integer: true },
    tested: { unit: '', description: 'rings tested by hand', access: 'r', default: 0, integer: true },
    softFound: { unit: '', description: 'soft rings found and rejected', access: 'r', default: 0, integer: true },
    holds: { unit: '', description: 'containments opened', access: 'r', default: 0, integer: true },
    held: { unit: '', description: 'rings tested only because a containment held them', access: 'r', default: 0, integer: true },
    testHours: { unit: 'h', description: 'person-hours of hand testing', access: 'r', default: 0 },
    inspected: { unit: '', description: 'rings through the gauge', access: 'r', default: 0, integer: true },
    rejected: { unit: '', description: 'rings rejected (soft, or faults the gauge found)', access: 'r', default: 0, integer: true },
  },
  alarms: [
    { bit: 0, code: 'NO_CREW', severity: 500, text: { en: 'No inspector for the hardness test', zh: '硬度检测无人' } },
    { bit: 1, code: 'CONTAINMENT', severity: 600, text: { en: 'Soft ring found: rings hardened since the last good sample are held for testing', zh: '发现硬度不足：自上次合格抽检以来淬火的套圈隔离待检' } },
  ],
  idealRate(v, i) {
    return 1 / v.passTime![i]!;
  },
  quietFor(v, i, s, w) {
    const p = w.qHead[s] ?? -1;
    if (p >= 0 && w.parts.serial[p] !== v.headSerial![i]) return 0;
    const ops = heldOps(w, s);
    if (!crewSteady(w, s, want(v, s, w, i), ALARM_NO_CREW, v.testing![i] === 1 && ops <= 0)) return 0;
    return fifoQuiet(w, s, cycle(v, i, ops));
  },
  advance(v, i, s, w, k) {
    fifoAdvance(w, s, cycle(v, i, heldOps(w, s)), k);
  },
  step(v, i, s, w) {
    newHead(v, i, s, w);
    // a station outside any crew has its own `operators` (staff returns them)
    const ops = staff(w, s, want(v, s, w, i));
    w.setAlarm(s, ALARM_NO_CREW, v.testing![i] === 1 && ops <= 0);
    w.st.power[s] = w.running(s) ? v.lightingPower![i]! : 0;
    advanceFifo(w, s, 1, cycle(v, i, ops));
    const p = justFinished(w, s);
    if (p < 0) return;
    v.inspected![i] = v.inspected![i]! + 1;
    const gauged = inspectByClass(w, p, v.gaugeDetection![i]!, 0, 0);
    const soft = v.testing![i] === 1 && tested(v, i, w, p);
    if (gauged || soft) v.rejected![i] = v.rejected![i]! + 1;
    w.setAlarm(s, ALARM_CONTAINMENT, v.containment![i]! > 0);
  },
};
