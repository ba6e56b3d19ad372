/**
 * The cable insulation line (seed L3) and its SPC retrofit: scrap and escaped defects come out
 * of how the extruder's process mean wanders and who corrects it, not out of a typed figure.
 * Sensitivity: more drift or rarer checks by hand make more pieces out of tolerance; SPC holds
 * the mean by its chart's corrections (not by the gauge cutting out what is bad), and leaves a
 * process that does not drift alone.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeKpis, kpiBase } from '../../sim/core/kpi.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import type { LineSpec } from '../../sim/line/types.ts';

const DT = 0.01;
const HOURS = 24;
const SEEDS = [1, 2, 3];

const line = (id: string): LineSpec => {
  const file = `scenarios/${id}.yaml`;
  return parseScenario(readFileSync(file, 'utf8'), file);
};

interface Result {
  /** pieces made out of tolerance (ground truth), summed over the seeds */
  outOfTolerance: number;
  corrections: number;
  pieces: number;
  good: number;
  escaped: number;
  scrapped: number;
}

/** `HOURS` after a half-hour warm-up, for each seed, with `params` set on the extruder. */
function run(id: string, params: Record<string, number> = {}): Result {
  const r: Result = { outOfTolerance: 0, corrections: 0, pieces: 0, good: 0, escaped: 0, scrapped: 0 };
  for (const seed of SEEDS) {
    const spec = line(id);
    const ex = spec.stations.find((s) => s.id === 'extruder')!;
    Object.assign(ex.params, params);
    const w = createWorld({ ...spec, dt: DT, seed });
    w.step(Math.round(1800 / DT));
    const base = kpiBase(w);
    const s = w.indexOf('extruder');
    const before = { out: w.read(s, 'outOfTolerance'), corr: w.read(s, 'corrections'), m: w.read(s, 'metres') };
    w.step(Math.round((HOURS * 3600) / DT));
    const k = computeKpis(w, base);
    r.outOfTolerance += w.read(s, 'outOfTolerance') - before.out;
    r.corrections += w.read(s, 'corrections') - before.corr;
    r.pieces += (w.read(s, 'metres') - before.m) / w.read(s, 'segmentLength');
    r.good += k.good;
    r.escaped += k.escaped;
    r.scrapped += k.scrapped;
  }
  return r;
}

describe('cable insulation line: diameter control by hand and by SPC', () => {
  let before: Result;
  let after: Result;
  beforeAll(() => {
    before = run('cable-before');
    after = run('cable-after');
  }, 300_000);

  it('SPC cuts the pieces out of tolerance and the escapes, and more good cable reaches the reels', () => {
    // the extruder sets the pace: a piece a minute, the same before and after
    expect(before.pieces).toBeGreaterThan(SEEDS.length * HOURS * 60 * 0.97);
    expect(Math.abs(after.pieces - before.pieces)).toBeLessThan(0.01 * before.pieces);
    // by hand: a few percent of the cable out of tolerance, most of it unseen
    expect(before.outOfTolerance / before.pieces).toBeGreaterThan(0.01);
    expect(before.escaped).toBeGreaterThan(before.outOfTolerance / 2);
    expect(after.outOfTolerance).toBeLessThan(before.outOfTolerance / 5);
    expect(after.escaped).toBeLessThan(before.escaped / 10);
    expect(after.good).toBeGreaterThan(before.good);
  }, 300_000);

  it('more drift or rarer checks by hand make more pieces out of tolerance; more frequent checks fewer', () => {
    const drifting = run('cable-before', { drift: 0.08 });
    const rare = run('cable-before', { checkInterval: 7200 });
    const often = run('cable-before', { checkInterval: 600 });
    expect(drifting.outOfTolerance).toBeGreaterThan(before.outOfTolerance * 1.3);
    expect(rare.outOfTolerance).toBeGreaterThan(before.outOfTolerance * 1.3);
    expect(often.outOfTolerance).toBeLessThan(before.outOfTolerance * 0.8);
    expect(often.corrections).toBeGreaterThan(before.corrections);
  }, 300_000);

  it('SPC holds the mean by its corrections: with limits too wide to act, the gauge alone cuts out what drifts', () => {
    const wide = run('cable-after', { chartSigma: 10 });
    expect(after.corrections).toBeGreaterThan(10);
    expect(wide.corrections).toBeLessThan(after.corrections);
    expect(wide.outOfTolerance).toBeGreaterThan(after.outOfTolerance * 3);
    // the gauge still rejects what it measures out of tolerance, so little escapes either way
    expect(wide.scrapped).toBeGreaterThan(after.scrapped);
  }, 300_000);

  it('SPC does not chase the scatter of a process that does not drift', () => {
    const steady = run('cable-after', { drift: 0, trend: 0, wearTrend: 0 });
    // an EWMA chart at 3 sigma signals by chance rarely: far fewer corrections than pieces
    expect(steady.corrections).toBeLessThan(steady.pieces / 100);
    expect(steady.outOfTolerance).toBeLessThan(steady.pieces / 1000);
  }, 300_000);
});

/**
 * `hours` after a half-hour warm-up, summed over `seeds`: the extruder's worked and waiting
 * hours, the crews' worked hours, and the pieces made out of tolerance.
 */
function labourOf(id: string, edit: (spec: LineSpec) => void = () => undefined, hours = HOURS / 3, seeds: readonly number[] = [1]): { worked: number; wait: number; crew: number; outOfTolerance: number } {
  const r = { worked: 0, wait: 0, crew: 0, outOfTolerance: 0 };
  for (const seed of seeds) {
    const spec = line(id);
    edit(spec);
    const w = createWorld({ ...spec, dt: DT, seed });
    w.step(Math.round(1800 / DT));
    const base = kpiBase(w);
    const s = w.indexOf('extruder');
    const out0 = w.read(s, 'outOfTolerance');
    w.step(Math.round((hours * 3600) / DT));
    const k = computeKpis(w, base);
    const ex = k.labour.stations.find((st) => st.id === 'extruder');
    r.worked += ex?.workedHours ?? 0;
    r.wait += ex?.labourWaitHours ?? 0;
    r.crew += k.labour.workedHours;
    r.outOfTolerance += w.read(s, 'outOfTolerance') - out0;
  }
  return r;
}

const extruderParams = (params: Record<string, number>) => (spec: LineSpec): void => {
  Object.assign(spec.stations.find((st) => st.id === 'extruder')!.params, params);
};

describe('cable insulation line: a check by hand is a person\'s work', () => {
  it('each check holds a person of the line crew for its time; twice the time, twice the hours', () => {
    const checks = ((HOURS / 3) * 3600) / 1800;
    const normal = labourOf('cable-before');
    // 180 s a check, plus up to a piece (60 s) waiting for the next cut when called between two
    expect(normal.worked).toBeGreaterThan((checks - 1) * 180 / 3600);
    expect(normal.worked).toBeLessThan((checks + 1) * 240 / 3600);
    expect(normal.wait).toBe(0);
    const long = labourOf('cable-before', extruderParams({ checkTime: 360 }));
    expect(long.worked).toBeGreaterThan(normal.worked * 1.6);
    expect(long.crew - normal.crew).toBeCloseTo(long.worked - normal.worked, 1);
  }, 120_000);

  it('SPC takes the checks, and their hours, off the crew', () => {
    const before = labourOf('cable-before');
    const after = labourOf('cable-after');
    expect(after.worked).toBe(0);
    expect(before.crew - after.crew).toBeGreaterThan(before.worked * 0.8);
  }, 120_000);

  it('while nobody of the extruder\'s crew is there, checks wait and more pieces drift out of tolerance', () => {
    // the checks by a crew of their own, away for the first half of every shift (or never)
    const checker = (away: number) => (spec: LineSpec): void => {
      const crew = spec.crews.find((c) => c.id === 'line')!;
      spec.crews = [
        { ...crew, stations: crew.stations.filter((st) => st.station !== 'extruder') },
        { id: 'checker', size: 1, skills: ['inspect'], stations: [{ station: 'extruder', places: 1 }], presence: 86_400, shiftLength: 8 * 3600, breaks: away > 0 ? [{ at: 0, length: away, share: 1 }] : [] },
      ];
    };
    const there = labourOf('cable-before', checker(0), HOURS, SEEDS);
    const away = labourOf('cable-before', checker(4 * 3600), HOURS, SEEDS);
    expect(there.wait).toBe(0);
    // half of every shift waiting for the checker: about 12 h a day, three days
    expect(away.wait).toBeGreaterThan(SEEDS.length * 10);
    expect(away.worked).toBeLessThan(there.worked * 0.7);
    expect(away.outOfTolerance).toBeGreaterThan(there.outOfTolerance * 1.3);
  }, 300_000);
});
