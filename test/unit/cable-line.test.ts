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
