/**
 * Heat treatment: parts soak in an austenitizing furnace for `soakTime`, then drop into a
 * quench bath. Each part dumps m·cs·(Taus − Tbath) into the bath (mass × specific heat), and a
 * chiller of limited power pulls the bath back to its setpoint. A bath hotter than
 * `maxBathTemp` quenches too slowly (soft pearlite instead of martensite): hardness defect with
 * probability 1 − exp(−excess/hardnessScale); so does austenitizing below `minAustenitize`.
 *
 * The chiller can trip (`chillerMtbf` hours of running between trips, 0 = never): until it is
 * repaired (exponential, mean `chillerMttr`) it removes no heat, so the bath climbs with every
 * part quenched and, past its limit, hardens parts soft. Each part keeps its quench record
 * (`traceTick`, `traceValue` = how far the bath it met was above `maxBathTemp`), which only a plant that can tell
 * one part from another (the release test's `trace`) can look up.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import type { World } from '../core/world.ts';
import { chance, exponential } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, advanceFifo, clamp, due, eachFinished, powered, ticksOf } from './flow.ts';

const ALARM_BATH_HOT = 1;
const ALARM_CHILLER = 2;
const PERIOD = 0.1;

/** Drops part `p` into the bath: the bath takes its heat, the quench speed decides hardness. */
function quenched(v: KindView, i: number, _s: number, w: World, p: number): void {
  const taus = v.austenitizeTemp![i]!;
  const tb = v.bathTemp![i]! + (v.partMass![i]! * v.cpSteel![i]! * Math.max(0, taus - v.bathTemp![i]!)) / (v.bathMass![i]! * v.cpBath![i]!);
  v.bathTemp![i] = tb;
  w.parts.temp[p] = tb;
  w.parts.traceTick[p] = w.tick;
  w.parts.traceValue[p] = tb - v.maxBathTemp![i]!;
  const risk = (Math.max(0, tb - v.maxBathTemp![i]!) + Math.max(0, v.minAustenitize![i]! - taus)) / v.hardnessScale![i]!;
  if (risk > 0 && chance(w.rng, 1 - Math.exp(-risk))) addDefect(w, p, Defect.hardness);
}

/**
 * Whether the chiller runs over the next `h` seconds: while the station runs, a running chiller
 * trips with the chance of one trip in `chillerMtbf` hours (drawn only where trips are set, so
 * lines without them keep their random sequence); a tripped one counts down its repair.
 */
function chillerRuns(v: KindView, i: number, w: World, h: number, running: boolean): boolean {
  const down = v.chillerDown![i]!;
  if (down > 0) {
    v.chillerDown![i] = Math.max(0, down - h);
    return false;
  }
  if (!running) return false;
  const mtbf = v.chillerMtbf![i]!;
  if (mtbf <= 0 || !chance(w.rng, h / (mtbf * 3600))) return true;
  v.chillerDown![i] = exponential(w.rng, v.chillerMttr![i]! * 3600);
  v.chillerTrips![i] = v.chillerTrips![i]! + 1;
  return false;
}

export const quench: MachineKind = {
  kind: 'quench',
  title: { en: 'Austenitize and quench', zh: '奥氏体化淬火' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    soakTime: { unit: 's', description: 'time in the austenitizing furnace', access: 'rw', write: 'operator', default: 1800, min: 1, max: 172800 },
    austenitizeTemp: { unit: '°C', description: 'furnace temperature setpoint', access: 'rw', write: 'operator', default: 950, min: 200, max: 1200 },
    minAustenitize: { unit: '°C', description: 'lowest temperature that fully austenitizes the alloy', access: 'rw', default: 900, min: 200, max: 1200 },
    partMass: { unit: 'kg', description: 'steel mass per part', access: 'rw', default: 20, min: 0.01, max: 10000 },
    cpSteel: { unit: 'J/kg/K', description: 'mean specific heat of the steel over the quench', access: 'rw', default: 600, min: 100, max: 2000 },
    bathMass: { unit: 'kg', description: 'quenchant mass', access: 'rw', default: 20000, min: 10, max: 1e6 },
    cpBath: { unit: 'J/kg/K', description: 'specific heat of the quenchant (water-polymer)', access: 'rw', default: 3900, min: 500, max: 6000 },
    bathSp: { unit: '°C', description: 'bath temperature setpoint of the chiller', access: 'rw', write: 'operator', default: 35, min: 0, max: 150 },
    maxBathTemp: { unit: '°C', description: 'bath temperature above which hardness suffers', access: 'rw', default: 60, min: 0, max: 200 },
    hardnessScale: { unit: '°C', interval: true, description: 'excess over the limit giving a soft part with probability 1 − 1/e', access: 'rw', default: 15, min: 0.1, max: 500 },
    chillerPower: { unit: 'W', description: 'heat the chiller can remove', access: 'rw', default: 150000, min: 0, max: 1e7 },
    chillerMtbf: { unit: 'h', description: 'running hours between chiller trips (mean, exponential), 0 = the chiller never trips', access: 'rw', default: 0, min: 0, max: 1e6 },
    chillerMttr: { unit: 'h', description: 'time to get a tripped chiller running again (mean, exponential)', access: 'rw', default: 2, min: 0.01, max: 1000 },
    chillerCop: { unit: '', description: 'chiller coefficient of performance (heat removed / electric power)', access: 'rw', default: 3, min: 0.5, max: 10 },
    furnaceEfficiency: { unit: '', description: 'share of furnace power that heats the parts', access: 'rw', default: 0.6, min: 0.05, max: 1 },
    holdingPower: { unit: 'W', description: 'furnace power to hold temperature when empty', access: 'rw', default: 40000, min: 0, max: 5e6 },
    bathTemp: { unit: '°C', description: 'quench bath temperature', access: 'r', default: 35 },
    chillerLoad: { unit: 'W', description: 'heat removed by the chiller now', access: 'r', default: 0 },
    chillerDown: { unit: 's', description: 'time left until a tripped chiller runs again, 0 = running', access: 'r', default: 0 },
    chillerTrips: { unit: '', description: 'chiller trips so far', access: 'r', default: 0, integer: true },
    partClock: { unit: 'tick', description: 'ticks until parts and bath are next updated', access: 'r', default: 0, integer: true },
  },
  alarms: [
    { bit: 0, code: 'BATH_HOT', severity: 600, text: { en: 'Quench bath above limit: parts will be soft', zh: '淬火液温度超限，硬度不足' } },
    { bit: 1, code: 'CHILLER_TRIPPED', severity: 500, text: { en: 'Quench chiller tripped: the bath is not cooled', zh: '淬火液冷却机跳闸，槽液无冷却' } },
  ],
  capacity(params) {
    return Math.max(1, Math.round(params.slots ?? 1));
  },
  init(v, i) {
    v.bathTemp![i] = v.bathSp![i]!;
  },
  idealRate(v, i, s, w) {
    return (w.st.slots[s] ?? 1) / v.soakTime![i]!;
  },
  quietFor(v, i) {
    // between the multirate updates only the update clock runs
    return v.partClock![i]!;
  },
  advance(v, i, _s, _w, k) {
    v.partClock![i] = v.partClock![i]! - k;
  },
  step(v, i, s, w) {
    const every = ticksOf(w, PERIOD);
    if (!due(v.partClock!, i, every)) return;
    const h = every * w.dt;
    const running = powered(w, s);
    const bathHeat = v.bathMass![i]! * v.cpBath![i]!;
    let tb = v.bathTemp![i]!;
    const chillerUp = chillerRuns(v, i, w, h, running);
    // Chiller: proportional over a 2 K band, capped at its capacity.
    const q = chillerUp ? v.chillerPower![i]! * clamp((tb - v.bathSp![i]!) / 2, 0, 1) : 0;
    // A chiller cannot pull the bath below its own setpoint, however large the step.
    if (q > 0) tb = Math.max(v.bathSp![i]!, tb - (q * h) / bathHeat);
    const taus = v.austenitizeTemp![i]!;
    const heatPerPart = v.partMass![i]! * v.cpSteel![i]! * Math.max(0, taus - 20);
    const n = w.qLen[s] ?? 0;
    // Parts take their heat spread over the soak: mean furnace load without per-part bookkeeping.
    const furnace = v.holdingPower![i]! + (n * heatPerPart) / v.soakTime![i]! / v.furnaceEfficiency![i]!;
    w.st.power[s] = running ? furnace + q / v.chillerCop![i]! : 0;
    v.chillerLoad![i] = q;

    advanceFifo(w, s, w.st.slots[s] ?? 1, v.soakTime![i]! / every);
    v.bathTemp![i] = tb;
    eachFinished(v, i, s, w, quenched);
    w.setAlarm(s, ALARM_BATH_HOT, v.bathTemp![i]! > v.maxBathTemp![i]!);
    w.setAlarm(s, ALARM_CHILLER, v.chillerDown![i]! > 0);
  },
};
