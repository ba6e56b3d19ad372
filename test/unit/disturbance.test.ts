/**
 * Disturbances (sim/core/disturbance.ts): off-spec raw material and a person away. Their effect
 * comes out of the model (defects found or escaped at inspection, a crew short of people), so the
 * figures move with the cause: more off-spec material, more defective parts; more people away,
 * fewer parts; a line whose robot does the work has nobody to be away.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { World } from '../../sim/core/world.ts';
import type { Command, CommandArgs, Role } from '../../sim/core/commands.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { createWorld } from '../../sim/line/build.ts';
import { drained, handling, straightLine } from './world-helpers.ts';

const DT = 0.01;
const minutes = (w: World, m: number): void => w.step(Math.round((m * 60) / DT));

function disturb(w: World, target: string, args: CommandArgs, role: Role = 'instructor'): void {
  const c: Command = { target, command: 'disturb', args, source: 'hmi', principal: 'trainer', role };
  w.enqueue(c);
}

/** source (360 parts/h) → manual inspection (one inspector, 5 s a part) → shipping, rejects to a bin. */
function inspected(seed = 5): World {
  return straightLine([
    { id: 'src', kind: 'source', params: { rate: 360, jitter: 0.1 } },
    { id: 'insp', kind: 'manual-inspection', params: { secondsPerPart: 5, operators: 1, falseRejectRate: 0, fatiguePerHour: 0 }, reject: 'bin' },
  ], DT, seed);
}

/** Defective parts that left the line: escaped to the customer or scrapped for a real defect. */
function defective(w: World): number {
  const c = w.counters();
  return c.escaped + c.scrapped - c.scrappedGood;
}

/** The crew line of world-helpers.ts with a crew of `size` doing the manual station's work. */
function crewOf(size: number): World {
  return handling([{ id: 'handlers', size, skills: ['load'], stations: [{ station: 'hand', places: size }], presence: 86400, shiftLength: 8 * 3600, breaks: [] }]);
}

describe('off-spec material at a source', () => {
  it('gives that share of the parts released in the window a material defect, and none after it (sensitivity)', () => {
    const runs = [0, 0.2, 0.6].map((share) => {
      const w = inspected();
      minutes(w, 10);
      if (share > 0) disturb(w, 'src', { kind: 'material', share, duration: 3600 });
      const created0 = w.counters().created;
      minutes(w, 60);
      const inWindow = w.counters().created - created0;
      const atEnd = defective(w);
      // an hour more: the parts of the window leave the line, no new defective part comes in
      minutes(w, 60);
      return { share, inWindow, atEnd, later: defective(w), events: drained(w).filter((e) => e.type === 'disturbance') };
    });
    expect(runs[0]!.later).toBe(0);
    expect(runs[0]!.events).toEqual([]);
    for (const r of runs.slice(1)) {
      expect(r.inWindow).toBeGreaterThan(300);
      // binomial: share × ~360 parts, within 5 standard deviations
      const sd = Math.sqrt(r.inWindow * r.share * (1 - r.share));
      expect(Math.abs(r.later - r.share * r.inWindow)).toBeLessThan(5 * sd + 3);
      expect(r.later - r.atEnd).toBeLessThanOrEqual(3);
      expect(r.events.map((e) => ({ station: e.station, ...e.data }))).toEqual([{ station: 'src', kind: 'material', share: r.share, durationS: 3600 }]);
    }
    expect(runs[2]!.later).toBeGreaterThan(runs[1]!.later * 2);
  });
});

describe('a person of a crew away', () => {
  it('slows the station the crew works at while they are away, more so the more are away, and the crew is whole again after (sensitivity)', () => {
    const out = [0, 1, 2].map((people) => {
      const w = crewOf(3);
      minutes(w, 5);
      const before = w.counters().shipped;
      if (people > 0) disturb(w, 'hand', { kind: 'absent', people, duration: 1800 });
      minutes(w, 15);
      const away = w.crew.c.avail[0];
      minutes(w, 15);
      const during = w.counters().shipped - before;
      minutes(w, 1);
      return { people, during, away, back: w.crew.c.avail[0], absent: w.crew.c.absent[0] };
    });
    // 20 s a part a person: ~90 parts in 30 min per person there
    expect(out.map((o) => o.away)).toEqual([3, 2, 1]);
    expect(out.map((o) => o.back)).toEqual([3, 3, 3]);
    expect(out.map((o) => o.absent)).toEqual([0, 0, 0]);
    expect(out[0]!.during).toBeGreaterThan(250);
    expect(out[1]!.during).toBeGreaterThan(out[2]!.during + 60);
    expect(out[0]!.during).toBeGreaterThan(out[1]!.during + 60);
    expect(Math.abs(out[2]!.during - 90)).toBeLessThan(15);
  });

  it('on the seed foundry: hand pouring pours less with two of its four pourers away; the pouring robot has nobody to lose', () => {
    const build = (id: string): World => {
      const file = `scenarios/${id}.yaml`;
      return createWorld({ ...parseScenario(readFileSync(file, 'utf8'), file), dt: DT });
    };
    const full = build('steel-ball-before');
    full.step(Math.round((2 * 3600) / DT)); // the furnace and pouring in their rhythm
    const snapshot = full.takeSnapshot();
    const from = (): World => {
      const w = build('steel-ball-before');
      w.restoreSnapshot(snapshot);
      drained(w);
      return w;
    };
    // moulds poured in the window (shipping lags them by the hours of cooling and quenching)
    const pouredIn = (w: World, m: number): number => {
      const pour = w.indexOf('pour');
      const c0 = w.st.partsOut[pour]!;
      minutes(w, m);
      return w.st.partsOut[pour]! - c0;
    };
    const control = pouredIn(from(), 60);
    const w = from();
    disturb(w, 'pour', { kind: 'absent', people: 2, duration: 3600 });
    const short = pouredIn(w, 60);
    expect(drained(w).find((e) => e.type === 'disturbance')?.data).toEqual({ kind: 'absent', people: 2, crew: 'pourers', durationS: 3600 });
    expect(short).toBeLessThan(control * 0.7);

    const after = build('steel-ball-after');
    disturb(after, 'pour', { kind: 'absent', people: 1, duration: 600 });
    minutes(after, 0.1);
    expect(drained(after).find((e) => e.type === 'rejected')?.data.reason).toMatch(/no crew does the work of "pour"/);
  }, 120_000);
});

describe('disturb: bad input', () => {
  it('refuses with a reason naming what is wrong, and the instructor role alone may disturb', () => {
    const w = crewOf(3);
    minutes(w, 1);
    drained(w);
    const cases: [string, CommandArgs, RegExp, Role?][] = [
      ['hand', { kind: 'absent' }, /disturbance injection needs the instructor role/, 'engineer'],
      ['hand', { kind: 'weather' }, /kind must be one of material, absent, got "weather"/],
      ['hand', { kind: 'material' }, /raw-material source \(src\), not at "hand"/],
      ['src', { kind: 'material', share: 1.5 }, /share of off-spec parts must be a number in \(0, 1\], got 1\.5/],
      ['src', { kind: 'material', duration: -5 }, /duration must be a number of seconds/],
      ['hand', { kind: 'absent', people: 4 }, /whole number in \[1, 3\] \(crew "handlers" has 3\), got 4/],
      ['out', { kind: 'absent' }, /no crew does the work of "out"/],
    ];
    for (const [target, args, reason, role] of cases) {
      disturb(w, target, args, role);
      minutes(w, 0.01);
      const r = drained(w).filter((e) => e.type === 'rejected' || e.type === 'command');
      expect(r.map((e) => e.type), JSON.stringify(args)).toEqual(['rejected']);
      expect(String(r[0]!.data.reason)).toMatch(reason);
    }
    disturb(w, 'hand', { kind: 'absent', duration: 600 });
    disturb(w, 'hand', { kind: 'absent', duration: 600 });
    minutes(w, 0.01);
    const both = drained(w).filter((e) => e.type === 'rejected' || e.type === 'command');
    expect(both.map((e) => e.type)).toEqual(['command', 'rejected']);
    expect(String(both[1]!.data.reason)).toMatch(/crew "handlers" already has 1 away \(for 600 s more\)/);
  });
});
