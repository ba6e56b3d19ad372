/**
 * Tunnel kiln / furnace with up to four heating zones. Each zone is a first-order thermal
 * lag (time constant `tau`) driven by heater power from a feed-forward + proportional
 * controller towards its setpoint. Parts ride through in `residence` seconds; time spent in a
 * zone outside `band` around the recipe temperature makes cracks (over-fired) or glaze
 * defects (under-fired). Heaters trip on the over-temperature interlock.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import { chance } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { advanceFifo, clamp, eachFinished, lag, poissonAny, powered, type FinishHook } from './flow.ts';
import { ambientField } from './fields.ts';

const Z = ['1', '2', '3', '4'] as const;
const ALARM_OVERTEMP = 1;
const ALARM_UNDERTEMP = 2;
const INTERLOCK_OVERTEMP = 1;
/** how often parts inside the tunnel are updated [s] */
const PART_PERIOD = 0.1;

const zoneFields = Object.fromEntries(
  Z.flatMap((z) => [
    [`sp${z}`, { unit: '°C', description: `zone ${z} temperature setpoint`, access: 'rw', default: 1000, min: 0, max: 1800 }],
    [`recipe${z}`, { unit: '°C', description: `zone ${z} temperature the firing recipe calls for`, access: 'rw', default: 1000, min: 0, max: 1800 }],
    [`t${z}`, { unit: '°C', description: `zone ${z} temperature`, access: 'r', default: 20 }],
    [`p${z}`, { unit: 'W', description: `zone ${z} heater power`, access: 'r', default: 0 }],
  ]),
) as MachineKind['fields'];

function zoneTemp(v: KindView, i: number, zone: number): number {
  return zone === 0 ? v.t1![i]! : zone === 1 ? v.t2![i]! : zone === 2 ? v.t3![i]! : v.t4![i]!;
}
function recipeTemp(v: KindView, i: number, zone: number): number {
  return zone === 0 ? v.recipe1![i]! : zone === 1 ? v.recipe2![i]! : zone === 2 ? v.recipe3![i]! : v.recipe4![i]!;
}

/**
 * End of firing, once per part: time spent outside the band makes cracks (over-fired) or
 * glaze defects (under-fired). Parts that finish in the same update are each checked, even if
 * several leave in one tick after a blockage.
 */
const fired: FinishHook = (v, i, _s, w, p) => {
  const scale = v.defectScale![i]!;
  const hot = w.parts.exposure[p]!;
  const cold = w.parts.exposureLow[p]!;
  if (hot > 0 && chance(w.rng, poissonAny(hot / scale))) w.parts.defects[p]! |= Defect.crack;
  if (cold > 0 && chance(w.rng, poissonAny(cold / scale))) w.parts.defects[p]! |= Defect.glaze;
  w.parts.temp[p] = lag(w.parts.temp[p]!, v.ambient![i]!, 1, 0.5);
};

export const kiln: MachineKind = {
  kind: 'kiln',
  title: { en: 'Tunnel kiln / furnace', zh: '隧道窑 / 加热炉' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    zones: { unit: '', description: 'heating zones in use (1–4)', access: 'rw', default: 3, min: 1, max: 4, integer: true },
    residence: { unit: 's', description: 'time a part takes to pass through', access: 'rw', default: 3600, min: 1, max: 172800 },
    tau: { unit: 's', description: 'thermal time constant of a zone', access: 'rw', default: 900, min: 1, max: 1e6 },
    maxPower: { unit: 'W', description: 'heater power of one zone', access: 'rw', default: 150000, min: 0, max: 1e8 },
    maxTemp: { unit: '°C', description: 'temperature at full power in steady state', access: 'rw', default: 1450, min: 100, max: 2500 },
    ambient: ambientField(),
    band: { unit: '°C', interval: true, description: 'allowed deviation from the recipe before defects start', access: 'rw', default: 25, min: 1, max: 500 },
    defectScale: { unit: '°C·s', description: 'exposure outside the band that gives about one defect in e', access: 'rw', default: 2000, min: 1, max: 1e9 },
    tripTemp: { unit: '°C', description: 'over-temperature interlock trip point', access: 'rw', default: 1400, min: 100, max: 2500 },
    partClock: { unit: 'tick', description: 'ticks until parts inside are next updated', access: 'r', default: 0, integer: true },
    preheated: { unit: '', description: '1: zones start at setpoint', access: 'rw', default: 1, min: 0, max: 1, integer: true },
    ...zoneFields,
  },
  alarms: [
    { bit: 0, code: 'OVERTEMP', severity: 700, text: { en: 'Zone temperature above recipe band', zh: '区段温度高于工艺带' } },
    { bit: 1, code: 'UNDERTEMP', severity: 500, text: { en: 'Zone temperature below recipe band', zh: '区段温度低于工艺带' } },
  ],
  capacity(params) {
    return Math.max(1, params.slots ?? 1);
  },
  init(v, i) {
    if (v.preheated![i] === 1) {
      v.t1![i] = v.sp1![i]!;
      v.t2![i] = v.sp2![i]!;
      v.t3![i] = v.sp3![i]!;
      v.t4![i] = v.sp4![i]!;
    } else {
      v.t1![i] = v.t2![i] = v.t3![i] = v.t4![i] = v.ambient![i]!;
    }
  },
  idealRate(v, i, s, w) {
    return (w.st.slots[s] ?? 1) / v.residence![i]!;
  },
  step(v, i, s, w) {
    const dt = w.dt;
    const amb = v.ambient![i]!;
    const pmax = v.maxPower![i]!;
    const r = (v.maxTemp![i]! - amb) / Math.max(pmax, 1);
    const kp = pmax / 50;
    const on = powered(w, s);
    const zones = clamp(v.zones![i]!, 1, 4);
    const tau = v.tau![i]!;
    let power = 0;
    let over = false;
    let under = false;
    const band = v.band![i]!;
    for (let z = 0; z < 4; z++) {
      const tArr = z === 0 ? v.t1! : z === 1 ? v.t2! : z === 2 ? v.t3! : v.t4!;
      const spArr = z === 0 ? v.sp1! : z === 1 ? v.sp2! : z === 2 ? v.sp3! : v.sp4!;
      const pArr = z === 0 ? v.p1! : z === 1 ? v.p2! : z === 2 ? v.p3! : v.p4!;
      const t = tArr[i]!;
      const sp = spArr[i]!;
      const p = on && z < zones ? clamp((sp - amb) / r + kp * (sp - t), 0, pmax) : 0;
      pArr[i] = p;
      tArr[i] = lag(t, amb + p * r, tau, dt);
      power += p;
      if (z < zones) {
        const dev = tArr[i]! - recipeTemp(v, i, z);
        if (dev > 2 * band) over = true;
        if (dev < -2 * band) under = true;
      }
    }
    w.st.power[s] = power;
    w.setAlarm(s, ALARM_OVERTEMP, over);
    w.setAlarm(s, ALARM_UNDERTEMP, under);
    let hottest = v.t1![i]!;
    for (let z = 1; z < zones; z++) hottest = Math.max(hottest, zoneTemp(v, i, z));
    if (hottest > v.tripTemp![i]!) w.setInterlock(s, INTERLOCK_OVERTEMP, true);
    else if (hottest < v.tripTemp![i]! - 50) w.setInterlock(s, INTERLOCK_OVERTEMP, false);

    // Parts move slowly through a long tunnel: update them every PART_PERIOD seconds, not
    // every tick, so cost does not grow with the number of parts inside.
    const every = Math.max(1, Math.round(PART_PERIOD / dt));
    if (v.partClock![i]! > 0) {
      v.partClock![i]! -= 1;
      return;
    }
    v.partClock![i] = every - 1;
    const cap = w.st.slots[s] ?? 1;
    advanceFifo(w, s, cap, v.residence![i]! / every);
    const { progress, temp, exposure, exposureLow, next } = w.parts;
    const h = dt * every;
    for (let p = w.qHead[s] ?? -1; p >= 0; p = next[p] ?? -1) {
      const pr = progress[p] ?? 0;
      if (pr >= 1) continue;
      const z = Math.min(zones - 1, Math.floor(pr * zones));
      const t = zoneTemp(v, i, z);
      const recipe = recipeTemp(v, i, z);
      temp[p] = t;
      const off = Math.abs(t - recipe) - band;
      if (off <= 0) continue;
      if (t > recipe) exposure[p] = exposure[p]! + off * h;
      else exposureLow[p] = exposureLow[p]! + off * h;
    }
    eachFinished(v, i, s, w, fired);
  },
};
