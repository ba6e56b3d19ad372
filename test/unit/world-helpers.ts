/** Small lines built directly from machine kinds, for core tests. */
import { World, type StationDef } from '../../sim/core/world.ts';
import { machineKind } from '../../sim/machines/index.ts';
import { kpiEventData } from '../../sim/core/kpi.ts';
import type { MachineKind } from '../../sim/core/types.ts';
import type { CrewDef } from '../../sim/core/crew.ts';
import type { SimEvent } from '../../sim/core/events.ts';

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
      // a 2-minute kiln fires only light test pieces that follow it at once, shrug off thermal
      // shock and mature in seconds (1,200 pieces/h of 1.5 kg would need ~0.5 MW)
      st('kiln', 'kiln', 'out', { slots: 40, residence: 120, tau: 60, wareMass: 0.1, wareTau: 5, coolRate0: 2e4, heatRate0: 2e4, soakTime: 15 }),
      st('out', 'sink', null),
    ],
  });
  w.kpiSnapshot = kpiEventData;
  w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'test' });
  return w;
}

/** One station of `straightLine`: its kind, parameters and, for an inspection, where rejects go. */
export interface LineStep { id: string; kind: string; params?: Record<string, number>; reject?: string }

/**
 * A straight line of `steps` ending in `out` (shipping) and `bin` (scrap bin for rejects),
 * started; breakdowns off (MTBF 10⁹ s) unless a step sets its own: for process physics tests.
 */
export function straightLine(steps: readonly LineStep[], dt: number, seed = 1): World {
  const all: LineStep[] = [...steps, { id: 'out', kind: 'sink' }, { id: 'bin', kind: 'sink', params: { scrapBin: 1 } }];
  const stations: StationDef[] = all.map((st, k) => ({
    id: st.id, kind: kind(st.kind), params: { mtbf: 1e9, ...(st.params ?? {}) }, next: st.kind === 'sink' ? null : (all[k + 1]?.id ?? null), reject: st.reject ?? null,
  }));
  const w = new World({ dt, seed, stations });
  w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'test' });
  return w;
}

/** Events `w` logged since the last drain. */
export function drained(w: World): SimEvent[] {
  const out: SimEvent[] = [];
  w.drainEvents((e) => out.push(e));
  return out;
}

/** Runs `seconds` of simulated time. */
export function runFor(w: World, seconds: number): void {
  w.step(Math.round(seconds / w.dt));
}

/** source (fast) → manual station `hand` (20 s per part per person) → sink at a 10 ms tick, its work done by `crews`; started. */
export function handling(crews: readonly CrewDef[], params: Record<string, number> = {}): World {
  const st = (id: string, k: string, p: Record<string, number>, next: string | null): StationDef => ({ id, kind: kind(k), params: p, next, reject: null });
  const w = new World({
    dt: 0.01,
    seed: 3,
    stations: [
      st('src', 'source', { rate: 3600, jitter: 0, slots: 4, mtbf: 0 }, 'hand'),
      st('hand', 'manual-station', { secondsPerPart: 20, errorRate: 0, mtbf: 1e9, ...params }, 'out'),
      st('out', 'sink', {}, null),
    ],
    crews,
  });
  w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'test' });
  return w;
}
