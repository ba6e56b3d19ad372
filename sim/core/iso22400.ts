/**
 * The time model and formulas of ISO 22400-2 (KPIs for manufacturing operations management),
 * as the KPI module applies them to a work unit (a station) and to the line. Pure functions:
 * no state, nothing here runs per tick.
 *
 * Time model of a work unit over the period measured (ISO 22400-2 §5.3):
 *  - POT, planned operation time: the whole simulated period (the run is all operating time;
 *    the hours a plant does not work are not simulated);
 *  - PDOT, planned downtime: the declared breaks (`shift.breaks`) within the period;
 *  - PBT, planned busy time = POT − PDOT;
 *  - APT, actual production time: time the unit works on parts (busy). Waiting for parts or
 *    for room downstream (ISO "actual unit delay time") and being down ("actual unit down
 *    time") are not production time, so both lower availability;
 *  - PRI, planned run time per item: the planned cycle time declared in the scenario
 *    (`plannedCycleTime` per station, `designRate` for the line).
 */
import type { StationDef, World, WorldDef } from './world.ts';
import type { KindView } from './types.ts';

/** Planned breaks of every shift; shifts follow each other from tick 0. */
export interface PlannedStops {
  /** length of one shift [s] */
  shiftS: number;
  /** breaks, from the start of each shift [s] */
  breaks: readonly { after: number; duration: number }[];
}

/** Breaks are scheduled (and counted) this far ahead [s]: the longest run `twinline run` accepts, twice (for a warm-up). */
export const BREAK_HORIZON_S = 2 * 8784 * 3600;
/** …and never for more than this many shifts (very short shifts). */
export const MAX_SHIFTS = 50_000;

/** Start and end tick of break `b` of shift `n`: the same rounding the scheduler uses. */
export function breakTicks(stops: PlannedStops, b: { after: number; duration: number }, n: number, dt: number): [number, number] {
  const start = n * stops.shiftS + b.after;
  return [Math.round(start / dt), Math.round((start + b.duration) / dt)];
}

/** PDOT: ticks of planned downtime within [from, to). */
export function plannedDowntimeTicks(stops: PlannedStops | null, dt: number, from: number, to: number): number {
  if (stops === null || to <= from) return 0;
  const shiftTicks = stops.shiftS / dt;
  const first = Math.max(0, Math.floor(from / shiftTicks) - 1);
  const last = Math.min(MAX_SHIFTS - 1, Math.floor((BREAK_HORIZON_S - 1) / stops.shiftS), Math.ceil(to / shiftTicks));
  let sum = 0;
  for (let n = first; n <= last; n++) {
    for (const b of stops.breaks) {
      const [s, e] = breakTicks(stops, b, n, dt);
      sum += Math.max(0, Math.min(e, to) - Math.max(s, from));
    }
  }
  return sum;
}

/**
 * PRI of every station and of the line. A station's PRI is the declared `plannedCycleTime`,
 * else 1 / the kind's ideal rate with its parameters at start (sources and sinks have none).
 * The line's planned rate is the declared `designRate`, else that of the station with the
 * longest PRI (the planned bottleneck). `declared` says whether the line's rate came from the
 * scenario rather than from machine parameters: only a declared rate is the same for a
 * before and an after variant whose machines differ.
 */
export function plannedCycleTimes(w: World, def: WorldDef): { perStation: Float64Array; lineRate: number; declared: boolean } {
  const n = def.stations.length;
  const out = new Float64Array(n).fill(NaN);
  let longest = NaN;
  let declared = false;
  def.stations.forEach((d: StationDef, s) => {
    const k = d.kind;
    if (d.plannedCycleTime !== undefined) out[s] = d.plannedCycleTime;
    else if (k.role === 'process' && k.idealRate !== undefined) {
      const rate = k.idealRate(w.viewOf[s] as KindView, w.inst[s] ?? 0, s, w);
      if (rate > 0 && Number.isFinite(rate)) out[s] = 1 / rate;
    }
    const pri = out[s] ?? NaN;
    if (k.role === 'process' && pri > 0 && !(pri <= longest)) {
      longest = pri;
      declared = d.plannedCycleTime !== undefined;
    }
  });
  return { perStation: out, lineRate: longest > 0 ? 1 / longest : 1, declared };
}

/**
 * The planned bottleneck: the process station with the longest planned run time per item
 * (the first of equals), or -1. Line availability is its availability (see `lineTimeModel`).
 */
export function plannedBottleneck(w: World): number {
  let best = -1;
  let longest = 0;
  for (let s = 0; s < w.size; s++) {
    const pri = w.plannedCycleTime[s] ?? NaN;
    if (w.roleCode[s] === 1 && pri > longest) {
      longest = pri;
      best = s;
    }
  }
  return best;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

/** ISO 22400-2 availability = APT / PBT. */
export function availability(aptS: number, pbtS: number): number {
  return ratio(aptS, pbtS);
}

/**
 * ISO 22400-2 effectiveness (the OEE performance factor) = PRI × PQ / APT: planned run time
 * of what was produced over the time spent producing it. Not clamped: a unit faster than its
 * plan reports more than 1, which says the plan understates it. Null without a PRI.
 */
export function effectiveness(priS: number, producedQty: number, aptS: number): number | null {
  if (!(priS > 0)) return null;
  return ratio(priS * producedQty, aptS);
}

/** ISO 22400-2 quality ratio = GQ / PQ: good quantity over produced quantity. */
export function qualityRatio(good: number, produced: number): number {
  return ratio(good, produced);
}

/**
 * ISO 22400-2 OEE index = availability × effectiveness × quality ratio, which equals
 * PRI × GQ / PBT: the planned time of the good parts over the planned busy time.
 */
export function oeeIndex(a: number, p: number | null, q: number): number | null {
  return p === null ? null : a * p * q;
}
