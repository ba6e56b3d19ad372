import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TwinlineError, type Problem } from '../../sim/core/errors.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';

const DIR = 'test/fixtures/scenarios';

function fixture(name: string): string {
  return readFileSync(`${DIR}/${name}`, 'utf8');
}

/** The problems parseScenario throws for a fixture; fails the test if it does not throw one. */
function problemsOf(name: string, text = fixture(name)): readonly Problem[] {
  try {
    parseScenario(text, `${DIR}/${name}`);
  } catch (e) {
    expect(e).toBeInstanceOf(TwinlineError);
    return (e as TwinlineError).problems;
  }
  throw new Error(`${name} loaded without problems`);
}

/** [code, line, path] of each problem, for compact assertions. */
function summary(problems: readonly Problem[]): [string, number | undefined, string | undefined][] {
  return problems.map((p) => [p.code, p.where.line, p.where.path]);
}

const MINI = `version: 1
id: mini
title: { en: Mini, zh: 小 }
stations:
  - { id: src, kind: source, next: belt }
  - { id: belt, kind: conveyor, next: out }
  - { id: out, kind: sink }
`;

describe('scenario loader: valid files', () => {
  it('loads the minimal fixture, converting units and filling defaults', () => {
    const spec = parseScenario(fixture('minimal.yaml'), 'minimal.yaml');
    expect(spec.id).toBe('minimal');
    expect(spec.dt).toBe(0.001);
    expect(spec.kpiInterval).toBe(1);
    expect(spec.seed).toBe(7);
    expect(spec.stations.map((s) => s.id)).toEqual(['src', 'belt', 'former', 'out']);
    const [src, belt, former, out] = spec.stations;
    expect(src?.params).toEqual({ rate: 1800, slots: 2 });
    expect(belt?.params).toEqual({ length: 1, speed: 0.5, transitionTime: 0.1 });
    expect(belt?.layout).toEqual({ x: 2, z: 0, rotation: 90 });
    expect(former?.params.force).toBe(800);
    expect(former?.name).toEqual({ en: 'Former', zh: '成型机' });
    expect(out?.name).toEqual({ en: 'out', zh: 'out' });
    expect(src?.layout).toEqual({ x: 0, z: 0, rotation: 0 });
    expect(spec.faults).toEqual([{ at: 1.5, station: 'former', duration: 0.2, code: 'jam' }]);
    expect(spec.setpoints).toEqual([{ at: 2, station: 'belt', field: 'speed', value: 0.4 }]);
    expect(spec.file).toBe('minimal.yaml');
  });

  it('builds a world from the minimal fixture and runs it: parts flow, the schedule fires', () => {
    const spec = parseScenario(fixture('minimal.yaml'), 'minimal.yaml');
    const w = createWorld(spec);
    const belt = w.indexOf('belt');
    const former = w.indexOf('former');
    w.step(1000);
    expect(w.read(belt, 'speed')).toBe(0.5);
    w.step(7000);
    expect(w.tick).toBe(8000);
    expect(w.read(belt, 'speed')).toBe(0.4);
    const c = w.counters();
    expect(c.created).toBeGreaterThanOrEqual(3);
    expect(c.shipped).toBeGreaterThanOrEqual(1);
    const faults: string[] = [];
    w.drainEvents((e) => {
      if (e.type === 'fault' && e.station === 'former') faults.push(JSON.stringify(e.data));
    });
    expect(faults.length).toBeGreaterThanOrEqual(1);
    expect(w.st.partsIn[former]).toBeGreaterThanOrEqual(1);
  });

  it('fills defaults for everything optional', () => {
    const spec = parseScenario(MINI, 'mini.yaml');
    expect(spec).toMatchObject({
      version: 1, dt: 0.001, seed: 1, kpiInterval: 300, designRate: null, variant: 'other', compareWith: null,
      isa95: { line: 'mini' }, shift: { hoursPerDay: 24, shiftsPerDay: 3 }, faults: [], setpoints: [],
    });
    expect(spec.stations.map((s) => s.layout.x)).toEqual([0, 4, 8]);
    expect(spec.stations[2]?.next).toBeNull();
  });

  it('ignores the yaml-language-server modeline and comments', () => {
    const text = `# yaml-language-server: $schema=../scenarios/schema/scenario.schema.json\n${MINI}`;
    expect(parseScenario(text, 'x.yaml').id).toBe('mini');
  });

  it('keeps what the plant has around a station; a station that does not say has null', () => {
    const spec = parseScenario(MINI.replace('{ id: belt, kind: conveyor, next: out }', '{ id: belt, kind: conveyor, next: out, systems: [network, data, network] }'), 'x.yaml');
    expect(spec.stations.map((s) => s.systems)).toEqual([null, ['network', 'data'], null]);
  });

  it('stores designRate in parts per second', () => {
    const spec = parseScenario(MINI.replace('stations:', 'designRate: 220 1/h\nstations:'), 'x.yaml');
    expect(spec.designRate).toBeCloseTo(220 / 3600, 12);
  });
});

describe('scenario loader: broken files', () => {
  it('unknown machine kind: suggests the closest', () => {
    const p = problemsOf('unknown-kind.yaml');
    expect(summary(p)).toEqual([['UNKNOWN_KIND', 7, 'stations[1].kind']]);
    expect(p[0]?.message).toContain('did you mean "press"');
    expect(p[0]?.where.column).toBe(11);
  });

  it('bad unit: names the dimension found and the unit expected', () => {
    const p = problemsOf('bad-unit.yaml');
    expect(summary(p)).toEqual([['BAD_UNIT', 9, 'stations[1].params.cycleTime']]);
    expect(p[0]?.message).toMatch(/mass.*a time in s/);
    expect(p[0]?.where.column).toBe(18);
  });

  it('dangling connection: names the missing station and the closest', () => {
    const p = problemsOf('dangling-next.yaml');
    expect(summary(p)).toEqual([['SCENARIO_REFERENCE', 8, 'stations[1].next']]);
    expect(p[0]?.message).toContain('"ovens" does not exist (did you mean "oven"?)');
  });

  it('negative speed: out of range with the bound in the field unit', () => {
    const e = (() => {
      try {
        parseScenario(fixture('negative-speed.yaml'), 'scenarios/x.yaml');
      } catch (err) {
        return err as TwinlineError;
      }
      throw new Error('no error');
    })();
    expect(summary(e.problems)).toEqual([['OUT_OF_RANGE', 8, 'stations[1].params.speed']]);
    expect(e.report()).toBe('scenarios/x.yaml:8:35 stations[1].params.speed: "-0.5 m/s" is below the minimum 0 m/s [OUT_OF_RANGE]');
  });

  it('YAML syntax error: line and column from the parser', () => {
    const p = problemsOf('syntax-error.yaml');
    expect(p.length).toBeGreaterThanOrEqual(1);
    expect(p.every((x) => x.code === 'SCENARIO_SYNTAX')).toBe(true);
    expect(p[0]?.where.line).toBeGreaterThanOrEqual(5);
    expect(p[0]?.where.line).toBeLessThanOrEqual(6);
    expect(p[0]?.where.column).toBeGreaterThanOrEqual(1);
    expect(p[0]?.message).toMatch(/^YAML: /);
  });

  it('duplicate station id: points at the second one', () => {
    const p = problemsOf('duplicate-id.yaml');
    expect(summary(p)).toEqual([['SCENARIO_REFERENCE', 7, 'stations[2].id']]);
    expect(p[0]?.message).toContain('stations[1] has it already');
  });

  it('version newer than supported', () => {
    const p = problemsOf('version-too-new.yaml');
    expect(summary(p)).toEqual([['SCENARIO_VERSION', 2, 'version']]);
    expect(p[0]?.message).toContain('up to 1');
  });

  it('wrong type: says what was expected and what was found', () => {
    const p = problemsOf('wrong-type.yaml');
    expect(summary(p)).toEqual([['SCENARIO_SCHEMA', 4, 'seed']]);
    expect(p[0]?.message).toBe('expected an integer seed, got "seven"');
  });

  it('an unknown system around a station: names the ones there are, at its place', () => {
    const p = problemsOf('x.yaml', MINI.replace('{ id: belt, kind: conveyor, next: out }', '{ id: belt, kind: conveyor, next: out, systems: [network, scada] }'));
    expect(summary(p)).toEqual([['SCENARIO_SCHEMA', 6, 'stations[1].systems[1]']]);
    expect(p[0]?.message).toMatch(/^expected one of "network", "data", "spc", "meter", "condition", "trace"/);
  });

  it('several errors in one file: reports all of them in file order', () => {
    const p = problemsOf('several-errors.yaml');
    expect(summary(p)).toEqual([
      ['SCENARIO_SCHEMA', 4, 'kpiIntervall'],
      ['UNKNOWN_PARAM', 11, 'stations[1].params.sped'],
      ['BAD_UNIT', 12, 'stations[1].params.pitch'],
      ['SCENARIO_REFERENCE', 16, 'faults[0].station'],
      ['NOT_ALLOWED', 18, 'setpoints[0].field'],
    ]);
    expect(p[0]?.message).toContain('did you mean "kpiInterval"');
    expect(p[1]?.message).toContain('did you mean "speed"');
    expect(p.every((x) => x.where.file === `${DIR}/several-errors.yaml` && (x.where.column ?? 0) >= 1)).toBe(true);
  });
});

describe('scenario loader: line checks', () => {
  const line = (stations: string, extra = ''): string => `version: 1\nid: t\ntitle: { en: T, zh: T }\n${extra}stations:\n${stations}`;

  it.each([
    ['no source', '  - { id: a, kind: press, next: out }\n  - { id: out, kind: sink }\n', 'SCENARIO_REFERENCE', 5, 'stations', 'no source'],
    ['a loop', '  - { id: s, kind: source, next: a }\n  - { id: a, kind: press, next: b }\n  - { id: b, kind: press, next: a }\n  - { id: out, kind: sink }\n', 'SCENARIO_REFERENCE', 7, 'stations[2].next', 'a → b → a'],
    ['a dead end', '  - { id: s, kind: source, next: a }\n  - { id: a, kind: press }\n  - { id: out, kind: sink }\n', 'SCENARIO_REFERENCE', 6, 'stations[1].next', 'passes its parts nowhere'],
    ['parts into a source', '  - { id: s, kind: source, next: a }\n  - { id: a, kind: press, next: out, reject: s }\n  - { id: out, kind: sink }\n', 'SCENARIO_REFERENCE', 6, 'stations[1].reject', 'is a source'],
    ['a sink with next', '  - { id: s, kind: source, next: a }\n  - { id: a, kind: press, next: out }\n  - { id: out, kind: sink, next: a }\n', 'SCENARIO_REFERENCE', 7, 'stations[2].next', 'is a sink and ends the line'],
    ['unknown parameter', '  - { id: s, kind: source, params: { rte: 5 }, next: out }\n  - { id: out, kind: sink }\n', 'UNKNOWN_PARAM', 5, 'stations[0].params.rte', 'did you mean "rate"'],
    ['read-only parameter', '  - { id: s, kind: source, params: { released: 5 }, next: out }\n  - { id: out, kind: sink }\n', 'NOT_ALLOWED', 5, 'stations[0].params.released', 'read-only'],
    ['integer parameter', '  - { id: s, kind: source, params: { slots: 2.5 }, next: out }\n  - { id: out, kind: sink }\n', 'OUT_OF_RANGE', 5, 'stations[0].params.slots', 'whole number'],
    ['missing kind', '  - { id: s, next: out }\n  - { id: out, kind: sink }\n', 'SCENARIO_SCHEMA', 5, 'stations[0].kind', 'missing required key "kind"'],
    ['bad station id', '  - { id: "Big Src", kind: source, next: out }\n  - { id: out, kind: sink }\n', 'SCENARIO_SCHEMA', 5, 'stations[0].id', 'lower-case'],
  ])('reports %s', (_name, stations, code, line1, path, text) => {
    const p = problemsOf('inline.yaml', line(stations));
    expect(summary(p)[0]).toEqual([code, line1, path]);
    expect(p[0]?.message).toContain(text);
  });

  it('checks setpoints against the station kind', () => {
    const st = '  - { id: s, kind: source, next: k }\n  - { id: k, kind: kiln, next: out }\n  - { id: out, kind: sink }\n';
    const sp = (s: string): string => `setpoints:\n  - ${s}\n`;
    const ok = parseScenario(`${line(st)}${sp('{ at: 3 h, station: k, field: sp2, value: 2282 °F }')}`, 'x.yaml');
    expect(ok.setpoints[0]?.value).toBeCloseTo(1250, 9);
    expect(ok.setpoints[0]?.at).toBe(10800);
    expect(summary(problemsOf('x', `${line(st)}${sp('{ at: 3 h, station: k, field: sp9, value: 1 }')}`))).toEqual([['UNKNOWN_PARAM', 9, 'setpoints[0].field']]);
    expect(summary(problemsOf('x', `${line(st)}${sp('{ at: 3 h, station: k, field: t1, value: 1 }')}`))).toEqual([['NOT_ALLOWED', 9, 'setpoints[0].field']]);
    expect(summary(problemsOf('x', `${line(st)}${sp('{ at: 3 h, station: k, field: sp1, value: 5 kW }')}`))).toEqual([['BAD_UNIT', 9, 'setpoints[0].value']]);
    expect(summary(problemsOf('x', `${line(st)}${sp('{ at: 3 h, station: q, field: sp1, value: 5 }')}`))).toEqual([['SCENARIO_REFERENCE', 9, 'setpoints[0].station']]);
  });

  it('reports non-mapping documents and empty files', () => {
    expect(summary(problemsOf('x', ''))).toEqual([['SCENARIO_SCHEMA', 1, '']]);
    expect(summary(problemsOf('x', '- a\n- b\n'))).toEqual([['SCENARIO_SCHEMA', 1, '']]);
    expect(summary(problemsOf('x', 'a: 1\na: 2\n'))[0]?.[0]).toBe('SCENARIO_SYNTAX');
  });

  it('keeps aliases in check', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let k = 1; k < 8; k++) bomb.push(`${String.fromCharCode(97 + k)}: &${String.fromCharCode(97 + k)} [${Array(10).fill(`*${String.fromCharCode(96 + k)}`).join(', ')}]`);
    const p = problemsOf('x', `${bomb.join('\n')}\n`);
    expect(p[0]?.code).toBe('SCENARIO_SYNTAX');
  });
});
