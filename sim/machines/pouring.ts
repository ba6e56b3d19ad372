/**
 * Casting (pouring) station. Metal arrives in the ladle at tap temperature and cools there
 * exponentially while it waits (`ladleTau`; hand ladles are small and cool faster). A mould is
 * poured per cycle: automatic at `cycleTime` with little scatter, or by hand at
 * `manualTime` per pourer with a wide scatter and a slower, colder stream (`manualPourLoss`).
 * Pouring below `minPourTemp` leaves cold shuts with probability 1 − exp(−shortfall/coldShutScale).
 */
import type { MachineKind } from '../core/types.ts';
import { chance, normal } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, advanceFifo, clamp, cooled, crewCycle, handCrewSteady, fifoAdvance, fifoQuiet, headInWork, heldOps, machineOrCrewCycle, justFinished, newHead, standbyQuiet, waitingPower } from './flow.ts';
import { ALL_PLACES, crewed, staff } from '../core/crew.ts';
import { ambientField } from './fields.ts';

const ALARM_COLD_METAL = 1;
const ALARM_NO_CREW = 2;

export const pouring: MachineKind = {
  kind: 'pouring',
  title: { en: 'Pouring station', zh: '浇注工位' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    automatic: { unit: '', description: '1: automatic pouring machine, 0: poured by hand (needs operators)', access: 'rw', default: 1, min: 0, max: 1, integer: true },
    cycleTime: { unit: 's', description: 'mould cycle of the automatic pouring machine', access: 'rw', write: 'operator', default: 40, min: 1, max: 3600 },
    manualTime: { unit: 's', description: 'time one pourer needs per mould by hand', access: 'rw', default: 240, min: 1, max: 36000 },
    manualScatter: { unit: '', description: 'coefficient of variation of the manual pouring time', access: 'rw', default: 0.25, min: 0, max: 1 },
    ladleParts: { unit: '', description: 'moulds one ladle of metal fills', access: 'rw', default: 25, min: 1, max: 1000, integer: true },
    ladleTau: { unit: 's', description: 'cooling time constant of metal in the ladle (automatic)', access: 'rw', default: 30000, min: 10, max: 1e7 },
    manualLadleTau: { unit: 's', description: 'cooling time constant of metal in hand ladles', access: 'rw', default: 15000, min: 10, max: 1e7 },
    manualPourLoss: { unit: '°C', description: 'extra temperature lost by a slow hand-poured stream (mean)', access: 'rw', default: 25, min: 0, max: 500 },
    minPourTemp: { unit: '°C', description: 'lowest pouring temperature that fills the mould completely', access: 'rw', default: 1400, min: 100, max: 2000 },
    coldShutScale: { unit: '°C', interval: true, description: 'shortfall below minPourTemp giving a cold shut with probability 1 − 1/e', access: 'rw', default: 30, min: 0.1, max: 1000 },
    ambient: ambientField(),
    machinePower: { unit: 'W', description: 'pouring machine power while pouring (automatic)', access: 'rw', default: 15000, min: 0, max: 1e6 },
    idlePower: { unit: 'W', description: 'power while waiting (ladle preheat, hydraulics)', access: 'rw', default: 3000, min: 0, max: 1e6 },
    cycleNow: { unit: 's', description: 'pouring time of the mould being poured', access: 'r', default: 0 },
    lastPourTemp: { unit: '°C', description: 'pouring temperature of the last mould', access: 'r', default: 0 },
    headSerial: { unit: '', description: 'serial of the part whose pour was last planned', access: 'r', default: 0, integer: true },
  },
  alarms: [
    { bit: 0, code: 'COLD_METAL', severity: 600, text: { en: 'Metal below minimum pouring temperature', zh: '铁水温度低于最低浇注温度' } },
    { bit: 1, code: 'NO_CREW', severity: 500, text: { en: 'Manual pouring without operators', zh: '手工浇注无人员' } },
  ],
  capacity(params) {
    return Math.max(1, Math.round(params.ladleParts ?? 1));
  },
  idealRate(v, i, s, w) {
    return 1 / machineOrCrewCycle(v, i, s, w);
  },
  quietFor(v, i, s, w) {
    const auto = v.automatic![i] === 1;
    const ops = handCrewSteady(w, s, auto, ALARM_NO_CREW);
    if (ops === null) return 0;
    // a new mould at the head draws its pouring time
    const head = w.qHead[s] ?? -1;
    if (head >= 0 && w.parts.serial[head] !== v.headSerial![i]) return 0;
    return Math.min(fifoQuiet(w, s, crewed(w, s) && !auto ? crewCycle(v.cycleNow![i]!, ops) : v.cycleNow![i]!), standbyQuiet(w, s));
  },
  advance(v, i, s, w, k) {
    const manual = crewed(w, s) && v.automatic![i] !== 1;
    fifoAdvance(w, s, manual ? crewCycle(v.cycleNow![i]!, heldOps(w, s)) : v.cycleNow![i]!, k);
  },
  step(v, i, s, w) {
    const auto = v.automatic![i] === 1;
    // by hand, pourers come from the crew while a mould is in work (a crew-less station has its own)
    const pooled = crewed(w, s);
    const want = pooled && !auto && headInWork(w, s) ? ALL_PLACES : 0;
    const ops = pooled ? staff(w, s, want) : w.st.operators[s]!;
    w.setAlarm(s, ALARM_NO_CREW, !auto && ops <= 0 && (want > 0 || !pooled));
    if (newHead(w, s, v.headSerial!, i) >= 0) {
      const cv = auto ? 0.03 : v.manualScatter![i]!;
      // with a crew the people at work change from tick to tick: keep one pourer's time
      const base = pooled && !auto ? v.manualTime![i]! : machineOrCrewCycle(v, i, s, w, ops);
      v.cycleNow![i] = base * clamp(1 + cv * normal(w.rng), 0.3, 3);
    }
    const worked = advanceFifo(w, s, 1, pooled && !auto ? crewCycle(v.cycleNow![i]!, ops) : v.cycleNow![i]!);
    w.st.power[s] = w.running(s) ? (worked > 0 && auto ? v.machinePower![i]! : v.idlePower![i]!) : waitingPower(w, s, v.idlePower![i]!);
    const p = justFinished(w, s);
    if (p < 0) return;
    const waited = (w.tick - (w.parts.entered[p] ?? w.tick)) * w.dt;
    const amb = v.ambient![i]!;
    let t = cooled(w.parts.temp[p] ?? amb, amb, auto ? v.ladleTau![i]! : v.manualLadleTau![i]!, waited);
    if (!auto) t -= v.manualPourLoss![i]! * clamp(1 + 0.5 * normal(w.rng), 0, 3);
    w.parts.temp[p] = t;
    v.lastPourTemp![i] = t;
    const shortfall = v.minPourTemp![i]! - t;
    w.setAlarm(s, ALARM_COLD_METAL, shortfall > 0);
    if (shortfall > 0 && chance(w.rng, 1 - Math.exp(-shortfall / v.coldShutScale![i]!))) addDefect(w, p, Defect.coldShut);
  },
};
