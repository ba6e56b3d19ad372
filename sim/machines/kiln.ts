/**
 * Tunnel / roller kiln with up to four heating zones and a cooling section. Each zone is a heat
 * balance: heat capacity C = `tau` × wall-loss conductance UA (UA from `maxPower` reaching
 * `maxTemp` in an empty, isolated zone), burner power limited to `maxPower`, wall loss, heat
 * exchanged with the neighbouring zones (`couplingShare` × UA) and heat taken up by the ware
 * inside. The burner controller is proportional with a feed-forward of the wall loss at
 * setpoint: it does not know the ware load or its neighbours, so a loaded zone droops below its
 * setpoint and a full kiln heats up more slowly than an empty one.
 *
 * Parts ride through in `residence` seconds along a firing curve (kiln-firing.ts): their
 * temperature follows the kiln atmosphere with the ware's own time constant; cooling or heating
 * too steeply through the quartz inversion cracks ware (dunting), too little heat-work
 * under-fires it, too much slumps it, firing above recipe + band bloats and splits it. So the
 * residence, the curve and the load decide quality: a kiln pushed from hours to minutes cracks
 * its ware. Heaters trip on the over-temperature interlock.
 *
 * The thermal model and the parts advance every PART_PERIOD (multirate: thermal time constants
 * are minutes), the burner power is reported every tick.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import { advanceFifo, clamp, due, eachFinished, lag, powered, ticksOf } from './flow.ts';
import { ambientField } from './fields.ts';
import { fired, fireParts, K_KEYS, P_KEYS, RECIPE_KEYS, SP_KEYS, T_KEYS, W_KEYS, zoneT } from './kiln-firing.ts';

const Z = ['1', '2', '3', '4'] as const;
const ALARM_OVERTEMP = 1;
const ALARM_UNDERTEMP = 2;
const INTERLOCK_OVERTEMP = 1;
/** how often the parts inside move on [s] */
const PART_PERIOD = 0.1;
/**
 * the zones' heat balance and the ware's temperatures are updated every this many part
 * updates (1 s): their time constants are minutes (zone `tau`, `wareTau`), and the ware's
 * follow is exact for the step whatever its length
 */
const HEAT_EVERY = 10;

const zoneFields = Object.fromEntries(
  Z.flatMap((z) => [
    [`sp${z}`, { unit: '°C', description: `zone ${z} temperature setpoint`, access: 'rw', write: 'operator', default: 1000, min: 0, max: 1800 }],
    [`recipe${z}`, { unit: '°C', description: `zone ${z} temperature the firing recipe calls for`, access: 'rw', write: 'operator', default: 1000, min: 0, max: 1800 }],
    [`t${z}`, { unit: '°C', description: `zone ${z} temperature`, access: 'r', default: 20 }],
    [`p${z}`, { unit: 'W', description: `zone ${z} heater power`, access: 'r', default: 0 }],
    [`k${z}`, { unit: 'W/K', description: `zone ${z} heat-exchange conductance of the ware inside`, access: 'r', default: 0 }],
    [`w${z}`, { unit: '°C', description: `zone ${z} mean ware temperature`, access: 'r', default: 0 }],
  ]),
) as MachineKind['fields'];

export const kiln: MachineKind = {
  kind: 'kiln',
  title: { en: 'Tunnel kiln / furnace', zh: '隧道窑 / 加热炉' },
  role: 'process',
  companion: ['Machinery', 'PackML'],
  fields: {
    zones: { unit: '', description: 'heating zones in use (1–4)', access: 'rw', default: 3, min: 1, max: 4, integer: true },
    residence: { unit: 's', description: 'time a part takes to pass through, cooling section included', access: 'rw', write: 'operator', default: 3600, min: 1, max: 172800 },
    tau: { unit: 's', description: 'thermal time constant of an empty zone (heat capacity over wall-loss conductance)', access: 'rw', default: 900, min: 1, max: 1e6 },
    maxPower: { unit: 'W', description: 'burner (heater) power limit of one zone, as heat delivered to the zone', access: 'rw', default: 150000, min: 0, max: 5e6 },
    maxTemp: { unit: '°C', description: 'temperature of an empty zone at full power in steady state (sets the wall loss)', access: 'rw', default: 1450, min: 100, max: 2000 },
    // Tunnel kilns pass heat along the tunnel by radiation and gas flow; a share of about a
    // tenth of the wall loss makes neighbours visibly pull on each other (a hot firing zone
    // keeps an unfired cooling zone warm).
    couplingShare: { unit: '', description: 'heat conductance between neighbouring zones as a share of a zone\'s wall-loss conductance', access: 'rw', default: 0.15, min: 0, max: 10 },
    pBand: { unit: '°C', interval: true, description: 'proportional band of the zone controllers (error that gives full power)', access: 'rw', default: 50, min: 1, max: 1000 },
    ambient: ambientField(),
    coolShare: { unit: '', description: 'share of the tunnel after the last zone where the ware cools to the exit', access: 'rw', default: 0.35, min: 0, max: 0.9 },
    exitTemp: { unit: '°C', description: 'kiln atmosphere at the exit (cooling air)', access: 'rw', default: 60, min: -40, max: 1000 },
    // One piece of tableware (0.3–1 kg) with its share of setters and car: 1–2 kg; fired
    // porcelain ≈ 0.8–1.1 kJ/(kg·K); ware follows the atmosphere within minutes.
    wareMass: { unit: 'kg', description: 'mass heated per part, kiln furniture share included', access: 'rw', default: 1.5, min: 0, max: 1000 },
    wareHeat: { unit: 'J/kg/K', description: 'specific heat of the ware', access: 'rw', default: 1000, min: 100, max: 5000 },
    wareTau: { unit: 's', description: 'time constant of the ware following the kiln atmosphere', access: 'rw', default: 240, min: 1, max: 1e5 },
    // Safe rates through the inversion: tens of °C/min for thin fast-fired ware.
    coolRate0: { unit: '°C/min', interval: true, description: 'cooling rate through the quartz inversion that cracks about 63 % of the ware (Weibull scale)', access: 'rw', default: 40, min: 0.1, max: 1e5 },
    heatRate0: { unit: '°C/min', interval: true, description: 'heating rate through the quartz inversion that cracks about 63 % of the ware (surface in compression: more tolerant)', access: 'rw', default: 150, min: 0.1, max: 1e5 },
    weibullModulus: { unit: '', description: 'Weibull modulus of the ware\'s strength (porcelain 5–15)', access: 'rw', default: 8, min: 1, max: 50 },
    // Fast-fire recipes soak 5–30 min at peak and keep a margin of 2–3× over what the body
    // strictly needs; the ramps either side add some heat-work of their own.
    soakTime: { unit: 's', description: 'time at the recipe peak temperature the body needs to mature (heat-work of one soak)', access: 'rw', default: 240, min: 1, max: 1e6 },
    maxMaturity: { unit: '', description: 'heat-work, in soaks, above which the ware slumps (over-fired)', access: 'rw', default: 10, min: 1, max: 1e6 },
    // Porcelain vitrification ≈ 400 kJ/mol → Ea/R ≈ 48,000 K: +25 °C near 1300 °C fires ~1.6× faster.
    activationTemp: { unit: 'K', interval: true, description: 'activation energy of vitrification over the gas constant (Ea/R)', access: 'rw', default: 48000, min: 0, max: 2e5 },
    band: { unit: '°C', interval: true, description: 'allowed deviation from the recipe before alarms and bloating start', access: 'rw', default: 25, min: 1, max: 500 },
    defectScale: { unit: '°C·s', description: 'ware exposure above recipe + band that bloats about one part in e', access: 'rw', default: 2000, min: 1, max: 1e9 },
    tripTemp: { unit: '°C', description: 'over-temperature interlock trip point', access: 'rw', write: 'safety', default: 1400, min: 100, max: 2000 },
    partClock: { unit: 'tick', description: 'ticks until the parts inside next move on', access: 'r', default: 0, integer: true },
    heatClock: { unit: '', description: 'part updates until the zones and the ware are next heated', access: 'r', default: 0, integer: true },
    preheated: { unit: '', description: '1: zones start at setpoint', access: 'rw', default: 1, min: 0, max: 1, integer: true },
    heatCapacity: { unit: 'J/K', description: 'heat capacity of one zone', access: 'r', default: 0 },
    wareLoad: { unit: 'W', description: 'heat the ware takes from the heated zones now', access: 'r', default: 0 },
    lastPeak: { unit: '°C', description: 'peak temperature of the last part fired', access: 'r', default: 0 },
    lastHeatRate: { unit: '°C/min', description: 'steepest heating through the quartz inversion of the last part fired', access: 'r', default: 0 },
    lastCoolRate: { unit: '°C/min', description: 'steepest cooling through the quartz inversion of the last part fired', access: 'r', default: 0 },
    lastMaturity: { unit: '', description: 'heat-work of the last part fired, in soaks at the recipe peak', access: 'r', default: 0 },
    ...zoneFields,
  },
  alarms: [
    { bit: 0, code: 'OVERTEMP', severity: 700, text: { en: 'Zone temperature above recipe band', zh: '区段温度高于工艺带' } },
    { bit: 1, code: 'UNDERTEMP', severity: 500, text: { en: 'Zone temperature below recipe band', zh: '区段温度低于工艺带' } },
  ],
  capacity(params) {
    return Math.max(1, params.slots ?? 1);
  },
  // A tunnel kiln is pushed car by car: the next part goes in once the last one has moved one
  // place on (residence / slots), so a full kiln fires at slots / residence and no faster.
  accepts(_v, _i, s, w) {
    const slots = w.st.slots[s] ?? 1;
    const tail = w.qTail[s] ?? -1;
    return (w.qLen[s] ?? 0) < slots && (tail < 0 || (w.parts.progress[tail] ?? 0) >= 1 / slots);
  },
  init(v, i) {
    for (let z = 0; z < 4; z++) v[T_KEYS[z]!]![i] = v.preheated![i] === 1 ? v[SP_KEYS[z]!]![i]! : v.ambient![i]!;
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
    const on = powered(w, s);
    const zones = clamp(v.zones![i]!, 1, 4);
    let power = 0;
    if (on) for (let z = 0; z < zones; z++) power += v[P_KEYS[z]!]![i]!;
    w.st.power[s] = power;
    // Parts move slowly: move them every PART_PERIOD seconds, not every tick, so cost does not
    // grow with the number of parts inside; heat them and the zones every HEAT_EVERY moves.
    const every = ticksOf(w, PART_PERIOD);
    if (!due(v.partClock!, i, every)) return;
    const heat = due(v.heatClock!, i, HEAT_EVERY);
    const h = w.dt * every * HEAT_EVERY;
    if (heat) {
      heatZones(v, i, on, zones, h);
      let over = false;
      let under = false;
      let hottest = v.t1![i]!;
      const band = v.band![i]!;
      for (let z = 0; z < zones; z++) {
        const t = zoneT(v, i, z);
        const dev = t - v[RECIPE_KEYS[z]!]![i]!;
        if (dev > 2 * band) over = true;
        if (dev < -2 * band) under = true;
        hottest = Math.max(hottest, t);
      }
      w.setAlarm(s, ALARM_OVERTEMP, over);
      w.setAlarm(s, ALARM_UNDERTEMP, under);
      if (hottest > v.tripTemp![i]!) w.setInterlock(s, INTERLOCK_OVERTEMP, true);
      else if (hottest < v.tripTemp![i]! - 50) w.setInterlock(s, INTERLOCK_OVERTEMP, false);
    }
    advanceFifo(w, s, w.st.slots[s] ?? 1, v.residence![i]! / every);
    if (heat) fireParts(v, i, s, w, zones, h);
    eachFinished(v, i, s, w, fired);
  },
};

/**
 * One step of `h` seconds of the zones' heat balance, implicit in each zone's own temperature
 * (stable for any load): C·dT/dt = P − UA·(T − ambient) − G·Σ(T − T_neighbour) − K·(T − T_ware).
 */
function heatZones(v: KindView, i: number, on: boolean, zones: number, h: number): void {
  const amb = v.ambient![i]!;
  const pmax = v.maxPower![i]!;
  // a real zone always loses some heat: at least 1 W/K keeps the balance well-posed at pmax = 0
  const ua = Math.max(1, pmax / Math.max(1, v.maxTemp![i]! - amb));
  const c = v.tau![i]! * ua;
  const g = v.couplingShare![i]! * ua;
  const kp = pmax / v.pBand![i]!;
  v.heatCapacity![i] = c;
  let load = 0;
  for (let z = 0; z < 4; z++) {
    const tArr = v[T_KEYS[z]!]!;
    const pArr = v[P_KEYS[z]!]!;
    const t = tArr[i]!;
    if (z >= zones) {
      pArr[i] = 0;
      tArr[i] = lag(t, amb, v.tau![i]!, h);
      continue;
    }
    const sp = v[SP_KEYS[z]!]![i]!;
    const p = on ? clamp(ua * (sp - amb) + kp * (sp - t), 0, pmax) : 0;
    pArr[i] = p;
    const k = v[K_KEYS[z]!]![i]!;
    const tw = v[W_KEYS[z]!]![i]!;
    let gSum = 0;
    let gT = 0;
    if (z > 0) {
      gSum += g;
      gT += g * zoneT(v, i, z - 1);
    }
    if (z < zones - 1) {
      gSum += g;
      gT += g * zoneT(v, i, z + 1);
    }
    const next = (c * t + h * (p + ua * amb + gT + k * tw)) / (c + h * (ua + gSum + k));
    tArr[i] = next;
    load += k * (next - tw);
  }
  v.wareLoad![i] = load;
}
