/**
 * Medium-frequency induction furnace melting charge in batches. It takes `batch` parts of
 * charge (`partMass` each), then melts with an energy balance on the bath: net power
 * P·η − k·(T − ambient) heats the solid (cs), is taken as latent heat at `meltTemp` (L), then
 * heats the liquid (cl). At the tap setpoint it holds temperature and taps: every part leaving
 * carries `parts.temp` = melt temperature at that moment. Superheat above the recipe band
 * dissolves gas, so over-hot taps raise the porosity risk.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import { chance } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, clamp, poissonAny, powered, ticksBefore } from './flow.ts';
import { QUIET_FOREVER } from '../core/advance.ts';
import { ambientField } from './fields.ts';
import { crewed, staff, staffSettled } from '../core/crew.ts';

const CHARGING = 0;
const MELTING = 1;
const TAPPING = 2;
const ALARM_OVERTEMP = 1;
const INTERLOCK_REFRACTORY = 1;
/** time constant of the hold controller at tap temperature [s] */
const HOLD_TAU = 10;

function batchOf(v: KindView, i: number): number {
  return Math.max(1, Math.round(v.batch![i]!));
}

/** Temperature and molten share from the specific enthalpy (solid below, latent plateau, liquid above). */
function stateOfEnthalpy(v: KindView, i: number): void {
  const h = v.enthalpy![i]!;
  const cs = v.cpSolid![i]!;
  const tm = v.meltTemp![i]!;
  const hSolidus = cs * tm;
  const hLiquidus = hSolidus + v.latentHeat![i]!;
  if (h < hSolidus) {
    v.melt![i] = h / cs;
    v.molten![i] = 0;
  } else if (h < hLiquidus) {
    v.melt![i] = tm;
    v.molten![i] = (h - hSolidus) / v.latentHeat![i]!;
  } else {
    v.melt![i] = tm + (h - hLiquidus) / v.cpLiquid![i]!;
    v.molten![i] = 1;
  }
}

/** Energy to take one kg from `from` [°C] to liquid at `to` [°C] [J/kg]. */
function meltEnergy(v: KindView, i: number, from: number, to: number): number {
  const tm = v.meltTemp![i]!;
  return v.cpSolid![i]! * Math.max(0, tm - from) + v.latentHeat![i]! + v.cpLiquid![i]! * Math.max(0, to - tm);
}

export const inductionFurnace: MachineKind = {
  kind: 'induction-furnace',
  title: { en: 'Induction melting furnace', zh: '中频感应熔炼炉' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    batch: { unit: '', description: 'parts (charge portions) melted per heat', access: 'rw', default: 25, min: 1, max: 1000, integer: true },
    partMass: { unit: 'kg', description: 'metal per part', access: 'rw', default: 20, min: 0.1, max: 10000 },
    powerSp: { unit: 'W', description: 'melting power setpoint', access: 'rw', write: 'operator', default: 750000, min: 0, max: 2e7 },
    efficiency: { unit: '', description: 'share of electrical power that reaches the melt', access: 'rw', default: 0.75, min: 0.05, max: 1 },
    lossCoeff: { unit: 'W/K', description: 'heat loss of crucible and bath surface per kelvin above ambient', access: 'rw', default: 30, min: 0, max: 1e5 },
    cpSolid: { unit: 'J/kg/K', description: 'specific heat of the solid charge', access: 'rw', default: 650, min: 100, max: 5000 },
    cpLiquid: { unit: 'J/kg/K', description: 'specific heat of the melt', access: 'rw', default: 820, min: 100, max: 5000 },
    latentHeat: { unit: 'J/kg', description: 'latent heat of fusion', access: 'rw', default: 270000, min: 1000, max: 2e6 },
    meltTemp: { unit: '°C', description: 'melting point of the charge', access: 'rw', default: 1300, min: 200, max: 2000 },
    tapSp: { unit: '°C', description: 'tapping temperature setpoint', access: 'rw', write: 'operator', default: 1500, min: 200, max: 2000 },
    recipeTapTemp: { unit: '°C', description: 'tapping temperature the alloy recipe calls for', access: 'rw', write: 'operator', default: 1500, min: 200, max: 2000 },
    band: { unit: '°C', interval: true, description: 'superheat above the recipe tolerated before gas pick-up', access: 'rw', default: 40, min: 1, max: 500 },
    porosityScale: { unit: '°C', interval: true, description: 'superheat beyond the band that gives porosity with probability 1 − 1/e', access: 'rw', default: 150, min: 1, max: 5000 },
    refractoryLimit: { unit: '°C', description: 'melt temperature that trips the power (lining protection)', access: 'rw', write: 'safety', default: 1700, min: 300, max: 2000 },
    ambient: ambientField('temperature of the cold charge and surroundings'),
    auxPower: { unit: 'W', description: 'cooling-water pumps and controls while running', access: 'rw', default: 15000, min: 0, max: 1e6 },
    phase: { unit: '', description: '0 charging, 1 melting, 2 tapping', access: 'r', default: 0, integer: true },
    melt: { unit: '°C', description: 'temperature of the charge / melt', access: 'r', default: 25 },
    molten: { unit: '', description: 'share of the charge molten (0…1)', access: 'r', default: 0 },
    heats: { unit: '', description: 'heats tapped', access: 'r', default: 0, integer: true },
    coilPower: { unit: 'W', description: 'coil power now', access: 'r', default: 0 },
    enthalpy: { unit: 'J/kg', description: 'specific enthalpy of the charge above solid at 0 °C', access: 'r', default: 0 },
  },
  alarms: [
    { bit: 0, code: 'OVERTEMP', severity: 700, text: { en: 'Melt above tapping setpoint band', zh: '钢水温度超出出钢温度带' } },
  ],
  capacity(params) {
    return Math.max(1, Math.round(params.batch ?? 1));
  },
  init(v, i) {
    v.enthalpy![i] = v.cpSolid![i]! * v.ambient![i]!;
    stateOfEnthalpy(v, i);
  },
  idealRate(v, i) {
    const amb = v.ambient![i]!;
    const tap = v.tapSp![i]!;
    const mass = batchOf(v, i) * v.partMass![i]!;
    const net = v.powerSp![i]! * v.efficiency![i]! - (v.lossCoeff![i]! * (tap - amb)) / 2;
    return net > 0 ? batchOf(v, i) / ((mass * meltEnergy(v, i, amb, tap)) / net) : 1e-9;
  },
  accepts(v, i, s, w) {
    return v.phase![i] === CHARGING && (w.qLen[s] ?? 0) < batchOf(v, i);
  },
  /**
   * Quiet while charging (until the batch is complete) and while melting until the melt could
   * reach the first temperature at which something happens (tap, alarm, refractory
   * interlock): bounded by full power going into the coldest heat capacity. No own advance:
   * the melt is integrated tick by tick (the world skips the rest of the line meanwhile).
   */
  quietFor(v, i, s, w) {
    const n = w.qLen[s] ?? 0;
    const running = w.running(s);
    if (crewed(w, s) && !staffSettled(w, s, n > 0 && running ? 1 : 0)) return 0;
    const tended = !crewed(w, s) || w.crew.s.held[s]! > 0;
    const phase = v.phase![i]!;
    if (phase === TAPPING && n === 0) return 0;
    if (phase === CHARGING && n > 0 && n >= batchOf(v, i) && running && tended) return 0;
    if (n === 0) return QUIET_FOREVER;
    if ((w.st.alarms[s]! & ALARM_OVERTEMP) !== 0 || w.st.interlock[s] !== 0) return 0;
    const melt = v.melt![i]!;
    if (melt < v.ambient![i]!) return 0;
    const tap = Math.max(v.tapSp![i]!, v.meltTemp![i]! + 5);
    let limit = Math.min(v.recipeTapTemp![i]! + v.band![i]!, v.refractoryLimit![i]!);
    if (phase === MELTING) limit = Math.min(limit, tap - 0.5);
    // near the tap point a melting heat is tapped (a held heat only waits for the ladle)
    if (phase === MELTING && melt >= tap - 1) return 0;
    const rise = (v.powerSp![i]! * v.efficiency![i]! * w.dt) / (n * v.partMass![i]! * Math.min(v.cpSolid![i]!, v.cpLiquid![i]!));
    return ticksBefore(melt, rise * (1 + 1e-9), limit - 1e-6);
  },
  step(v, i, s, w) {
    const dt = w.dt;
    const amb = v.ambient![i]!;
    const n = w.qLen[s] ?? 0;
    const running = w.running(s);
    const phase = v.phase![i]!;
    // With a crew, a melter tends the furnace while it holds charge: no heat starts or is
    // tapped without one (a crew-less furnace runs by itself, as before).
    const tended = !crewed(w, s) || staff(w, s, n > 0 && running ? 1 : 0) > 0;
    if (phase === CHARGING) {
      if (n === 0) {
        v.enthalpy![i] = v.cpSolid![i]! * amb;
        stateOfEnthalpy(v, i);
      } else if (n >= batchOf(v, i) && running && tended) v.phase![i] = MELTING;
    } else if (phase === TAPPING && n === 0) {
      v.phase![i] = CHARGING;
      v.heats![i] = v.heats![i]! + 1;
      v.enthalpy![i] = v.cpSolid![i]! * amb;
      stateOfEnthalpy(v, i);
    }

    const mass = n * v.partMass![i]!;
    const t = v.melt![i]!;
    // Solid metal cannot be tapped: the effective tap point is at least a little above the melting point.
    const tap = Math.max(v.tapSp![i]!, v.meltTemp![i]! + 5);
    const eff = v.efficiency![i]!;
    const loss = v.lossCoeff![i]! * (t - amb);
    let coil = 0;
    if (powered(w, s) && mass > 0 && v.phase![i] !== CHARGING) {
      // Full power up to tap temperature, then a proportional hold (10 s time constant) against the losses.
      coil = t < tap ? v.powerSp![i]! : clamp((loss + (mass * v.cpLiquid![i]! * (tap - t)) / HOLD_TAU) / eff, 0, v.powerSp![i]!);
    }
    v.coilPower![i] = coil;
    w.st.power[s] = coil + (powered(w, s) ? v.auxPower![i]! : 0);
    if (mass > 0) {
      // Losses alone never take the charge below ambient (keeps explicit steps stable for tiny charges).
      const floor = Math.min(v.enthalpy![i]!, v.cpSolid![i]! * amb);
      v.enthalpy![i] = Math.max(floor, v.enthalpy![i]! + ((coil * eff - loss) * dt) / mass);
      stateOfEnthalpy(v, i);
    }
    const melt = v.melt![i]!;
    w.setAlarm(s, ALARM_OVERTEMP, melt > v.recipeTapTemp![i]! + v.band![i]!);
    if (melt > v.refractoryLimit![i]!) w.setInterlock(s, INTERLOCK_REFRACTORY, true);
    else if (melt < v.refractoryLimit![i]! - 50) w.setInterlock(s, INTERLOCK_REFRACTORY, false);

    if (v.phase![i] === MELTING && v.molten![i]! >= 1 && melt >= tap - 0.5 && tended) {
      v.phase![i] = TAPPING;
      // Gas pick-up is a property of the heat: decided once for every part of it, at tap.
      const superheat = melt - v.recipeTapTemp![i]! - v.band![i]!;
      const pPore = superheat > 0 ? poissonAny(superheat / v.porosityScale![i]!) : 0;
      const { progress, next } = w.parts;
      for (let p = w.qHead[s] ?? -1; p >= 0; p = next[p] ?? -1) {
        progress[p] = 1;
        if (pPore > 0 && chance(w.rng, pPore)) addDefect(w, p, Defect.porosity);
      }
    }
    // The world moves parts after this step, several in one tick if the ladle has room: each
    // leaves with the melt's temperature now (at most `batch` parts, and only while tapping).
    if (v.phase![i] !== TAPPING) return;
    const { temp, next } = w.parts;
    for (let p = w.qHead[s] ?? -1; p >= 0; p = next[p] ?? -1) temp[p] = melt;
  },
};
