/**
 * What every attack of the library shares: the line as it was before the attack (for the
 * impact and the cleanup), the audit trail as evidence, watching a station for downtime, and
 * the cleanup that puts the line back through the range's own account.
 */
import { TwinlineError } from '../../../sim/core/errors.ts';
import { Defect } from '../../../sim/core/parts.ts';
import { PRODUCING, refused, type Ev, type StationView } from '../observer.ts';
import type { AttackContext } from '../types.ts';

const BEFORE = 'before';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The aimed-at station before the attack (kept for the cleanup); null without an observer. */
export async function before(ctx: AttackContext): Promise<StationView | null> {
  if (ctx.observer === null) return null;
  const v = await ctx.observer.station(ctx.station);
  ctx.memo.set(BEFORE, v);
  return v;
}

/** The station now, or null without an observer. */
export async function now(ctx: AttackContext): Promise<StationView | null> {
  return ctx.observer === null ? null : ctx.observer.station(ctx.station);
}

/**
 * Appends the event log since the attack began (audit trail, commands, the station's states)
 * to `evidence`; the events. When the attacker was refused, waits a few seconds for the
 * refusal to reach the log (a busy host drains it late). A refusal a face logs only once per
 * period (the same client retrying) may not come: it is counted in that face's next entry.
 */
export async function trail(ctx: AttackContext, evidence: string[], refusedSeen: boolean): Promise<Ev[]> {
  const o = ctx.observer;
  if (o === null) {
    evidence.push('(the line was not observed: give the range\'s web address as a --target http://… to read its audit trail)');
    return [];
  }
  const t = await o.trail(ctx.station, refusedSeen ? (evs) => refused(evs, o.user) : undefined);
  evidence.push(...t.lines);
  return t.events;
}

/** What a watch of a station saw. */
export interface Watched {
  /** line time the station spent outside Execute / Suspended [s] */
  downtimeS: number;
  /** line time watched [s] */
  watchedS: number;
  /** the states it passed through, in order */
  states: string[];
  last: StationView | null;
}

/** Watches the aimed-at station for `ms` (wall): line time spent not producing, and the states passed through. */
export async function watch(ctx: AttackContext, ms: number): Promise<Watched> {
  const o = ctx.observer;
  if (o === null) return { downtimeS: 0, watchedS: 0, states: [], last: null };
  const end = Date.now() + ms;
  let prev = await o.view();
  const first = prev.simTime;
  let down = 0;
  let last = prev.stations.get(ctx.station) ?? null;
  const states = last === null ? [] : [last.state];
  while (Date.now() < end) {
    await sleep(200);
    const v = await o.view();
    const s = v.stations.get(ctx.station) ?? null;
    // the interval counts as down when it began outside production
    if (last !== null && !PRODUCING.has(last.state)) down += v.simTime - prev.simTime;
    if (s !== null && s.state !== states[states.length - 1]) states.push(s.state);
    prev = v;
    last = s;
  }
  return { downtimeS: round(down), watchedS: round(prev.simTime - first), states, last };
}

/** Parts that left the line (good or scrapped) with a crack, among `evs`. */
export function cracked(evs: readonly Ev[]): number {
  return evs.filter((e) => (e.type === 'part-completed' || e.type === 'part-scrapped') && (Number(e.data.defects) & Defect.crack) !== 0).length;
}

/**
 * Watches the line's events for the first cracked part, for the run's watch time when the attack
 * got something written (`active`), not at all otherwise; returns the events seen.
 */
export async function watchForCracks(ctx: AttackContext, active: boolean): Promise<Ev[]> {
  let evs: Ev[] = [];
  const end = Date.now() + (active ? ctx.watchMs : 0);
  while (ctx.observer !== null && Date.now() < end && cracked(evs) === 0) {
    await sleep(500);
    evs = await ctx.observer.events();
  }
  return evs;
}

/** The tags of `names` whose value differs between two views of a station: name → [before, after]. */
export function movedTags(was: StationView | null, after: StationView | null, names: readonly string[]): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const z of names) {
    if (was !== null && after !== null && was.tags[z] !== after.tags[z]) out[z] = [was.tags[z]!, after.tags[z]!];
  }
  return out;
}

/** `x` to `digits` decimals. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Puts the aimed-at station back as it was before the attack; what it did goes to the log. */
export async function restore(ctx: AttackContext): Promise<void> {
  const b = ctx.memo.get(BEFORE) as StationView | undefined;
  if (ctx.observer === null || b === undefined) return;
  try {
    for (const line of await ctx.observer.restore(ctx.station, b)) ctx.log(`cleanup: ${line}`);
  } catch (e) {
    ctx.log(`cleanup: could not put ${ctx.station} back: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Throws when station `s` has no `tag`: the attack aims at another kind of station. */
export function needTag(s: StationView | null, tag: string, attack: string, kind: string): void {
  if (s !== null && !(tag in s.tags)) {
    throw new TwinlineError('BAD_ARGUMENT', `${attack} aims at a ${kind}; station "${s.id}" has no ${tag} (choose one with --station)`);
  }
}
