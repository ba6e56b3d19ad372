/**
 * What `validate` says about files it cannot take: the stated limits (text size, stations,
 * faults and setpoints), YAML syntax errors at the line they start on, files that are not
 * UTF-8, quantities that are not quantities, a capped report for a file full of mistakes;
 * and the helpers behind the CLI's messages (scenario names, "did you mean" for options,
 * the steady-state warning, node-opcua's PKCS#1 warning filter).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TwinlineError, type Problem } from '../../sim/core/errors.ts';
import { computeKpis } from '../../sim/core/kpi.ts';
import { createWorld } from '../../sim/line/build.ts';
import { MAX_SCENARIO_BYTES, MAX_SCHEDULED, MAX_STATIONS } from '../../sim/line/limits.ts';
import { MAX_PROBLEMS } from '../../sim/line/locate.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { decodeScenario, firstNonUtf8 } from '../../sim/line/text.ts';
import { unknownOption } from '../../sim/host/args.ts';
import { builtinScenarioNames, resolveScenarioFile } from '../../sim/host/record.ts';
import { steadyStateWarnings } from '../../sim/host/run.ts';
import { SimEngine } from '../../sim/worker/engine.ts';
import { scenarioOfStations } from '../fixtures/big-scenario.ts';

const MINIMAL = readFileSync('test/fixtures/scenarios/minimal.yaml', 'utf8');

function problemsOf(text: string, file = 'f.yaml'): Problem[] {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof TwinlineError) return [...e.problems];
    throw e;
  }
  throw new Error('the scenario was accepted');
}

const HEAD = 'version: 1\nid: t\ntitle: { en: "T", zh: "T" }\nstations:\n';

describe('limits', () => {
  it('refuses text over MAX_SCENARIO_BYTES before parsing, naming the limit', () => {
    const p = problemsOf(`${HEAD}${' '.repeat(MAX_SCENARIO_BYTES)}`);
    expect(p).toHaveLength(1);
    expect(p[0]?.code).toBe('CAPACITY');
    expect(p[0]?.message).toContain('MAX_SCENARIO_BYTES');
    expect(p[0]?.message).toContain('16.0 MiB');
  });

  it('refuses more than MAX_STATIONS stations before checking or building them', () => {
    const p = problemsOf(`${HEAD}${'  - 0\n'.repeat(MAX_STATIONS + 1)}`);
    expect(p).toHaveLength(1);
    expect(p[0]?.code).toBe('CAPACITY');
    expect(p[0]?.message).toMatch(/100,001 stations; a scenario may have at most 100,000 \(limit MAX_STATIONS\)/);
    expect(p[0]?.where.path).toBe('stations');
    expect(p[0]?.where.line).toBe(5);
  });

  it('refuses more than MAX_SCHEDULED faults', () => {
    const p = problemsOf(`${scenarioOfStations(3)}faults:\n${'  - 0\n'.repeat(MAX_SCHEDULED + 1)}`);
    expect(p[0]?.code).toBe('CAPACITY');
    expect(p[0]?.message).toContain('limit MAX_SCHEDULED');
  });

  it('accepts a generated line and builds it', () => {
    const spec = parseScenario(scenarioOfStations(2000), 'big.yaml');
    expect(spec.stations).toHaveLength(2000);
    expect(createWorld(spec).size).toBe(2000);
  });

  it('lists the first MAX_PROBLEMS problems and counts the rest', () => {
    const lines = Array.from({ length: 300 }, (_, k) => `  - { id: p${k}, kind: press, next: nowhere${k} }\n`).join('');
    const p = problemsOf(`${HEAD}  - { id: src, kind: source, next: p0 }\n${lines}  - { id: out, kind: sink }\n`);
    expect(p).toHaveLength(MAX_PROBLEMS + 1);
    expect(p[MAX_PROBLEMS]?.message).toBe(`… and 100 more problems (the first ${MAX_PROBLEMS} are listed)`);
    expect(p[0]?.message).toContain('"nowhere0" does not exist');
  });
});

describe('messages', () => {
  it('an unclosed quote on line 6 is reported once, at line 6', () => {
    const text = `${HEAD}  - { id: src, kind: source, next: out }\n  - { id: out, kind: "sink }\n  - { id: x, kind: sink }\n`;
    const p = problemsOf(text);
    expect(p).toHaveLength(1);
    expect(p[0]?.code).toBe('SCENARIO_SYNTAX');
    expect(p[0]?.where.line).toBe(6);
    expect(p[0]?.where.column).toBe(22);
    expect(p[0]?.message).toContain('never closed (missing closing ")');
  });

  it('an unclosed single quote in block style is found where it opens', () => {
    const p = problemsOf(`${HEAD}  - id: src\n    kind: source\n    next: 'out\n  - id: out\n    kind: sink\n`);
    expect(p).toHaveLength(1);
    expect(p[0]?.where.line).toBe(7);
    expect(p[0]?.message).toContain("missing closing '");
  });

  it('a cascade of syntax errors is cut to a few lines', () => {
    const p = problemsOf(`\n  ${MINIMAL.slice(1)}`);
    expect(p.length).toBeLessThanOrEqual(11);
    expect(p[p.length - 1]?.message).toMatch(/more syntax errors after line/);
  });

  it('cycleTime: twelve says what was expected and where', () => {
    const p = problemsOf(`${HEAD}  - { id: src, kind: source, next: p }\n  - { id: p, kind: press, next: out, params: { cycleTime: twelve } }\n  - { id: out, kind: sink }\n`);
    expect(p).toHaveLength(1);
    expect(p[0]?.message).toBe('expected a number or a "<number> <unit>" string such as "12 s", got "twelve"');
    expect(p[0]?.where).toMatchObject({ line: 6, column: 59, path: 'stations[1].params.cycleTime' });
  });

  it('version, at and isa95 are optional, with the defaults README states', () => {
    const spec = parseScenario('id: t\ntitle: { en: "T", zh: "T" }\nstations:\n  - { id: src, kind: source, next: out }\n  - { id: out, kind: sink }\n', 'f.yaml');
    expect(spec.isa95).toEqual({ enterprise: 'Twinline', site: 'Plant', area: 'Production', line: 't' });
    expect(spec.stations.map((s) => s.layout)).toEqual([{ x: 0, z: 0, rotation: 0 }, { x: 4, z: 0, rotation: 0 }]);
  });
});

describe('UTF-8', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('decodes UTF-8, Chinese text included', () => {
    expect(decodeScenario(enc('title: { zh: "陶瓷" }\n'), 'f.yaml')).toBe('title: { zh: "陶瓷" }\n');
  });

  it('names a Latin-1 byte inside a string as not UTF-8, with its line and column', () => {
    const head = enc('version: 1\nid: t\ntitle: { en: "Caf');
    const bytes = new Uint8Array([...head, 0xe9, ...enc('", zh: "T" }\n')]);
    expect(firstNonUtf8(bytes)).toBe(head.length);
    const e = (() => {
      try {
        decodeScenario(bytes, 'latin1.yaml');
      } catch (x) {
        return x as TwinlineError;
      }
      throw new Error('decoded');
    })();
    expect(e.code).toBe('SCENARIO_SYNTAX');
    expect(e.message).toContain('not UTF-8 text: byte 0xE9 at line 3, column 18');
    expect(e.where).toMatchObject({ file: 'latin1.yaml', line: 3, column: 18 });
  });

  it('names UTF-16 files', () => {
    expect(() => decodeScenario(new Uint8Array([0xff, 0xfe, 0x76, 0]), 'u16.yaml')).toThrow(/UTF-16/);
  });

  it('refuses overlong forms and surrogates', () => {
    expect(firstNonUtf8(new Uint8Array([0x41, 0xc0, 0xaf]))).toBe(1);
    expect(firstNonUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(0);
    expect(firstNonUtf8(new Uint8Array([0xf0, 0x9f, 0x98, 0x80]))).toBe(-1);
  });
});

describe('sources and sinks', () => {
  it('do not break down unless the scenario gives them an MTBF', () => {
    const text = MINIMAL.replace('    kind: sink\n', '    kind: sink\n    params: { mtbf: 1 min }\n');
    // a 10 ms tick keeps the two simulated hours short; failures integrate with dt
    const w = createWorld({ ...parseScenario(MINIMAL, 'm.yaml'), dt: 0.01 });
    expect(w.read(w.indexOf('src'), 'mtbf')).toBe(0);
    expect(w.read(w.indexOf('out'), 'mtbf')).toBe(0);
    expect(w.read(w.indexOf('former'), 'mtbf')).toBe(200 * 3600);
    const given = createWorld({ ...parseScenario(text, 'm.yaml'), dt: 0.01 });
    expect(given.read(given.indexOf('out'), 'mtbf')).toBe(60);
    // with MTBF 1 min the sink fails within 2 h; without one, never
    given.step(2 * 3600 * 100);
    w.step(2 * 3600 * 100);
    const failures = (x: typeof w, id: string): number => computeKpis(x).stations.find((s) => s.id === id)?.failures ?? -1;
    expect(failures(given, 'out')).toBeGreaterThan(0);
    expect(failures(w, 'out')).toBe(0);
    expect(failures(w, 'src')).toBe(0);
  });
});

describe('warm-up', () => {
  it('KPIs after markKpiStart cover only what came after it', () => {
    const e = new SimEngine({ defer: (fn) => setImmediate(fn) });
    const r = e.load(MINIMAL, 'm.yaml');
    expect(r.ok).toBe(true);
    e.step(60_000);
    const at60 = e.state().kpis;
    expect(e.markKpiStart()).toBe(60_000);
    e.step(60_000);
    const whole = computeKpis((e as unknown as { world: Parameters<typeof computeKpis>[0] }).world);
    const after = e.state().kpis;
    expect(after.fromHours).toBeCloseTo(60 / 3600, 3);
    expect(after.simHours).toBeCloseTo(60 / 3600, 3);
    expect(after.shipped).toBe(whole.shipped - at60.shipped);
    expect(after.created).toBe(whole.created - at60.created);
    expect(after.shipped).toBeGreaterThan(0);
  });

  it('warns while the fill is inside the measured window, not after a long enough warm-up', () => {
    expect(steadyStateWarnings({ hours: 8, warmupHours: 0, fillHours: 2.6, runHours: 8, interrupted: false })[0]).toMatch(/took 2.60 h to fill .*include the fill.*--warmup 2.6h/);
    expect(steadyStateWarnings({ hours: 8, warmupHours: 3, fillHours: 2.6, runHours: 11, interrupted: false })).toEqual([]);
    expect(steadyStateWarnings({ hours: 1, warmupHours: 0, fillHours: null, runHours: 1, interrupted: false })[0]).toMatch(/no part left the last station in 1.00 h/);
  });
});

describe('CLI helpers', () => {
  it('resolves built-in scenario names and lists them otherwise', () => {
    expect(resolveScenarioFile('ceramic-after')).toMatch(/scenarios\/ceramic-after\.yaml$/);
    expect(builtinScenarioNames()).toEqual(['bearing-after', 'bearing-before', 'cable-after', 'cable-before', 'ceramic-after', 'ceramic-before', 'spring-after', 'spring-before', 'steel-ball-after', 'steel-ball-before', 'toilet-module-after', 'toilet-module-before']);
    expect(() => resolveScenarioFile('ceramic-aftr')).toThrow(/no such scenario file or name \(did you mean "ceramic-after"\?\); built-in scenarios: bearing-after, bearing-before, cable-after, cable-before, ceramic-after, ceramic-before/);
  });

  it('suggests the closest option', () => {
    expect(unknownOption('--huors=3', ['hours', 'seed', 'warmup'], 'run').message).toBe('unknown option --huors for "run" (did you mean --hours?)');
    expect(unknownOption('--zzzzzz', ['hours'], 'run').message).toBe('unknown option --zzzzzz for "run"');
  });
});
