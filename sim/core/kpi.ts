/**
 * KPIs a plant manager recognises, computed from the world's accumulators (nothing here runs
 * per tick). OEE = availability × performance × quality, on the line and per station.
 */
import type { World } from './world.ts';
import type { EventData } from './events.ts';
import { lineTimes, stationTimes } from './tick.ts';

/** KPIs of one station. */
export interface StationKpis {
  id: string;
  kind: string;
  /** share of time up (not faulted, stopped, held or aborted) */
  availability: number;
  /** share of up time spent working */
  utilisation: number;
  /** share of up time starved of parts */
  starved: number;
  /** share of up time blocked by the next station */
  blocked: number;
  partsIn: number;
  partsOut: number;
  scrapped: number;
  failures: number;
  /** mean operating time between failures [h]; null before the first failure */
  mtbfH: number | null;
  /** mean time to repair [min]; null before the first repair */
  mttrMin: number | null;
  energyKWh: number;
  wear: number;
  operators: number;
}

/** KPIs of the line. */
export interface LineKpis {
  simHours: number;
  created: number;
  /** parts shipped to the customer (good and escaped defective) */
  shipped: number;
  /** shipped parts without defects */
  good: number;
  scrapped: number;
  /** shipped parts with a real defect (ground truth) */
  escaped: number;
  /** good parts scrapped by mistake (false rejects) */
  falseRejects: number;
  wip: number;
  /** mean parts in the line over the run */
  wipMean: number;
  throughputPerHour: number;
  /** good parts per 24 h at the run's rate */
  goodPerDay: number;
  availability: number;
  performance: number;
  quality: number;
  oee: number;
  /** good / (shipped + scrapped) */
  firstPassYield: number;
  scrapRate: number;
  /** escaped defects per million shipped */
  escapedPpm: number;
  energyKWh: number;
  /** energy per good part [kWh]; null before the first good part */
  energyPerGoodPartKWh: number | null;
  /** operators on the line (sum of station staffing) */
  operators: number;
  labourHours: number;
  /** good parts per labour hour; null without labour */
  goodPerLabourHour: number | null;
  /** mean time from release to shipping [s]; null before the first shipment */
  leadTimeMeanS: number | null;
  /** design rate the performance figure is measured against [parts/h] */
  designRatePerHour: number;
  stations: StationKpis[];
}

const round = (x: number, digits = 4): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

/** Computes the KPIs of the run so far. */
export function computeKpis(w: World): LineKpis {
  const c = w.counters();
  const ticks = w.tick;
  const hours = (ticks * w.dt) / 3600;
  const good = c.shipped - c.escaped;
  const total = c.shipped + c.scrapped;
  const line = lineTimes(w);
  const runTicks = ticks - line.downTicks;
  const availability = ratio(runTicks, ticks);
  const performance = Math.min(1, ratio(total, w.designRate * runTicks * w.dt));
  const quality = ratio(good, total);
  const st = w.st;
  let energy = 0;
  let operators = 0;
  const stations: StationKpis[] = [];
  for (let s = 0; s < w.size; s++) {
    const tm = stationTimes(w, s);
    const up = tm.busy + tm.starved + tm.blocked;
    const failures = st.failures[s] ?? 0;
    const kwh = (st.energy[s] ?? 0) / 3.6e6;
    energy += kwh;
    operators += st.operators[s] ?? 0;
    stations.push({
      id: w.ids[s] ?? '',
      kind: w.kindOf[s]?.kind ?? '',
      availability: round(ratio(ticks - tm.down, ticks)),
      utilisation: round(ratio(tm.busy, up)),
      starved: round(ratio(tm.starved, up)),
      blocked: round(ratio(tm.blocked, up)),
      partsIn: st.partsIn[s] ?? 0,
      partsOut: st.partsOut[s] ?? 0,
      scrapped: st.partsScrapped[s] ?? 0,
      failures,
      mtbfH: failures > 0 ? round((tm.run * w.dt) / 3600 / failures, 3) : null,
      mttrMin: failures > 0 ? round((tm.repair * w.dt) / 60 / failures, 2) : null,
      energyKWh: round(kwh, 3),
      wear: round(st.wear[s] ?? 0),
      operators: st.operators[s] ?? 0,
    });
  }
  const labourHours = line.labourSeconds / 3600;
  return {
    simHours: round(hours, 4),
    created: c.created,
    shipped: c.shipped,
    good,
    scrapped: c.scrapped,
    escaped: c.escaped,
    falseRejects: c.scrappedGood,
    wip: w.wip,
    wipMean: round(ratio(c.wipTicks, ticks), 2),
    throughputPerHour: round(ratio(c.shipped, hours), 2),
    goodPerDay: round(ratio(good, hours) * 24, 1),
    availability: round(availability),
    performance: round(performance),
    quality: round(quality),
    oee: round(availability * performance * quality),
    firstPassYield: round(quality),
    scrapRate: round(ratio(c.scrapped, total)),
    escapedPpm: Math.round(ratio(c.escaped, c.shipped) * 1e6),
    energyKWh: round(energy, 3),
    energyPerGoodPartKWh: good > 0 ? round(energy / good, 4) : null,
    operators,
    labourHours: round(labourHours, 3),
    goodPerLabourHour: labourHours > 0 ? round(good / labourHours, 3) : null,
    leadTimeMeanS: c.shipped > 0 ? round((c.leadTicks * w.dt) / c.shipped, 1) : null,
    designRatePerHour: round(w.designRate * 3600, 2),
    stations,
  };
}

/** The small KPI record logged as a periodic `kpi` event. */
export function kpiEventData(w: World): EventData {
  const k = computeKpis(w);
  return {
    simHours: k.simHours, shipped: k.shipped, good: k.good, scrapped: k.scrapped, escaped: k.escaped, wip: k.wip,
    oee: k.oee, availability: k.availability, performance: k.performance, quality: k.quality, energyKWh: k.energyKWh,
  };
}
