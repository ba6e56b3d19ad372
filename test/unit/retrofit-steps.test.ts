/**
 * Retrofit steps as data (scenarios/retrofits/): every step file is valid, grounded in a source
 * document and applies to a built-in line; applying steps to a baseline reproduces the
 * hand-written after files (structure at once, and the steel-ball line's labour and output in
 * a short run); steps that do not apply, bad files and bad crew changes are errors naming them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TwinlineError } from '../../sim/core/errors.ts';
import { computeKpis, kpiBase } from '../../sim/core/kpi.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { applyRetrofits, scenarioRecord } from '../../sim/line/retrofit.ts';
import { parseRetrofit, type RetrofitStep } from '../../sim/line/retrofit-schema.ts';
import type { LineSpec } from '../../sim/line/types.ts';
import { buildRetrofit, loadRetrofit, retrofitIds, retrofitList } from '../../sim/host/retrofits.ts';

const DIR = 'scenarios/retrofits';
const STEP_FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const LINES = readdirSync('scenarios').filter((f) => f.endsWith('.yaml')).sort();

const scenario = (name: string): { text: string; spec: LineSpec } => {
  const file = `scenarios/${name}.yaml`;
  const text = readFileSync(file, 'utf8');
  return { text, spec: parseScenario(text, file) };
};

function errorOf(f: () => unknown): TwinlineError {
  try {
    f();
  } catch (e) {
    if (e instanceof TwinlineError) return e;
    throw e;
  }
  throw new Error('expected a TwinlineError');
}

describe('retrofit step files', () => {
  it('are there for the plan items the built-in lines can express', () => {
    expect(retrofitIds()).toEqual(expect.arrayContaining(['automatic-knockout', 'automatic-pouring', 'machine-vision-inspection', 'robot-handling']));
    expect(retrofitIds()).toEqual(STEP_FILES.map((f) => f.replace(/\.yaml$/, '')));
  });

  it.each(STEP_FILES)('%s is valid, names its source and applies to a built-in line, which still loads', (f) => {
    const step = parseRetrofit(readFileSync(`${DIR}/${f}`, 'utf8'), `${DIR}/${f}`);
    // the source documents of shared seeds: 000 news reports … 004 Huangshi diagnosis
    expect(['000', '001', '002', '003', '004']).toContain(step.source.document);
    expect(step.title.zh.length).toBeGreaterThan(0);
    expect(step.capex).toBeGreaterThan(0);
    const fits = LINES.map((l) => l.replace(/\.yaml$/, '')).filter((l) => {
      const s = scenario(l);
      try {
        const b = applyRetrofits(scenarioRecord(s.text), s.spec, [step]);
        expect(b.spec.compareWith).toBe(s.spec.id);
        expect(b.spec.variant).toBe('after');
        expect(b.applied[0]!.stations.length).toBeGreaterThan(0);
        return true;
      } catch (e) {
        if (e instanceof TwinlineError && /does not apply/.test(e.message)) return false;
        throw e;
      }
    });
    expect(fits.length, `${step.id} applies to no built-in line`).toBeGreaterThan(0);
  });

  it('report shape errors with file, line and path', () => {
    const bad = `version: 1
id: my-step
title: { en: "x", zh: "x" }
description: { en: "x", zh: "x" }
stage: automation
source: { document: "3", item: "x" }
appliesTo: { kinds: [press] }
changes:
  - params: { cycleTime: "fast" }
capex: -5
colour: red
`;
    const e = errorOf(() => parseRetrofit(bad, '/tmp/my-step.yaml'));
    const r = e.report();
    expect(r).toMatch(/\/tmp\/my-step\.yaml:6:\d+ source\.document: expected a three-digit document number/);
    expect(r).toMatch(/my-step\.yaml:9:\d+ changes\[0\]\.params\.cycleTime: expected a number or a "<number> <unit>"/);
    expect(r).toMatch(/my-step\.yaml:10:\d+ capex: /);
    expect(r).toMatch(/my-step\.yaml:11:\d+ colour: unknown key "colour"/);
    const named = errorOf(() => parseRetrofit(bad.replace('"3"', '"003"').replace('"fast"', '10 s').replace('-5', '5').replace('colour: red\n', ''), '/tmp/other.yaml'));
    expect(named.report()).toMatch(/other\.yaml:2:\d+ id: the step id "my-step" must be the file name/);
  });
});

describe('applying steps', () => {
  it('steel-ball-before + automatic pouring, knock-out and robot handling is steel-ball-after on the changed stations and crews', () => {
    const b = scenario('steel-ball-before');
    const built = buildRetrofit(b.text, b.spec, ['automatic-pouring', 'automatic-knockout', 'robot-handling']);
    const after = scenario('steel-ball-after').spec;
    expect(built.spec.id).toBe('steel-ball-before+automatic-pouring+automatic-knockout+robot-handling');
    expect(built.applied).toEqual([{ id: 'automatic-pouring', stations: ['pour'] }, { id: 'automatic-knockout', stations: ['shake'] }, { id: 'robot-handling', stations: ['handle'] }]);
    for (const id of ['pour', 'shake', 'handle']) {
      const x = built.spec.stations.find((s) => s.id === id)!;
      const y = after.stations.find((s) => s.id === id)!;
      expect([x.kind, x.params], id).toEqual([y.kind, y.params]);
    }
    // the rest of the line is the baseline's
    expect(built.spec.stations.filter((s) => !['pour', 'shake', 'handle'].includes(s.id))).toEqual(b.spec.stations.filter((s) => !['pour', 'shake', 'handle'].includes(s.id)));
    // the same people serve the same stations with the same skills (crew ids and sizes may differ)
    const areas = (s: LineSpec): string[] => s.crews.map((c) => `${[...c.skills].sort().join('+')}: ${c.stations.map((a) => `${a.station}×${a.places}`).sort().join(' ')}`).sort();
    expect(areas(built.spec)).toEqual(areas(after));
    expect(b.spec.crews.map((c) => c.id)).toEqual(['melters', 'pourers', 'knockout', 'finishing']);
  });

  it('ceramic-before + machine vision is ceramic-after at inspection and sorting, and the inspection team is gone', () => {
    const b = scenario('ceramic-before');
    const built = buildRetrofit(b.text, b.spec, ['machine-vision-inspection']);
    const after = scenario('ceramic-after').spec;
    for (const id of ['inspect', 'sort']) {
      const x = built.spec.stations.find((s) => s.id === id)!;
      const y = after.stations.find((s) => s.id === id)!;
      expect([x.kind, x.params], id).toEqual([y.kind, y.params]);
    }
    expect(built.spec.crews.map((c) => c.id)).toEqual(after.crews.map((c) => c.id));
  });

  it.each([
    ['cable', 'spc-extrusion'],
    ['spring', 'device-networking'],
    ['toilet-module', 'mes-dispatch'],
    ['bearing', 'traceability'],
  ])('%s-before + %s is the after file of that line at every station, systems included; the step does not apply to the after line', (line, step) => {
    const b = scenario(`${line}-before`);
    const built = buildRetrofit(b.text, b.spec, [step]);
    const a = scenario(`${line}-after`);
    for (const x of built.spec.stations) {
      const y = a.spec.stations.find((s) => s.id === x.id)!;
      expect([x.kind, x.params, x.systems], x.id).toEqual([y.kind, y.params, y.systems]);
    }
    expect(errorOf(() => buildRetrofit(a.text, a.spec, [step])).message).toMatch(new RegExp(`does not apply to ${line}-after`));
  });

  it('steel-ball-before with the steps does the work of steel-ball-after: same good parts, energy and labour over 3 h at a 10 ms tick', () => {
    const b = scenario('steel-ball-before');
    const built = buildRetrofit(b.text, b.spec, ['automatic-pouring', 'automatic-knockout', 'robot-handling']).spec;
    const after = scenario('steel-ball-after').spec;
    const run = (spec: LineSpec): ReturnType<typeof computeKpis> => {
      const w = createWorld({ ...spec, dt: 0.01 });
      w.step(Math.round((1.5 * 3600) / 0.01));
      const base = kpiBase(w);
      w.step(Math.round((1.5 * 3600) / 0.01));
      return computeKpis(w, base);
    };
    const x = run(built);
    const y = run(after);
    expect(y.good).toBeGreaterThan(50);
    expect(Math.abs(x.good - y.good)).toBeLessThanOrEqual(Math.max(1, 0.02 * y.good));
    expect(x.energyKWh).toBeCloseTo(y.energyKWh, 0);
    expect(x.operators).toBe(y.operators);
    expect(x.labourHours).toBeCloseTo(y.labourHours, 1);
    expect(x.labour.workedHours).toBeCloseTo(y.labour.workedHours, 1);
  }, 240_000);

  it('a step that does not apply to the line is an error naming the step and the line', () => {
    const c = scenario('ceramic-before');
    const e = errorOf(() => buildRetrofit(c.text, c.spec, ['automatic-pouring']));
    expect(e.message).toMatch(/retrofit step "automatic-pouring" does not apply to ceramic-before: no station has kind pouring, automatic = 0/);
    expect(e.where.file).toMatch(/automatic-pouring\.yaml$/);
    // already automatic: the condition on the pouring station's parameters fails
    const a = scenario('steel-ball-after');
    expect(errorOf(() => buildRetrofit(a.text, a.spec, ['automatic-pouring'])).message).toMatch(/does not apply to steel-ball-after/);
    const s = scenario('steel-ball-before');
    expect(errorOf(() => buildRetrofit(s.text, s.spec, ['robot-handling', 'robot-handling'])).message).toMatch(/listed twice/);
  });

  it('a step may select by comparing parameters: device networking goes wherever stops are found on rounds', () => {
    // the cable line's extruder, its stops found on 15-minute rounds: the step now applies there
    const b = scenario('cable-before');
    const text = b.text.replace('mtbf: 150 h, mttr: 3 h }', 'mtbf: 150 h, mttr: 3 h, patrolTime: 15 min }');
    expect(text).not.toBe(b.text);
    const rounds = parseScenario(text, 'cable-rounds.yaml');
    const built = buildRetrofit(text, rounds, ['device-networking']);
    expect(built.applied).toEqual([{ id: 'device-networking', stations: ['extruder'] }]);
    expect(built.spec.stations.find((st) => st.id === 'extruder')!.params.stopAlert).toBe(1);
    // without rounds it does not apply, and says what it looked for
    expect(errorOf(() => buildRetrofit(b.text, b.spec, ['device-networking'])).message)
      .toMatch(/does not apply to cable-before: no station has patrolTime > 0, stopAlert = 0 \(appliesTo\)/);
    // each comparison, in the field's unit
    const at = (where: NonNullable<RetrofitStep['appliesTo']['where']>): string[] =>
      applyRetrofits(scenarioRecord(text), rounds, [{ ...loadRetrofit('device-networking'), appliesTo: { where } }]).applied[0]!.stations;
    expect(at({ patrolTime: { ge: '15 min' } })).toEqual(['extruder']);
    expect(at({ patrolTime: { gt: 899, lt: 901 } })).toEqual(['extruder']);
    expect(at({ patrolTime: { le: 900, ne: 0 } })).toEqual(['extruder']);
    expect(errorOf(() => at({ patrolTime: { gt: '15 min' } })).message).toMatch(/no station has patrolTime > 15 min/);
  });

  it('a where comparison that compares nothing is a shape error', () => {
    const bad = readFileSync(`${DIR}/device-networking.yaml`, 'utf8').replace('{ patrolTime: { gt: 0 }, stopAlert: 0 }', '{ patrolTime: {}, stopAlert: 0 }');
    expect(errorOf(() => parseRetrofit(bad, '/tmp/dn.yaml')).report()).toMatch(/appliesTo\.where\.patrolTime.*give at least one of gt, ge, lt, le, ne/);
  });

  it('unknown steps get a did-you-mean; an empty entry is a usage error', () => {
    expect(errorOf(() => loadRetrofit('robot-handlin')).message).toMatch(/unknown retrofit step "robot-handlin" \(did you mean "robot-handling"\?\); retrofit steps: automatic-knockout/);
    expect(errorOf(() => retrofitList('a,,b')).message).toMatch(/--retrofit takes step ids/);
  });

  it('crew changes: repairs handed to a crew, sizes, and changes that make an invalid line are named', () => {
    const b = scenario('steel-ball-before');
    const step = (over: Partial<RetrofitStep>): RetrofitStep => ({ ...loadRetrofit('robot-handling'), ...over });
    const resized = applyRetrofits(scenarioRecord(b.text), b.spec, [step({ crews: { release: true, resize: [{ crew: 'finishing', size: 3 }] } })]).spec;
    expect(resized.crews.find((c) => c.id === 'finishing')!.size).toBe(3);
    // without repairsBy nobody takes the robot's repairs: it leaves the crews
    expect(resized.crews.some((c) => c.stations.some((a) => a.station === 'handle'))).toBe(false);
    const knockout = resized.crews.find((c) => c.id === 'knockout')!;
    expect(knockout.stations.map((a) => a.station)).toEqual(['shake']);
    expect(errorOf(() => applyRetrofits(scenarioRecord(b.text), b.spec, [step({ crews: { resize: [{ crew: 'nobody', size: 1 }] } })])).message).toMatch(/resizes crew "nobody", which the line does not have/);
    expect(errorOf(() => applyRetrofits(scenarioRecord(b.text), b.spec, [step({ crews: { repairsBy: { kinds: ['vision'] } } })])).message).toMatch(/no crew works at a station with kind vision/);
    const bad = errorOf(() => applyRetrofits(scenarioRecord(b.text), b.spec, [step({ changes: [{ kind: 'robot', params: { cycleTim: 20 } }] })]));
    expect(bad.report()).toMatch(/robot-handling\.yaml: retrofit step "robot-handling" on steel-ball-before makes an invalid line: stations\[5\]\.params\.cycleTim: .*cycleTime/);
  });
});
