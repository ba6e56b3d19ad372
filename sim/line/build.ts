/**
 * LineSpec → running world: resolves machine kinds, builds the world, schedules the
 * scenario's faults and setpoint changes, and latches the line to start at tick 0.
 */
import { World, type WorldDef } from '../core/world.ts';
import { kpiEventData } from '../core/kpi.ts';
import { TwinlineError } from '../core/errors.ts';
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
    stations: spec.stations.map((st, k) => {
      const kind = machineKind(st.kind);
      if (kind === undefined) throw new TwinlineError('UNKNOWN_KIND', `unknown machine kind "${st.kind}"`, { file: spec.file, path: `stations[${k}].kind` });
      return { id: st.id, kind, params: st.params, next: st.next, reject: st.reject };
    }),
  };
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
  if (opts.paused !== true) w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: `scenario:${spec.id}` });
  return w;
}
