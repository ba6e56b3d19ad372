/** Small lines built directly from machine kinds, for core tests. */
import { World, type StationDef } from '../../sim/core/world.ts';
import { machineKind } from '../../sim/machines/index.ts';
import { kpiEventData } from '../../sim/core/kpi.ts';
import type { MachineKind } from '../../sim/core/types.ts';

/** The kind with id `id`; throws if it is not registered. */
export function kind(id: string): MachineKind {
  const k = machineKind(id);
  if (k === undefined) throw new Error(`kind ${id} not registered`);
  return k;
}

/** source → conveyor → press → conveyor → kiln → sink, with short cycles so tests run fast. */
export function smallLine(seed = 1, overrides: Partial<Record<string, Record<string, number>>> = {}): World {
  const st = (id: string, k: string, next: string | null, params: Record<string, number> = {}): StationDef => ({
    id, kind: kind(k), params: { ...params, ...(overrides[id] ?? {}) }, next, reject: null,
  });
  const w = new World({
    dt: 0.001,
    seed,
    kpiInterval: 60,
    stations: [
      st('src', 'source', 'c1', { rate: 720, slots: 2 }),
      st('c1', 'conveyor', 'press', { length: 2, speed: 0.5, mtbf: 1800, mttr: 30 }),
      st('press', 'press', 'c2', { cycleTime: 4, mtbf: 1200, mttr: 60 }),
      st('c2', 'conveyor', 'kiln', { length: 2, speed: 0.5 }),
      st('kiln', 'kiln', 'out', { slots: 40, residence: 120, tau: 60 }),
      st('out', 'sink', null),
    ],
  });
  w.kpiSnapshot = kpiEventData;
  w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'test' });
  return w;
}

/** Runs `seconds` of simulated time. */
export function runFor(w: World, seconds: number): void {
  w.step(Math.round(seconds / w.dt));
}
