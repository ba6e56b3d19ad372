/**
 * Operators as resources the simulation schedules. A crew serves an area (a list of stations)
 * with a number of people, a set of skills (the tasks it may do) and a shift pattern with
 * breaks. A station that needs a person for its task (pour, knock out, load, inspect, pack,
 * tend; repair after a breakdown) asks its crew through `staff()`; it holds the people it got
 * while the task is in work and gives them back as soon as it has nothing to work on. With
 * nobody free it waits: starved for labour, counted apart from starved for parts.
 *
 * Labour figures come from the people's simulated busy time (`labourKpis`), so a task a robot
 * takes over, removed from the crew's skills or from the kind's work, removes its labour.
 *
 * A world without crews keeps the older model: each station's `operators` parameter is a
 * dedicated team that is always there, and labour is that headcount times the time.
 *
 * State lives in the world's buffer (structure of arrays, part of snapshots); the mapping from
 * stations to crews is structural and rebuilt from the definition. Nothing here allocates per tick.
 */
import type { LayoutBuilder } from './layout.ts';
import type { MachineKind } from './types.ts';
import type { World } from './world.ts';
import { TwinlineError } from './errors.ts';

/** Tasks a person can do; a crew's `skills` name the ones it does. */
export const TASKS = ['load', 'unload', 'pour', 'tend', 'inspect', 'pack', 'changeover', 'assemble', 'repair'] as const;
export type TaskName = (typeof TASKS)[number];

/**
 * The work task of each machine kind that needs people for it (the time comes from the kind's
 * own parameters: pouring `manualTime`, shakeout `manualTime`, manual station and manual
 * inspection `secondsPerPart`, the release test's hand tests `testTime`, packer `boxTime`; the furnace needs a melter while it holds a
 * heat). Kinds not listed (robots, automatic machines) have no work task; every kind can be
 * repaired by a crew with the `repair` skill.
 */
export const KIND_TASK: Readonly<Record<string, TaskName>> = {
  pouring: 'pour',
  shakeout: 'unload',
  'manual-station': 'load',
  assembly: 'assemble',
  'manual-inspection': 'inspect',
  'release-test': 'inspect',
  packer: 'pack',
  'induction-furnace': 'tend',
  // the checks by hand of an extruder without SPC (micrometer on a sample)
  extruder: 'inspect',
};

/** Whether a crew with `skills` does the work task of a station of `kind` (never for a kind without one). */
export function doesTask(skills: readonly TaskName[], kind: string): boolean {
  const task = KIND_TASK[kind];
  return task !== undefined && skills.includes(task);
}

/** A break in every shift: from `at` [s into the shift] for `length` [s], `share` of the crew away (0…1). */
export interface CrewBreak {
  at: number;
  length: number;
  share: number;
}

/** One crew, as the world needs it (the line builder makes these from a scenario's `crews:`). */
export interface CrewDef {
  id: string;
  name?: { en: string; zh: string };
  /** people in the crew */
  size: number;
  skills: readonly TaskName[];
  /** stations the crew serves, with the most of its people who can work there at once */
  stations: readonly { station: string; places: number }[];
  /** time the crew is present each day, from midnight [s]; 86400: round the clock */
  presence: number;
  /** shift length [s]: breaks repeat every shift */
  shiftLength: number;
  breaks: readonly CrewBreak[];
}

/** Per-crew state arrays (in the world's buffer). */
const CREW_ARRAYS = [
  'size', 'avail', 'busy', 'wanted', 'peak',
  /** people away (a disturbance, disturbance.ts) until tick `absentUntil` */
  'absent', 'absentUntil',
  /** person-ticks worked, person-ticks present, ticks on shift, station-ticks waiting for a person */
  'busyTicks', 'availTicks', 'shiftTicks', 'waitTicks',
] as const;
/** Per-station labour state arrays (in the world's buffer). */
const STATION_ARRAYS = ['held', 'want', 'repairHeld', 'labourWaitTicks', 'workTicks'] as const;

type CrewArrays = { [K in (typeof CREW_ARRAYS)[number]]: Float64Array };
type StationLabour = { [K in (typeof STATION_ARRAYS)[number]]: Float64Array };

/** Labour state of a world: crews, and each station's claim on them. */
export interface CrewState {
  /** false without crews: stations use their `operators` parameter as before */
  readonly active: boolean;
  readonly defs: readonly CrewDef[];
  readonly c: CrewArrays;
  readonly s: StationLabour;
  /** crew serving station s's work task, -1: none (the `operators` parameter applies) */
  readonly taskCrew: Int32Array;
  /** crew repairing station s, -1: repairs need nobody */
  readonly repairCrew: Int32Array;
  /** most people of its crew station s can use at once */
  readonly places: Int32Array;
  /** stations with a crew for their task or repairs, in station order (the per-tick loop walks only these) */
  readonly served: Int32Array;
  /** tick at which each crew's presence is next looked at (not state: after a restore it is looked at at once) */
  readonly nextLook: Float64Array;
}

/** Declares the crew arrays in a world's layout. */
export function layoutCrews(lb: LayoutBuilder, crews: number, stations: number): void {
  for (const a of CREW_ARRAYS) lb.add(`crew:${a}`, 'f64', crews);
  for (const a of STATION_ARRAYS) lb.add(`labour:${a}`, 'f64', stations);
}

/**
 * Builds the crew state over the laid-out arrays and maps stations to crews. Throws a
 * `SCENARIO_REFERENCE` error naming the crew and station when an area is inconsistent.
 */
export function crewState(
  defs: readonly CrewDef[], ids: readonly string[], kinds: readonly MachineKind[],
  get: (name: string) => Float64Array,
): CrewState {
  const n = ids.length;
  const c = Object.fromEntries(CREW_ARRAYS.map((a) => [a, get(`crew:${a}`)])) as CrewArrays;
  const s = Object.fromEntries(STATION_ARRAYS.map((a) => [a, get(`labour:${a}`)])) as StationLabour;
  const taskCrew = new Int32Array(n).fill(-1);
  const repairCrew = new Int32Array(n).fill(-1);
  const places = new Int32Array(n);
  const index = new Map(ids.map((id, k) => [id, k]));
  defs.forEach((d, k) => {
    const fail = (msg: string): never => {
      throw new TwinlineError('SCENARIO_REFERENCE', `crew "${d.id}": ${msg}`, { path: `crews[${k}]` });
    };
    for (const a of d.stations) {
      const st = index.get(a.station);
      if (st === undefined) fail(`station "${a.station}" does not exist`);
      const at = st as number;
      const task = KIND_TASK[kinds[at]?.kind ?? ''];
      const works = doesTask(d.skills, kinds[at]?.kind ?? '');
      const repairs = d.skills.includes('repair');
      if (!works && !repairs) {
        fail(`serves "${a.station}" (${kinds[at]?.kind}) but has neither its task${task === undefined ? '' : ` "${task}"`} nor "repair" among its skills`);
      }
      if (works) {
        if (taskCrew[at]! >= 0) fail(`station "${a.station}" is already served by crew "${defs[taskCrew[at]!]?.id}"`);
        taskCrew[at] = k;
        places[at] = Math.max(1, Math.round(a.places));
      }
      if (repairs && repairCrew[at]! < 0) repairCrew[at] = k;
    }
  });
  const served = Int32Array.from(ids.map((_, k) => k).filter((k) => taskCrew[k]! >= 0 || repairCrew[k]! >= 0));
  return { active: defs.length > 0, defs, c, s, taskCrew, repairCrew, places, served, nextLook: new Float64Array(defs.length) };
}

/** Sets each crew's size and who is present at tick 0 (a new world, not a restored one). */
export function initCrews(w: World): void {
  const cs = w.crew;
  cs.defs.forEach((d, k) => {
    cs.c.size[k] = d.size;
    cs.c.avail[k] = present(d, 0);
  });
  // a station whose task a crew serves shows the people posted there as its `operators`
  // (what the 3D line draws); the work itself takes them from the crew (staff())
  for (let s = 0; s < w.size; s++) {
    const k = cs.taskCrew[s]!;
    if (k >= 0) w.st.operators[s] = Math.min(cs.places[s]!, cs.c.size[k]!);
  }
}

/** People of crew `d` present at simulated time `t` [s]: off shift nobody, on a break the rest. */
function present(d: CrewDef, t: number): number {
  const size = d.size;
  if (t % 86400 >= d.presence) return 0;
  const inShift = t % d.shiftLength;
  let away = 0;
  const br = d.breaks;
  for (let b = 0; b < br.length; b++) {
    const x = br[b]!;
    if (inShift >= x.at && inShift < x.at + x.length) away = Math.max(away, Math.ceil(x.share * size - 1e-9));
  }
  return Math.max(0, size - away);
}

/**
 * People station `s` works with this tick, asking for `want` (0: nothing in work, its people
 * go back to the crew). Without a crew for the station's task: its `operators` parameter,
 * whatever `want` is (the older model). With one: the people it already holds, topped up from
 * the crew's free people up to `want` and the station's places; fewer than wanted when the
 * crew is busy or away, 0 when nobody is free (the station waits).
 */
export function staff(w: World, s: number, want: number): number {
  const cs = w.crew;
  const k = cs.taskCrew[s]!;
  if (k < 0) return w.st.operators[s]!;
  const S = cs.s;
  const C = cs.c;
  const cap = cs.places[s]!;
  const wanted = want < cap ? (want > 0 ? want : 0) : cap;
  let held = S.held[s]!;
  // More people at work than present (a break or the shift's end has come): they leave now;
  // the work in progress stays and goes on with whoever is left.
  const over = C.busy[k]! - C.avail[k]!;
  if (over > 0 && held > 0) {
    const drop = Math.min(over, held);
    C.busy[k]! -= drop;
    held -= drop;
  }
  if (wanted < held) {
    C.busy[k]! -= held - wanted;
    held = wanted;
  } else if (wanted > held) {
    const free = C.avail[k]! - C.busy[k]!;
    const take = Math.min(wanted - held, free > 0 ? free : 0);
    C.busy[k]! += take;
    held += take;
  }
  S.held[s] = held;
  S.want[s] = wanted;
  return held;
}

/** Whether `staff(w, s, want)` would change nothing now (no claim, no release, no one leaving). */
export function staffSettled(w: World, s: number, want: number): boolean {
  const cs = w.crew;
  const k = cs.taskCrew[s]!;
  if (k < 0) return true;
  const S = cs.s;
  const C = cs.c;
  const cap = cs.places[s]!;
  const wanted = want < cap ? (want > 0 ? want : 0) : cap;
  const held = S.held[s]!;
  if (S.want[s] !== wanted || wanted < held) return false;
  if (held > 0 && C.busy[k]! > C.avail[k]!) return false;
  return !(wanted > held && C.avail[k]! - C.busy[k]! > 0);
}

/** The most people station `s` can work with: its places in its crew, or its `operators` parameter. */
export function staffing(w: World, s: number): number {
  const cs = w.crew;
  return cs.taskCrew[s]! >= 0 ? cs.places[s]! : w.st.operators[s]!;
}

/** `want` for `staff()`: as many people as the station has places for. */
export const ALL_PLACES = 1 << 20;

/** Whether station `s`'s work task is served by a crew (false: the `operators` parameter applies). */
export function crewed(w: World, s: number): boolean {
  return w.crew.taskCrew[s]! >= 0;
}

/**
 * Per-tick labour accounting and repairs, after the machines have stepped: busy and present
 * person-time, stations waiting for a person, repair people; then who is present next tick.
 * A repair needs one person of the station's repair crew: while nobody is free the repair
 * clock stands still (the fault's end moves on by a tick).
 */
export function crewTick(w: World): void {
  const cs = w.crew;
  if (!cs.active) return;
  const C = cs.c;
  const S = cs.s;
  const served = cs.served;
  const ns = served.length;
  const nc = cs.defs.length;
  for (let k = 0; k < nc; k++) C.wanted[k] = 0;
  const fault = w.st.fault;
  const noticedAt = w.st.noticedAt;
  for (let j = 0; j < ns; j++) {
    const s = served[j]!;
    const r = cs.repairCrew[s]!;
    if (r >= 0) {
      const rh = S.repairHeld[s]!;
      // a fault nobody has noticed yet asks for nobody (its end already includes the wait)
      if (fault[s]! !== 0 && w.tick < noticedAt[s]!) {
        // unnoticed
      } else if (fault[s]! !== 0) {
        if (rh === 0 && C.avail[r]! - C.busy[r]! >= 1) {
          S.repairHeld[s] = 1;
          C.busy[r]! += 1;
        }
        C.wanted[r]! += 1;
        if (S.repairHeld[s] === 0) {
          w.st.faultEnd[s]! += 1;
          C.waitTicks[r]! += 1;
        } else S.workTicks[s]! += 1;
      } else if (rh !== 0) {
        S.repairHeld[s] = 0;
        C.busy[r]! -= rh;
      }
    }
    const k = cs.taskCrew[s]!;
    if (k < 0) continue;
    const want = S.want[s]!;
    const held = S.held[s]!;
    C.wanted[k]! += want;
    S.workTicks[s]! += held;
    if (want > 0 && held === 0) {
      S.labourWaitTicks[s]! += 1;
      C.waitTicks[k]! += 1;
    }
  }
  const next = w.tick + 1;
  // presence changes at shift, break and day boundaries: it is looked at once a simulated
  // second, not every tick, as of the whole second (a pure function of the time, so a restored
  // world that looks at another tick sees the same)
  const look = Math.max(1, Math.round(1 / w.dt));
  for (let k = 0; k < nc; k++) {
    C.busyTicks[k]! += C.busy[k]!;
    const avail = C.avail[k]!;
    C.availTicks[k]! += avail;
    if (avail > 0) C.shiftTicks[k]! += 1;
    if (C.wanted[k]! > C.peak[k]!) C.peak[k] = C.wanted[k]!;
    if (next >= cs.nextLook[k]!) {
      const there = present(cs.defs[k]!, Math.floor(next * w.dt + 1e-9));
      if (C.absent[k]! === 0) C.avail[k] = there;
      else if (next < C.absentUntil[k]!) C.avail[k] = Math.max(0, there - C.absent[k]!);
      else {
        C.absent[k] = 0;
        C.absentUntil[k] = 0;
        C.avail[k] = there;
      }
      cs.nextLook[k] = Math.ceil(next / look) * look;
      if (cs.nextLook[k] === next) cs.nextLook[k] = next + look;
    }
  }
}

export { labourKpis, labourBase, type CrewKpis, type LabourKpis, type LabourBase } from './crew-kpi.ts';
