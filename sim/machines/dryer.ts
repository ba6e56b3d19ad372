/**
 * Continuous dryer (ceramic greenware). Air temperature follows its setpoint through a
 * first-order lag, heated by a burner/heater of limited power. Each part's moisture decays
 * exponentially while inside: M = Meq + (Min − Meq)·exp(−D), where the drying dose
 * D = ∫ k·(Tair − Twet)/(Tref − Twet) dt is kept in the part's `exposure`. Parts that leave wetter
 * than `crackMoisture` will crack when fired; the dryer seals that in as a latent
 * `Defect.crack` with probability 1 − exp(−(M − crackMoisture)/moistureScale).
 */
import type { KindView, MachineKind } from '../core/types.ts';
import type { World } from '../core/world.ts';
import { chance } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, advanceFifo, clamp, due, eachFinished, lag, powered, ticksOf } from './flow.ts';
import { ambientField } from './fields.ts';

const ALARM_AIR_LOW = 1;
const ALARM_WET_EXIT = 2;
/** how often air and parts are updated [s]: drying is slow, per-tick work would be waste */
const PERIOD = 0.1;
/** wet-bulb temperature of the drying air [°C]: no drying below it */
const WET_BULB = 35;

/** Moisture at exit and the latent crack it seals in. */
function dried(v: KindView, i: number, s: number, w: World, p: number): void {
  const mEq = v.moistureEq![i]!;
  const m = mEq + Math.max(0, v.moistureIn![i]! - mEq) * Math.exp(-(w.parts.exposure[p] ?? 0));
  v.lastMoisture![i] = m;
  const excess = m - v.crackMoisture![i]!;
  w.setAlarm(s, ALARM_WET_EXIT, excess > 0);
  if (excess > 0 && chance(w.rng, 1 - Math.exp(-excess / v.moistureScale![i]!))) addDefect(w, p, Defect.crack);
}

export const dryer: MachineKind = {
  kind: 'dryer',
  title: { en: 'Continuous dryer', zh: '连续干燥器' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    residence: { unit: 's', description: 'time a part takes to pass through', access: 'rw', write: 'operator', default: 2400, min: 10, max: 172800 },
    airSp: { unit: '°C', description: 'drying air temperature setpoint', access: 'rw', write: 'operator', default: 110, min: 20, max: 300 },
    refAirTemp: { unit: '°C', description: 'air temperature at which the drying constant applies', access: 'rw', default: 110, min: 40, max: 300 },
    dryingK: { unit: '1/s', description: 'drying constant at the reference air temperature', access: 'rw', default: 1.5e-3, min: 1e-6, max: 1 },
    moistureIn: { unit: '%', description: 'moisture of parts entering (mass %, dry basis)', access: 'rw', default: 20, min: 0, max: 60 },
    moistureEq: { unit: '%', description: 'equilibrium moisture with the drying air', access: 'rw', default: 0.5, min: 0, max: 20 },
    crackMoisture: { unit: '%', description: 'moisture above which parts crack when fired', access: 'rw', default: 2, min: 0, max: 60 },
    moistureScale: { unit: '%', description: 'excess moisture that raises the crack probability to 1 − 1/e', access: 'rw', default: 1.5, min: 0.01, max: 60 },
    tau: { unit: 's', description: 'time constant of the air temperature', access: 'rw', default: 600, min: 1, max: 1e5 },
    maxPower: { unit: 'W', description: 'heater power', access: 'rw', default: 80000, min: 0, max: 2e6 },
    maxTemp: { unit: '°C', description: 'air temperature at full power in steady state', access: 'rw', default: 200, min: 30, max: 600 },
    ambient: ambientField(),
    fanPower: { unit: 'W', description: 'circulation fan power', access: 'rw', default: 7500, min: 0, max: 5e5 },
    airTemp: { unit: '°C', description: 'drying air temperature', access: 'r', default: 110 },
    heaterPower: { unit: 'W', description: 'heater power now', access: 'r', default: 0 },
    lastMoisture: { unit: '%', description: 'moisture of the last part that left', access: 'r', default: 0 },
    partClock: { unit: 'tick', description: 'ticks until air and parts are next updated', access: 'r', default: 0, integer: true },
  },
  alarms: [
    { bit: 0, code: 'AIR_LOW', severity: 400, text: { en: 'Drying air more than 15 °C below setpoint', zh: '干燥风温低于设定值15 °C以上' } },
    { bit: 1, code: 'WET_EXIT', severity: 600, text: { en: 'Parts leaving too wet: they will crack in the kiln', zh: '出口坯体水分过高，入窑易开裂' } },
  ],
  capacity(params) {
    return Math.max(1, Math.round(params.slots ?? 1));
  },
  init(v, i) {
    v.airTemp![i] = v.airSp![i]!;
  },
  idealRate(v, i, s, w) {
    return (w.st.slots[s] ?? 1) / v.residence![i]!;
  },
  quietFor(v, i) {
    // between the multirate updates (every PART_PERIOD) only the update clock runs
    return v.partClock![i]!;
  },
  advance(v, i, _s, _w, k) {
    v.partClock![i] = v.partClock![i]! - k;
  },
  step(v, i, s, w) {
    const every = ticksOf(w, PERIOD);
    if (!due(v.partClock!, i, every)) return;
    const h = every * w.dt;
    const amb = v.ambient![i]!;
    const pmax = v.maxPower![i]!;
    const on = powered(w, s);
    const r = (v.maxTemp![i]! - amb) / Math.max(pmax, 1);
    const sp = v.airSp![i]!;
    const t = v.airTemp![i]!;
    const p = on ? clamp((sp - amb) / r + (pmax / 20) * (sp - t), 0, pmax) : 0;
    const air = lag(t, amb + p * r, v.tau![i]!, h);
    v.airTemp![i] = air;
    v.heaterPower![i] = p;
    w.st.power[s] = p + (on ? v.fanPower![i]! : 0);
    w.setAlarm(s, ALARM_AIR_LOW, on && air < sp - 15);

    advanceFifo(w, s, w.st.slots[s] ?? 1, v.residence![i]! / every);
    const rate = (v.dryingK![i]! * Math.max(0, air - WET_BULB)) / Math.max(1, v.refAirTemp![i]! - WET_BULB);
    const { exposure, progress, temp, next } = w.parts;
    // Exposure holds the drying dose D (dimensionless) while the part is here.
    for (let q = w.qHead[s] ?? -1; q >= 0; q = next[q] ?? -1) {
      if ((progress[q] ?? 0) >= 1) continue;
      exposure[q] = exposure[q]! + rate * h;
      temp[q] = air;
    }
    eachFinished(v, i, s, w, dried);
  },
};
