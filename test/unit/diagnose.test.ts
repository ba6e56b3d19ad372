/**
 * The diagnosis's indicators and ranking without running a line: the key-process automation
 * rate and automated inspection come from the stations (a station switched to automatic moves
 * the rate), the later stages' indicators from what the plant has around each station (one
 * more networked station moves the interconnection rate; energy monitoring follows the energy
 * the metered stations used), stages are graded against the seeds' benchmarks (every seed line's
 * after file above its before file), steps rank by payback, and the roadmap goes stage by stage.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Economics } from '../../sim/host/compare-economics.ts';
import { gradeStages, lineIndicators, needsHands, rankSteps, roadmapOrder, type Indicator } from '../../sim/host/diagnose.ts';
import { buildRetrofit } from '../../sim/host/retrofits.ts';
import { parseScenario } from '../../sim/line/parse.ts';

const load = (id: string): { text: string; spec: ReturnType<typeof parseScenario> } => {
  const file = `scenarios/${id}.yaml`;
  const text = readFileSync(file, 'utf8');
  return { text, spec: parseScenario(text, file) };
};
const value = (xs: Indicator[], id: string): number | null => xs.find((i) => i.id === id)!.value;
/** the indicators of the stages after automation */
const LATER = ['dataCollection', 'spcCoverage', 'interconnection', 'energyMonitoring', 'predictiveMaintenance', 'traceability'];

/** Economics with a payback and a net saving (the rest does not matter to the ranking). */
const econ = (paybackYears: number | null, net: number): Economics => ({
  prices: { wagePerHour: 30, energyPerKWh: 0.65, pricePerGoodPart: 0, hoursPerYear: 7200 }, pricesFile: null, steps: [], capex: 0,
  perYear: { labourHours: { before: 0, after: 0 }, energyKWh: { before: 0, after: 0 }, goodParts: { before: 0, after: 0 } },
  savingsPerYear: { labour: 0, energy: 0, output: 0, opex: 0, net }, paybackYears,
});

describe('diagnosis indicators', () => {
  it('counts the process stations that need hands on each seed line; the retrofitted lines need fewer', () => {
    const rate = (id: string): number | null => value(lineIndicators(load(id).spec, []), 'keyProcessAutomation');
    for (const [before, after] of [['ceramic-before', 'ceramic-after'], ['steel-ball-before', 'steel-ball-after']] as const) {
      expect(rate(before)).toBeGreaterThan(0);
      expect(rate(after), `${after} against ${before}`).toBeGreaterThan(rate(before)!);
    }
    expect(value(lineIndicators(load('ceramic-before').spec, []), 'automatedInspection')).toBe(0);
    expect(value(lineIndicators(load('ceramic-after').spec, []), 'automatedInspection')).toBe(100);
  });

  it('moves with the cause: a retrofit step that takes the hands off a station raises the rate by that station', () => {
    const { text, spec } = load('steel-ball-before');
    const manual = spec.stations.filter((s) => s.kind === 'pouring' && needsHands(s));
    expect(manual.length).toBeGreaterThan(0);
    const after = buildRetrofit(text, spec, ['automatic-pouring']).spec;
    expect(after.stations.filter((s) => s.kind === 'pouring').some(needsHands)).toBe(false);
    const process = spec.stations.filter((s) => !['source', 'sink', 'conveyor', 'buffer'].includes(s.kind)).length;
    const was = value(lineIndicators(spec, []), 'keyProcessAutomation')!;
    const now = value(lineIndicators(after, []), 'keyProcessAutomation')!;
    expect(now - was).toBeCloseTo((100 * manual.length) / process, 0);
  });

  it('leaves what the scenario does not describe not assessed, and labour per good part needs a run', () => {
    const { spec } = load('ceramic-before');
    expect(value(lineIndicators(spec, []), 'labourPerKGood')).toBeNull();
    const silent = { ...spec, stations: spec.stations.map((s) => ({ ...s, systems: null })) };
    const xs = lineIndicators(silent, []);
    for (const id of LATER) {
      expect(value(xs, id), id).toBeNull();
      expect(xs.find((i) => i.id === id)!.how.en).toMatch(/^not assessed: no station of the scenario says/);
    }
  });

  it('counts the later stages from what the plant has around each station; the seeds\' before lines have nothing, the after lines more', () => {
    for (const [before, after] of [['ceramic-before', 'ceramic-after'], ['steel-ball-before', 'steel-ball-after']] as const) {
      const b = lineIndicators(load(before).spec, []);
      const a = lineIndicators(load(after).spec, []);
      for (const id of ['dataCollection', 'interconnection']) {
        expect(value(b, id), `${before} ${id}`).toBe(0);
        expect(value(a, id), `${after} ${id}`).toBeGreaterThan(50);
      }
      // energy monitoring is a share of the energy used: it needs a run
      expect(value(a, 'energyMonitoring')).toBeNull();
      expect(a.find((i) => i.id === 'energyMonitoring')!.how.en).toMatch(/needs a run/);
    }
    expect(lineIndicators(load('ceramic-after').spec, []).find((i) => i.id === 'traceability')!.how.en).toMatch(/^1 of \d+ process stations \(trace\); without: former/);
  });

  it('moves with the cause: one more station on the network, one more share; energy monitoring weighs each station by the energy it used', () => {
    const before = load('steel-ball-before').spec;
    const devices = before.stations.filter((s) => s.kind !== 'source' && s.kind !== 'sink' && !needsHands(s));
    expect(value(lineIndicators(before, []), 'interconnection')).toBe(0);
    const plus = { ...before, stations: before.stations.map((s) => (s.id === devices[0]!.id ? { ...s, systems: [...(s.systems ?? []), 'network' as const] } : s)) };
    expect(value(lineIndicators(plus, []), 'interconnection')).toBeCloseTo(100 / devices.length, 0);
    const { spec } = load('steel-ball-after');
    // the furnace is the one metered station: its share of the energy is the coverage
    const run = (furnace: number, rest: number): { kpis: { good: number; labourHours: number }; stations: { id: string; energyKWh: number }[] } => ({
      kpis: { good: 10, labourHours: 1 }, stations: spec.stations.map((s) => ({ id: s.id, energyKWh: s.id === 'furnace' ? furnace : s.kind === 'quench' ? rest : 0 })),
    });
    expect(spec.stations.filter((s) => s.systems?.includes('meter')).map((s) => s.id)).toEqual(['furnace']);
    expect(value(lineIndicators(spec, [run(900, 100)]), 'energyMonitoring')).toBe(90);
    expect(value(lineIndicators(spec, [run(500, 500)]), 'energyMonitoring')).toBe(50);
  });

  it('grades every seed line\'s after file above its before file: no stage lower, one higher (the stations alone: energy monitoring needs a run)', () => {
    for (const id of ['ceramic', 'steel-ball', 'cable', 'spring', 'toilet-module', 'bearing']) {
      const grades = (file: string): (number | null)[] => gradeStages(lineIndicators(load(file).spec, [])).map((g) => g.score);
      const before = grades(`${id}-before`);
      const after = grades(`${id}-after`);
      expect(after.map((x) => x === null), `${id}: the same stages assessed`).toEqual(before.map((x) => x === null));
      after.forEach((x, k) => expect(x ?? 0, `${id} stage ${k}`).toBeGreaterThanOrEqual(before[k] ?? 0));
      expect(after.some((x, k) => (x ?? 0) > (before[k] ?? 0)), `${id}: ${before.join(' ')} → ${after.join(' ')}`).toBe(true);
    }
  });

  it('counts the stations that can break down as the twin does: a source or sink only when the scenario gives it an MTBF', () => {
    const { text, spec } = load('cable-before');
    const after = buildRetrofit(text, spec, ['predictive-maintenance']).spec;
    const pdm = (line: typeof spec): Indicator => lineIndicators(line, []).find((i) => i.id === 'predictiveMaintenance')!;
    // the extruder is monitored; the inspection and the take-up can break down too; the payoff and the sinks cannot
    expect(pdm(after).value).toBe(33.3);
    expect(pdm(after).how.en).toBe('1 of 3 stations that can break down (condition); without: test, takeup');
    const set = (line: typeof spec, id: string, mtbf: number): typeof spec => ({ ...line, stations: line.stations.map((s) => (s.id === id ? { ...s, params: { ...s.params, mtbf } } : s)) });
    expect(pdm(set(after, 'dispatch', 3600)).value).toBe(25);
    expect(pdm(set(after, 'test', 0)).value).toBe(50);
  });
});

describe('grades, ranking and roadmap', () => {
  it('grades a stage against the province (48.1 %) and the leading firms (95 %); a stage without data is not assessed', () => {
    const at = (v: number): Indicator[] => [{ id: 'x', stage: 'automation', title: { en: 'x', zh: 'x' }, value: v, unit: '%', higherIsBetter: true, how: { en: '', zh: '' } }];
    expect(gradeStages(at(30))[0]).toEqual({ stage: 'automation', score: 30, level: 'behind' });
    expect(gradeStages(at(48.1))[0]!.level).toBe('average');
    expect(gradeStages(at(95))[0]!.level).toBe('leading');
    expect(gradeStages(at(95)).slice(1).map((g) => g.level)).toEqual(['not assessed', 'not assessed', 'not assessed']);
  });

  it('ranks by payback, steps that never pay back last (the smaller loss first), and orders the roadmap by stage', () => {
    const ranked = rankSteps([
      { id: 'a', economics: econ(null, -10) },
      { id: 'b', economics: econ(2.5, 100) },
      { id: 'c', economics: econ(0.8, 50) },
      { id: 'd', economics: econ(null, -1) },
    ]);
    expect(ranked.map((s) => [s.id, s.rank])).toEqual([['c', 1], ['b', 2], ['d', 3], ['a', 4]]);
    expect(roadmapOrder([
      { id: 'pdm', stage: 'intelligence', rank: 1 },
      { id: 'mes', stage: 'digital-integration', rank: 3 },
      { id: 'robot', stage: 'automation', rank: 4 },
      { id: 'vision', stage: 'automation', rank: 2 },
    ])).toEqual(['vision', 'robot', 'mes', 'pdm']);
  });
});
