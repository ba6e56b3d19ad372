/**
 * Labour figures from the simulated work of the crews (see crew.ts), or from the stations'
 * `operators` parameters in a world without crews. Nothing here runs per tick.
 *
 * Definitions (crews):
 *  - worked hours: person-time spent on tasks and repairs;
 *  - present hours: person-time on shift and not on a break;
 *  - utilisation: worked / present hours;
 *  - FTE: worked hours / the hours one person of the crew was present (present hours / size):
 *    how many people the work occupied on average;
 *  - operators needed: FTE rounded up to whole people, per crew (people are not shared between
 *    crews). Meaningful when stations seldom waited for labour (`labourWaitShare`): with a crew
 *    too small the work is held back and so is the figure;
 *  - labour hours: operators needed × hours on shift (the hours they are paid for);
 *  - labour hours per good part, good parts per labour hour.
 */
import type { World } from './world.ts';
import { lineTimes } from './tick.ts';

/** Labour figures of one crew. */
export interface CrewKpis {
  id: string;
  /** people declared */
  size: number;
  skills: string[];
  /** person-hours on tasks and repairs [h] */
  workedHours: number;
  /** person-hours present (on shift, not on a break) [h] */
  presentHours: number;
  /** worked / present hours */
  utilisation: number;
  /** average number of people the work occupied */
  fte: number;
  /** FTE rounded up to whole people */
  operatorsNeeded: number;
  /** most people wanted at once (at work plus waited for) */
  peakDemand: number;
  /** station-hours spent waiting for one of this crew's people [h] */
  labourWaitHours: number;
  /** labour-wait hours per hour on shift: 0 when a person was always there when asked */
  labourWaitShare: number;
}

/** Labour figures of the line. */
export interface LabourKpis {
  /** 'crews': simulated work; 'staffing': the stations' `operators` parameters (no crews declared) */
  source: 'crews' | 'staffing';
  /** people declared: crew sizes, or the sum of `operators` */
  declared: number;
  /** people the simulated work needs (crews), or the declared staffing */
  operatorsNeeded: number;
  /** person-hours on tasks and repairs [h]; with staffing: the paid hours */
  workedHours: number;
  /** paid hours: operators needed × hours on shift [h] */
  labourHours: number;
  /** labour hours per good part [h]; null before the first good part */
  labourHoursPerGoodPart: number | null;
  /** good parts per labour hour; null without labour */
  goodPerLabourHour: number | null;
  crews: CrewKpis[];
  /** stations served by a crew: hours they waited for a person and person-hours worked there */
  stations: { id: string; labourWaitHours: number; workedHours: number }[];
}

/** The labour accumulators at one tick (to leave a warm-up out). */
export interface LabourBase {
  tick: number;
  good: number;
  labourSeconds: number;
  busy: number[];
  avail: number[];
  shift: number[];
  wait: number[];
  stationWait: number[];
  stationWork: number[];
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

function goodOf(w: World): number {
  const c = w.counters();
  return c.shipped - c.escaped;
}

/** The labour accumulators now, as a base for `labourKpis`. */
export function labourBase(w: World): LabourBase {
  const { c, s } = w.crew;
  return {
    tick: w.tick, good: goodOf(w), labourSeconds: lineTimes(w).labourSeconds,
    busy: [...c.busyTicks], avail: [...c.availTicks], shift: [...c.shiftTicks], wait: [...c.waitTicks],
    stationWait: [...s.labourWaitTicks], stationWork: [...s.workTicks],
  };
}

/** Labour figures of the run so far, or of what came after `base`. */
export function labourKpis(w: World, base: LabourBase | null = null): LabourKpis {
  const cs = w.crew;
  const dt = w.dt;
  const good = goodOf(w) - (base?.good ?? 0);
  const per = (hours: number): { labourHoursPerGoodPart: number | null; goodPerLabourHour: number | null } => ({
    labourHoursPerGoodPart: good > 0 ? round(hours / good, 5) : null,
    goodPerLabourHour: hours > 0 ? round(good / hours) : null,
  });
  if (!cs.active) {
    let ops = 0;
    for (let s = 0; s < w.size; s++) ops += w.st.operators[s]!;
    const hours = (lineTimes(w).labourSeconds - (base?.labourSeconds ?? 0)) / 3600;
    return { source: 'staffing', declared: ops, operatorsNeeded: ops, workedHours: round(hours), labourHours: round(hours), ...per(hours), crews: [], stations: [] };
  }
  const h = (ticks: number): number => (ticks * dt) / 3600;
  const crews: CrewKpis[] = cs.defs.map((d, k) => {
    const busy = cs.c.busyTicks[k]! - (base?.busy[k] ?? 0);
    const avail = cs.c.availTicks[k]! - (base?.avail[k] ?? 0);
    const shift = cs.c.shiftTicks[k]! - (base?.shift[k] ?? 0);
    const wait = cs.c.waitTicks[k]! - (base?.wait[k] ?? 0);
    const perPerson = d.size > 0 ? avail / d.size : 0;
    const fte = perPerson > 0 ? busy / perPerson : 0;
    return {
      id: d.id, size: d.size, skills: [...d.skills],
      workedHours: round(h(busy)), presentHours: round(h(avail)),
      utilisation: round(avail > 0 ? busy / avail : 0, 4),
      fte: round(fte, 3),
      // a whole number of people; the tolerance only absorbs rounding in the sums
      operatorsNeeded: Math.ceil(fte - 1e-6),
      peakDemand: cs.c.peak[k]!,
      labourWaitHours: round(h(wait)),
      labourWaitShare: round(shift > 0 ? wait / shift : 0, 4),
    };
  });
  let needed = 0;
  let declared = 0;
  let worked = 0;
  let paid = 0;
  crews.forEach((c, k) => {
    needed += c.operatorsNeeded;
    declared += c.size;
    worked += c.workedHours;
    paid += c.operatorsNeeded * h(cs.c.shiftTicks[k]! - (base?.shift[k] ?? 0));
  });
  const stations: LabourKpis['stations'] = [];
  for (let s = 0; s < w.size; s++) {
    if (cs.taskCrew[s]! < 0 && cs.repairCrew[s]! < 0) continue;
    stations.push({
      id: w.ids[s] ?? '',
      labourWaitHours: round(h(cs.s.labourWaitTicks[s]! - (base?.stationWait[s] ?? 0))),
      workedHours: round(h(cs.s.workTicks[s]! - (base?.stationWork[s] ?? 0))),
    });
  }
  return { source: 'crews', declared, operatorsNeeded: needed, workedHours: round(worked), labourHours: round(paid), ...per(paid), crews, stations };
}
