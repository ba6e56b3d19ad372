/**
 * Disturbances: what a trainer injects that does not stop a machine (a fault does, see
 * `World.fail`), so that the line shows its effect through the model rather than a typed figure:
 *
 * - `material`: a batch of off-spec raw material at a source. For `duration` each part the
 *   source releases carries a material defect (porosity, an internal defect) with probability
 *   `share`; what becomes of it (scrapped at inspection, or escaped to the customer) is up to
 *   the line's inspection, as for any other defect.
 * - `absent`: `people` of the crew that does station `s`'s work task are away for `duration`
 *   (sick, called elsewhere); the crew works with who is left, so the stations it serves wait
 *   for a person when nobody is free. A line whose robot does the task does not notice.
 *
 * State lives in the world's buffer (part of snapshots); nothing draws a random number or
 * changes the event log while no disturbance is active, so runs without one are unchanged.
 */
import type { LayoutBuilder } from './layout.ts';
import type { World } from './world.ts';
import type { CommandArgs, CommandResult } from './commands.ts';
import { OK, reject } from './commands.ts';
import { Defect } from './parts.ts';
import { chance } from './rng.ts';

/** Disturbance kinds, as `disturb {kind}` names them. */
export const DISTURBANCES = ['material', 'absent'] as const;
export type DisturbanceKind = (typeof DISTURBANCES)[number];

/** The defect off-spec material gives a part (internal: a camera without an internal sensor sees it poorly). */
export const MATERIAL_DEFECT = Defect.porosity;

/** Per-station disturbance arrays (in the world's buffer). */
export interface Disturbances {
  /** share of the parts station `s` releases that carry a material defect, while `offSpecUntil` is ahead */
  offSpec: Float64Array;
  /** tick up to which station `s` releases off-spec material (0: none) */
  offSpecUntil: Float64Array;
}

/** Declares the disturbance arrays in a world's layout. */
export function layoutDisturbances(lb: LayoutBuilder, stations: number): void {
  lb.add('disturb:offSpec', 'f64', stations);
  lb.add('disturb:offSpecUntil', 'f64', stations);
}

/** The disturbance arrays over a laid-out buffer. */
export function disturbanceState(get: (name: string) => Float64Array): Disturbances {
  return { offSpec: get('disturb:offSpec'), offSpecUntil: get('disturb:offSpecUntil') };
}

/** Gives part `p`, just released by station `s`, a material defect if an off-spec batch is running there. */
export function offSpecPart(w: World, s: number, p: number): void {
  const d = w.disturb;
  if (w.tick >= d.offSpecUntil[s]! || !chance(w.rng, d.offSpec[s]!)) return;
  w.parts.defects[p] = w.parts.defects[p]! | MATERIAL_DEFECT;
}

/** Why off-spec material cannot come in at `station`: it is not one of the line's `sources` (the line and lesson validation say the same). */
export function notASource(station: string, sources: readonly string[]): string {
  return `off-spec material comes in at a raw-material source (${sources.join(', ')}), not at "${station}"`;
}

/** Longest disturbance [s]: a week. */
const MAX_DURATION = 7 * 86400;

/**
 * `disturb {kind, duration [s], share? (material, default 0.3), people? (absent, default 1)}`
 * on station `s`: starts the disturbance, or says why not (wrong station, bad argument, one
 * already running there).
 */
export function disturb(w: World, s: number, args: CommandArgs): CommandResult {
  const id = w.ids[s];
  const duration = args.duration ?? 600;
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0 || duration > MAX_DURATION) {
    return reject('BAD_ARGUMENT', `disturbance duration must be a number of seconds in (0, ${MAX_DURATION}], got ${JSON.stringify(duration)}`);
  }
  const until = w.tick + Math.max(1, Math.round(duration / w.dt));
  const durationS = Math.round(duration * 1000) / 1000;
  if (args.kind === 'material') {
    if (w.kindOf[s]?.role !== 'source') {
      return reject('NOT_ALLOWED', notASource(id ?? '', w.ids.filter((_, k) => w.kindOf[k]?.role === 'source')));
    }
    const share = args.share ?? 0.3;
    if (typeof share !== 'number' || !(share > 0 && share <= 1)) return reject('BAD_ARGUMENT', `share of off-spec parts must be a number in (0, 1], got ${JSON.stringify(share)}`);
    const d = w.disturb;
    if (w.tick < d.offSpecUntil[s]!) return reject('NOT_ALLOWED', `an off-spec batch is already coming in at "${id}" (${untilText(w, d.offSpecUntil[s]!)})`);
    d.offSpec[s] = share;
    d.offSpecUntil[s] = until;
    w.emit('disturbance', s, { kind: 'material', share, durationS });
    return OK;
  }
  if (args.kind === 'absent') {
    const cs = w.crew;
    const k = cs.taskCrew[s]!;
    if (k < 0) return reject('NOT_ALLOWED', `no crew does the work of "${id}" (a machine does it, or its operators parameter does): nobody to be absent`);
    const people = args.people ?? 1;
    const size = cs.c.size[k]!;
    if (typeof people !== 'number' || !Number.isInteger(people) || people < 1 || people > size) {
      return reject('BAD_ARGUMENT', `people absent must be a whole number in [1, ${size}] (crew "${cs.defs[k]?.id}" has ${size}), got ${JSON.stringify(people)}`);
    }
    if (w.tick < cs.c.absentUntil[k]!) return reject('NOT_ALLOWED', `crew "${cs.defs[k]?.id}" already has ${cs.c.absent[k]} away (${untilText(w, cs.c.absentUntil[k]!)})`);
    cs.c.absent[k] = people;
    cs.c.absentUntil[k] = until;
    // the crew's presence is looked at again at the end of this tick (crewTick)
    cs.nextLook[k] = w.tick;
    w.emit('disturbance', s, { kind: 'absent', people, crew: cs.defs[k]?.id ?? '', durationS });
    return OK;
  }
  return reject('BAD_ARGUMENT', `disturbance kind must be one of ${DISTURBANCES.join(', ')}, got ${JSON.stringify(args.kind)}`);
}

function untilText(w: World, tick: number): string {
  return `for ${Math.ceil((tick - w.tick) * w.dt)} s more`;
}
