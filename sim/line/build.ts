/**
 * LineSpec → running world: resolves machine kinds, builds the world, schedules the
 * scenario's faults and setpoint changes, and latches the line to start at tick 0.
 */
import { World, type WorldDef } from '../core/world.ts';
import { kpiEventData } from '../core/kpi.ts';
import { TwinlineError } from '../core/errors.ts';
import { BREAK_HORIZON_S, breakTicks, MAX_SHIFTS } from '../core/iso22400.ts';
import { machineKind } from '../machines/index.ts';
import type { LineSpec } from './types.ts';

/** Options for building a world from a scenario. */
export interface BuildOptions {
  /** seed; default: the scenario's */
  seed?: number;
  /** do not latch the line to start (the caller will) */
  paused?: boolean;
}

/** The world definition of a scenario. */
export function worldDef(spec: LineSpec, seed = spec.seed): WorldDef {
  return {
    dt: spec.dt,
    seed,
    kpiInterval: spec.kpiInterval,
    ...(spec.designRate !== null ? { designRate: spec.designRate } : {}),
    ...(spec.shift.breaks.length > 0 ? { plannedStops: { shiftS: shiftSeconds(spec), breaks: spec.shift.breaks } } : {}),
    ...(spec.crews.length > 0 ? { crews: spec.crews } : {}),
    stations: spec.stations.map((st, k) => {
      const kind = machineKind(st.kind);
      if (kind === undefined) throw new TwinlineError('UNKNOWN_KIND', `unknown machine kind "${st.kind}"`, { file: spec.file, path: `stations[${k}].kind` });
      return { id: st.id, kind, params: st.params, next: st.next, reject: st.reject, ...(st.plannedCycleTime !== null ? { plannedCycleTime: st.plannedCycleTime } : {}) };
    }),
  };
}

/** Length of one shift [s]: the shifts of a day share its operating hours. */
export function shiftSeconds(spec: LineSpec): number {
  return (spec.shift.hoursPerDay * 3600) / spec.shift.shiftsPerDay;
}



/** Builds the world of a scenario, with its schedule and start command queued. */
export function createWorld(spec: LineSpec, opts: BuildOptions = {}): World {
  const w = new World(worldDef(spec, opts.seed ?? spec.seed));
  w.kpiSnapshot = kpiEventData;
  const toTick = (at: number): number => Math.round(at / spec.dt);
  for (const f of spec.faults) {
    w.scheduleAt(toTick(f.at), { target: f.station, command: 'fault', args: { code: f.code, duration: f.duration }, source: 'scenario', principal: `scenario:${spec.id}` });
  }
  for (const s of spec.setpoints) {
    w.scheduleAt(toTick(s.at), { target: s.station, command: 'set', args: { field: s.field, value: s.value }, source: 'scenario', principal: `scenario:${spec.id}` });
  }
  // planned breaks: the line stops at the start of each and is started again at its end
  // (as far ahead as the KPIs count them as planned downtime, see iso22400.ts)
  const stops = w.plannedStops;
  for (let n = 0; stops !== null && n < MAX_SHIFTS && n * stops.shiftS < BREAK_HORIZON_S; n++) {
    for (const b of stops.breaks) {
      const [from, to] = breakTicks(stops, b, n, spec.dt);
      const principal = `scenario:${spec.id}`;
      w.scheduleAt(from, { target: 'line', command: 'stop', args: { reason: 'planned break' }, source: 'scenario', principal });
      w.scheduleAt(to, { target: 'line', command: 'start', args: { reason: 'planned break over' }, source: 'scenario', principal });
    }
  }
  if (opts.paused !== true) w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: `scenario:${spec.id}` });
  return w;
}
