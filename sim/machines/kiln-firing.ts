/**
 * The firing curve of the ware in a tunnel / roller kiln: where along the tunnel a part is, the
 * kiln atmosphere it sees there, how its own temperature follows, and what the curve does to it
 * (dunting through the quartz inversion, under- and over-firing by heat-work, bloating).
 *
 * Orders of magnitude (fast-fire roller kilns for tableware and tiles, e.g. Ceramic Industry
 * and Sacmi / SITI kiln data, Rhodes "Kilns"; Ryan & Radford "Whitewares"):
 *  - cold-to-cold cycles of 40–60 min for single-layer tiles, 2–8 h for tableware;
 *  - quartz α↔β inversion at 573 °C with about 2 % volume change: heating and above all
 *    cooling through it is where ware dunts (cracks); safe cooling rates there are tens of
 *    °C/min for thin ware and a few °C/min for thick or stacked ware;
 *  - porcelain strength scatter follows Weibull statistics with a modulus of about 5–15;
 *  - vitrification is thermally activated, apparent activation energy ≈ 300–500 kJ/mol, so
 *    heat-work (time at temperature, as pyrometric cones measure it) decides maturity.
 */
import type { KindView } from '../core/types.ts';
import type { World } from '../core/world.ts';
import { chance } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { clamp, poissonAny, type FinishHook } from './flow.ts';

/** Quartz α↔β inversion [°C]. */
export const QUARTZ_INVERSION = 573;
/** Half-width of the window around the inversion where heating and cooling rates count [°C]. */
export const INVERSION_WINDOW = 50;
/**
 * Steepness of the under-/over-firing probability in heat-work (log-logistic exponent): the
 * ware-to-ware scatter of heat-work (place on the car, thickness, glaze) is about ±20 %, which
 * takes the defect share from ~1/2 at the limit to ~1 % at twice (or half) the limit.
 */
const MATURITY_STEEPNESS = 6;
/** Half-width of the temperature ramp between two zones, in zone lengths. */
const RAMP = 0.25;
/** Below the recipe peak by this much, heat-work is negligible (< 1e-3 of the peak's rate) [°C]. */
const HEATWORK_FLOOR = 400;

export const T_KEYS = ['t1', 't2', 't3', 't4'] as const;
export const SP_KEYS = ['sp1', 'sp2', 'sp3', 'sp4'] as const;
export const RECIPE_KEYS = ['recipe1', 'recipe2', 'recipe3', 'recipe4'] as const;
export const P_KEYS = ['p1', 'p2', 'p3', 'p4'] as const;
/** ware heat-exchange conductance of each zone [W/K] */
export const K_KEYS = ['k1', 'k2', 'k3', 'k4'] as const;
/** mean ware temperature in each zone [°C] */
export const W_KEYS = ['w1', 'w2', 'w3', 'w4'] as const;

/** Zone temperature `z` (0-based) of instance `i`. */
export function zoneT(v: KindView, i: number, z: number): number {
  return v[T_KEYS[z] ?? 't1']![i]!;
}

/**
 * The tunnel of one kiln instance as an update sees it: the zones' temperatures and the
 * atmosphere's shape, read once per update rather than once per part.
 */
interface Tunnel {
  zones: number;
  /** share of the length that is heated (the rest cools) */
  heated: number;
  ambient: number;
  exit: number;
  /** zone temperatures [°C], zone `z` at `t[z]` */
  t: Float64Array;
}

const tunnel: Tunnel = { zones: 1, heated: 1, ambient: 0, exit: 0, t: new Float64Array(4) };

/** Reads instance `i`'s tunnel into `tunnel` (one shared record: updates do not nest). */
function readTunnel(v: KindView, i: number, zones: number): Tunnel {
  tunnel.zones = zones;
  tunnel.heated = 1 - v.coolShare![i]!;
  tunnel.ambient = v.ambient![i]!;
  tunnel.exit = v.exitTemp![i]!;
  for (let z = 0; z < 4; z++) tunnel.t[z] = zoneT(v, i, z);
  return tunnel;
}

/** Kiln atmosphere [°C] at position `x` (0 = entry, 1 = exit) of the tunnel. */
function gasAt(tn: Tunnel, x: number): number {
  const { heated, zones, t } = tn;
  if (x >= heated) {
    const last = t[zones - 1]!;
    const f = heated >= 1 ? 1 : (x - heated) / (1 - heated);
    return last + (tn.exit - last) * f;
  }
  // each zone holds its temperature over its length, with ramps of RAMP zone lengths either
  // side of a boundary; the ware comes in cold over the first half of zone 1 (preheat)
  const u = (x / heated) * zones;
  if (u < 0.5) {
    const amb = tn.ambient;
    return amb + (t[0]! - amb) * u * 2;
  }
  const k = Math.round(u);
  const d = u - k;
  if (k <= 0 || k >= zones || d <= -RAMP || d >= RAMP) return t[Math.min(zones - 1, Math.floor(u))]!;
  const a = t[k - 1]!;
  return a + (t[k]! - a) * (d + RAMP) / (2 * RAMP);
}

/** Heated zone (0-based) at position `x`, or -1 in the cooling section. */
function zoneAt(tn: Tunnel, x: number): number {
  return x >= tn.heated ? -1 : Math.min(tn.zones - 1, Math.floor((x / tn.heated) * tn.zones));
}

/** Highest recipe temperature of the zones in use [°C]: the peak the ware should mature at. */
export function recipePeak(v: KindView, i: number, zones: number): number {
  let peak = v.recipe1![i]!;
  for (let z = 1; z < zones; z++) peak = Math.max(peak, v[RECIPE_KEYS[z] ?? 'recipe1']![i]!);
  return peak;
}

/** Scratch sums of fireParts, per zone. */
const conductance = new Float64Array(4);
const weighted = new Float64Array(4);

/**
 * Moves every part of station `s` along its firing curve by `h` seconds: its temperature
 * follows the atmosphere with the ware's time constant; it records the steepest heating and
 * cooling through the quartz inversion, its peak, heat-work (in `exposureLow`, in units of the
 * recipe's soak) and bloating exposure above the recipe peak + band (in `exposure`, °C·s). Adds each
 * part's heat exchange to its zone's `k`/`w` (conductance and mean ware temperature).
 */
export function fireParts(v: KindView, i: number, s: number, w: World, zones: number, h: number): void {
  const { progress, temp, exposure, exposureLow, peakTemp, heatRate, coolRate, next } = w.parts;
  const tau = v.wareTau![i]!;
  const follow = 1 - Math.exp(-h / tau);
  const kPart = (v.wareMass![i]! * v.wareHeat![i]!) / tau;
  const peakK = recipePeak(v, i, zones) + 273.15;
  const act = v.activationTemp![i]!;
  const perSoak = h / v.soakTime![i]!;
  const band = v.band![i]!;
  const lo = QUARTZ_INVERSION - INVERSION_WINDOW;
  const hi = QUARTZ_INVERSION + INVERSION_WINDOW;
  const tn = readTunnel(v, i, zones);
  // each zone's conductance and conductance-weighted ware temperature, summed part by part
  const k = conductance.fill(0);
  const kt = weighted.fill(0);
  for (let p = w.qHead[s] ?? -1; p >= 0; p = next[p] ?? -1) {
    const x = progress[p] ?? 0;
    if (x >= 1) continue;
    const t0 = temp[p]!;
    const t1 = t0 + (gasAt(tn, x) - t0) * follow;
    temp[p] = t1;
    if (t1 > peakTemp[p]!) peakTemp[p] = t1;
    if (Math.min(t0, t1) <= hi && Math.max(t0, t1) >= lo) {
      const rate = (t1 - t0) / h;
      if (rate > heatRate[p]!) heatRate[p] = rate;
      if (-rate > coolRate[p]!) coolRate[p] = -rate;
    }
    if (t1 > peakK - 273.15 - HEATWORK_FLOOR) exposureLow[p] = exposureLow[p]! + perSoak * Math.exp(act * (1 / peakK - 1 / (t1 + 273.15)));
    const off = t1 - peakK + 273.15 - band;
    if (off > 0) exposure[p] = exposure[p]! + off * h;
    const z = zoneAt(tn, x);
    if (z < 0) continue;
    k[z] = k[z]! + kPart;
    kt[z] = kt[z]! + kPart * t1;
  }
  for (let z = 0; z < 4; z++) {
    v[K_KEYS[z]!]![i] = k[z]!;
    v[W_KEYS[z]!]![i] = k[z]! > 0 ? kt[z]! / k[z]! : 0;
  }
}

/** Weibull failure probability at load ratio `r` (load / characteristic load) and modulus `m`. */
export function weibull(r: number, m: number): number {
  return r <= 0 ? 0 : 1 - Math.exp(-Math.pow(r, m));
}

/**
 * End of firing, once per part. Dunting: the steepest heating and cooling through the quartz
 * inversion (in the kiln or, for ware that leaves it hot, in the open) against the ware's
 * characteristic rates (Weibull). Heat-work below one soak
 * under-fires (immature glaze, porous body), above `maxMaturity` soaks the ware slumps; time
 * above recipe + band bloats and splits it.
 */
export const fired: FinishHook = (v, i, _s, w, p) => {
  const P = w.parts;
  // Ware pulled out above the inversion cools through it in the open air at about
  // (573 °C − ambient) / wareTau: a kiln cut too short hands out hot ware that dunts.
  if (P.temp[p]! > QUARTZ_INVERSION - INVERSION_WINDOW) {
    const open = (QUARTZ_INVERSION - v.ambient![i]!) / v.wareTau![i]!;
    if (open > P.coolRate[p]!) P.coolRate[p] = open;
  }
  const m = v.weibullModulus![i]!;
  const cool = P.coolRate[p]! * 60;
  const heat = P.heatRate[p]! * 60;
  const dunt = 1 - (1 - weibull(cool / v.coolRate0![i]!, m)) * (1 - weibull(heat / v.heatRate0![i]!, m));
  if (chance(w.rng, dunt)) P.defects[p]! |= Defect.crack;
  const mat = P.exposureLow[p]!;
  if (chance(w.rng, 1 / (1 + Math.pow(mat, MATURITY_STEEPNESS)))) P.defects[p]! |= Defect.glaze | Defect.porosity;
  if (chance(w.rng, mat <= 0 ? 0 : 1 / (1 + Math.pow(v.maxMaturity![i]! / mat, MATURITY_STEEPNESS)))) P.defects[p]! |= Defect.shape;
  const hot = P.exposure[p]!;
  if (hot > 0 && chance(w.rng, poissonAny(hot / v.defectScale![i]!))) P.defects[p]! |= Defect.crack;
  v.lastPeak![i] = P.peakTemp[p]!;
  v.lastCoolRate![i] = cool;
  v.lastHeatRate![i] = heat;
  v.lastMaturity![i] = clamp(mat, 0, 1e9);
};
