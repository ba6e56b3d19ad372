/**
 * KPIs a plant manager recognises, computed from the world's accumulators (nothing here runs
 * per tick), per work unit (station) and for the line, after ISO 22400-2: availability over
 * planned busy time with planned downtime separate, effectiveness (performance) against the
 * planned run time per item declared in the scenario, quality ratio, OEE = A × P × Q, and
 * first-pass yield, throughput, energy per good part, MTBF/MTTR. Definitions: iso22400.ts.
 *
 * The line is measured at its planned bottleneck (the station with the longest planned cycle,
 * `plannedBottleneck`): the line produces only while that station does, so line APT is the
 * bottleneck's APT, and line availability is the bottleneck's. (A stop elsewhere costs the
 * line output only once it starves or blocks the bottleneck, and then it shows there.) Line
 * effectiveness = line PRI × parts out of the line / bottleneck APT, so line OEE = line PRI ×
 * good parts / PBT whichever station is the bottleneck.
 */
import type { World } from './world.ts';
import type { EventData } from './events.ts';
import { lineTimes, stationTimes } from './tick.ts';
import { availability as isoAvailability, effectiveness, oeeIndex, plannedBottleneck, plannedDowntimeTicks, qualityRatio } from './iso22400.ts';
import { labourBase, labourKpis, type LabourBase, type LabourKpis } from './crew.ts';

/** KPIs of one station. */
export interface StationKpis {
  id: string;
  kind: string;
  /** ISO 22400-2 availability = APT / PBT: share of planned busy time spent working on parts (waiting and down time are losses) */
  availability: number;
  /** share of planned busy time not down (faulted, stopped, held or aborted); down time in planned breaks is left out */
  uptime: number;
  /**
   * ISO 22400-2 effectiveness = PRI × PQ / APT, not clamped; null without a planned cycle
   * (sources, sinks). A station holding several parts at once (kiln, cooling line) works
   * whenever it holds any, so for it this is also how full it was kept.
   */
  performance: number | null;
  /** ISO 22400-2 quality ratio at this unit = parts passed on / (passed on + scrapped here) */
  quality: number;
  /** A × P × Q of this unit; null without a planned cycle */
  oee: number | null;
  /** planned run time per item (PRI) [s]: declared, or the machine's ideal cycle at start; null: none */
  plannedCycleTimeS: number | null;
  /** APT: time working on parts [h] */
  actualProductionHours: number;
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
  /** ISO 22400-2 MTBF: mean operating time between failures [h]; null before the first failure */
  mtbfH: number | null;
  /** ISO 22400-2 MTTR: mean time to repair [min]; null before the first repair */
  mttrMin: number | null;
  energyKWh: number;
  wear: number;
  operators: number;
}

/** KPIs of the line. */
export interface LineKpis {
  /** hours the figures cover: the run, or the run after its warm-up */
  simHours: number;
  /** simulated hours left out at the start (the warm-up); 0 when the figures cover the whole run */
  fromHours: number;
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
  /** parts shipped per hour of the period [1/h] */
  throughputPerHour: number;
  /** good parts per 24 h at the run's rate */
  goodPerDay: number;
  /** PBT: planned busy time = period − planned downtime [h] */
  plannedBusyHours: number;
  /** PDOT: planned downtime (declared breaks) within the period [h] */
  plannedDowntimeHours: number;
  /** APT of the line: the bottleneck's time working on parts [h] */
  actualProductionHours: number;
  /** the planned bottleneck the line is measured at (longest planned cycle); null: none, the line is down whenever any station is */
  bottleneck: string | null;
  /** ISO 22400-2 availability of the line = bottleneck APT / PBT */
  availability: number;
  /** ISO 22400-2 effectiveness of the line = line PRI × (shipped + scrapped) / APT; not clamped (above 1: faster than planned) */
  performance: number;
  /** ISO 22400-2 quality ratio = good / (shipped + scrapped); good is ground truth (shipped without a real defect) */
  quality: number;
  /** A × P × Q = line PRI × good / PBT */
  oee: number;
  /**
   * good first time / (shipped + scrapped). A part reworked and then good would count as good
   * for the quality ratio but not here; the built-in kinds have no rework route (a part is
   * passed on, or rejected and scrapped), so every good part is good first time and this
   * equals the quality ratio until a kind reworks parts.
   */
  firstPassYield: number;
  scrapRate: number;
  /** escaped defects per million shipped: ground truth, which the twin knows and a real plant would not */
  escapedPpm: number;
  /** breakdowns on any station */
  failures: number;
  /** planned busy time per breakdown anywhere on the line [h]; null before the first */
  mtbfH: number | null;
  /** mean time to repair over all breakdowns [min]; null before the first */
  mttrMin: number | null;
  energyKWh: number;
  /** energy per good part [kWh]; null before the first good part */
  energyPerGoodPartKWh: number | null;
  /** operators the simulated work needs (crews; see crew-kpi.ts), or the stations' declared staffing without crews */
  operators: number;
  /** paid labour hours [h] (`labour.labourHours`) */
  labourHours: number;
  /** good parts per labour hour; null without labour */
  goodPerLabourHour: number | null;
  /** labour figures from the crews' simulated work (crew-kpi.ts) */
  labour: LabourKpis;
  /** mean time from release to shipping [s]; null before the first shipment */
  leadTimeMeanS: number | null;
  /** planned rate of the line the performance figure is measured against [parts/h] (= 3600 / line PRI) */
  designRatePerHour: number;
  /** whether that rate is declared in the scenario (designRate or the bottleneck's plannedCycleTime), so a before and an after variant can share it */
  designRateDeclared: boolean;
  stations: StationKpis[];
}

const round = (x: number, digits = 4): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

type Counters = ReturnType<World['counters']>;
type Times = ReturnType<typeof stationTimes>;

/**
 * The accumulators at one tick, so that KPIs can cover only what came after it: a run's
 * warm-up (the line filling with parts) is left out of figures meant for the steady state.
 */
export interface KpiBase {
  tick: number;
  counters: Counters;
  line: ReturnType<typeof lineTimes>;
  stations: { times: Times; failures: number; partsIn: number; partsOut: number; scrapped: number; energy: number }[];
  labour?: LabourBase;
}

/** The accumulators now, as a base for `computeKpis`. */
export function kpiBase(w: World): KpiBase {
  const st = w.st;
  const stations: KpiBase['stations'] = [];
  for (let s = 0; s < w.size; s++) {
    stations.push({ times: stationTimes(w, s), failures: st.failures[s] ?? 0, partsIn: st.partsIn[s] ?? 0, partsOut: st.partsOut[s] ?? 0, scrapped: st.partsScrapped[s] ?? 0, energy: st.energy[s] ?? 0 });
  }
  return { tick: w.tick, counters: w.counters(), line: lineTimes(w), stations, labour: labourBase(w) };
}

const ZERO_TIMES: Times = { busy: 0, starved: 0, blocked: 0, down: 0, run: 0, repair: 0 };

/** Computes the KPIs of the run so far, or of what came after `base` (a warm-up). */
export function computeKpis(w: World, base: KpiBase | null = null): LineKpis {
  const now = w.counters();
  const b0 = base?.counters;
  const c = b0 === undefined ? now : {
    created: now.created - b0.created, shipped: now.shipped - b0.shipped, escaped: now.escaped - b0.escaped, scrapped: now.scrapped - b0.scrapped,
    scrappedGood: now.scrappedGood - b0.scrappedGood, leadTicks: now.leadTicks - b0.leadTicks, wipTicks: now.wipTicks - b0.wipTicks,
  };
  const from = base?.tick ?? 0;
  const ticks = w.tick - from;
  const dt = w.dt;
  const hours = (ticks * dt) / 3600;
  const good = c.shipped - c.escaped;
  const total = c.shipped + c.scrapped;
  const lineNow = lineTimes(w);
  const line = base === null ? lineNow : { downTicks: lineNow.downTicks - base.line.downTicks, labourSeconds: lineNow.labourSeconds - base.line.labourSeconds };
  const pdot = plannedDowntimeTicks(w.plannedStops, dt, from, w.tick);
  const pbt = ticks - pdot;
  const st = w.st;
  const bn = plannedBottleneck(w);
  let energy = 0;
  let operators = 0;
  let failuresAll = 0;
  let repairAll = 0;
  let lineApt = Math.max(0, pbt - Math.max(0, line.downTicks - pdot));
  const stations: StationKpis[] = [];
  for (let s = 0; s < w.size; s++) {
    const b = base?.stations[s];
    const t1 = stationTimes(w, s);
    const t0 = b?.times ?? ZERO_TIMES;
    const tm = { busy: t1.busy - t0.busy, starved: t1.starved - t0.starved, blocked: t1.blocked - t0.blocked, down: t1.down - t0.down, run: t1.run - t0.run, repair: t1.repair - t0.repair };
    const up = tm.busy + tm.starved + tm.blocked;
    const failures = (st.failures[s] ?? 0) - (b?.failures ?? 0);
    const kwh = ((st.energy[s] ?? 0) - (b?.energy ?? 0)) / 3.6e6;
    energy += kwh;
    operators += st.operators[s] ?? 0;
    failuresAll += failures;
    repairAll += tm.repair;
    const partsOut = (st.partsOut[s] ?? 0) - (b?.partsOut ?? 0);
    const scrapped = (st.partsScrapped[s] ?? 0) - (b?.scrapped ?? 0);
    const pri = w.plannedCycleTime[s] ?? NaN;
    // the line stops in a planned break, so every station is down through it: that is not a loss
    const unplannedDown = Math.max(0, tm.down - pdot);
    const a = isoAvailability(tm.busy, pbt);
    const p = effectiveness(pri, partsOut + scrapped, tm.busy * dt);
    const q = qualityRatio(partsOut, partsOut + scrapped);
    const oee = oeeIndex(a, p, q);
    if (s === bn) lineApt = tm.busy;
    stations.push({
      id: w.ids[s] ?? '',
      kind: w.kindOf[s]?.kind ?? '',
      availability: round(a),
      uptime: round(ratio(pbt - unplannedDown, pbt)),
      performance: p === null ? null : round(p),
      quality: round(q),
      oee: oee === null ? null : round(oee),
      plannedCycleTimeS: pri > 0 ? round(pri, 3) : null,
      actualProductionHours: round((tm.busy * dt) / 3600),
      utilisation: round(ratio(tm.busy, up)),
      starved: round(ratio(tm.starved, up)),
      blocked: round(ratio(tm.blocked, up)),
      partsIn: (st.partsIn[s] ?? 0) - (b?.partsIn ?? 0),
      partsOut,
      scrapped,
      failures,
      mtbfH: failures > 0 ? round((tm.run * dt) / 3600 / failures, 3) : null,
      mttrMin: failures > 0 ? round((tm.repair * dt) / 60 / failures, 2) : null,
      energyKWh: round(kwh, 3),
      wear: round(st.wear[s] ?? 0),
      operators: st.operators[s] ?? 0,
    });
  }
  const linePri = w.designRate > 0 ? 1 / w.designRate : NaN;
  const availability = isoAvailability(lineApt, pbt);
  const performance = effectiveness(linePri, total, lineApt * dt) ?? 0;
  const quality = qualityRatio(good, total);
  const labour = labourKpis(w, base?.labour ?? null);
  return {
    simHours: round(hours, 4),
    fromHours: round((from * dt) / 3600, 4),
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
    plannedBusyHours: round((pbt * dt) / 3600),
    plannedDowntimeHours: round((pdot * dt) / 3600),
    actualProductionHours: round((lineApt * dt) / 3600),
    bottleneck: bn >= 0 ? (w.ids[bn] ?? null) : null,
    availability: round(availability),
    performance: round(performance),
    quality: round(quality),
    oee: round(availability * performance * quality),
    firstPassYield: round(qualityRatio(good, total)),
    scrapRate: round(ratio(c.scrapped, total)),
    escapedPpm: Math.round(ratio(c.escaped, c.shipped) * 1e6),
    failures: failuresAll,
    mtbfH: failuresAll > 0 ? round((pbt * dt) / 3600 / failuresAll, 3) : null,
    mttrMin: failuresAll > 0 ? round((repairAll * dt) / 60 / failuresAll, 2) : null,
    energyKWh: round(energy, 3),
    energyPerGoodPartKWh: good > 0 ? round(energy / good, 4) : null,
    operators: labour.source === 'crews' ? labour.operatorsNeeded : operators,
    labourHours: labour.labourHours,
    goodPerLabourHour: labour.goodPerLabourHour,
    labour,
    leadTimeMeanS: c.shipped > 0 ? round((c.leadTicks * dt) / c.shipped, 1) : null,
    designRatePerHour: round(w.designRate * 3600, 2),
    designRateDeclared: w.designRateDeclared,
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

/** Kinds that move, hold, start or end the flow of parts: not process steps (no bottleneck, no key process). */
export const FLOW_KINDS: ReadonlySet<string> = new Set(['source', 'sink', 'conveyor', 'buffer']);

/**
 * The bottleneck as measured: the process station with the highest load, the share of planned
 * busy time it would need at its planned cycle for the parts it handled (availability ×
 * effectiveness = PRI × (passed on + scrapped) / PBT). A station whose load is near 1 was
 * working (or down) whenever the line let it and set the pace; stations upstream of it block
 * and downstream of it starve. A station holding several parts at once (kiln, quench) is
 * measured the same way, by its planned cycle, so it is not taken for the bottleneck merely
 * because it always holds a part. Null: no process station with a planned cycle handled a part.
 */
export function measuredBottleneck(stations: readonly Pick<StationKpis, 'id' | 'kind' | 'availability' | 'performance'>[]): { id: string; load: number } | null {
  let best: { id: string; load: number } | null = null;
  for (const s of stations) {
    if (FLOW_KINDS.has(s.kind) || s.performance === null) continue;
    const load = s.availability * s.performance;
    if (load > 0 && (best === null || load > best.load)) best = { id: s.id, load: round(load) };
  }
  return best;
}
