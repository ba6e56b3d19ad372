import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TwinlineError } from '../../sim/core/errors.ts';
import { MIGRATIONS, migrate } from '../../sim/line/migrate.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { SCENARIO_VERSION } from '../../sim/line/schema.ts';

const DIR = 'test/fixtures/scenarios';

/** The same line as the v0 fixture, written as version 1. */
const V1_EQUIVALENT = `version: 1
id: v0-line
title: { en: "Version 0 line", zh: "第0版产线" }
isa95: { line: "Line 7" }
stations:
  - { id: src, kind: source, at: { x: 0, z: 0, rotation: 0 }, next: belt }
  - { id: belt, kind: conveyor, at: { x: 2 m, z: 500 mm }, params: { length: 2 m }, next: out }
  - { id: out, kind: sink, at: { x: 5, z: -1 } }
`;

function problems(text: string): TwinlineError {
  try {
    parseScenario(text, 'x.yaml');
  } catch (e) {
    if (e instanceof TwinlineError) return e;
    throw e;
  }
  throw new Error('loaded without problems');
}

describe('scenario migrations', () => {
  it('has one step per version, in order, up to the current one', () => {
    expect(MIGRATIONS.map((m) => m.from)).toEqual(Array.from({ length: SCENARIO_VERSION }, (_, k) => k));
    for (const m of MIGRATIONS) expect(m.summary.length).toBeGreaterThan(10);
  });

  it('upgrades a v0 record: version, isa95.line, at', () => {
    const m = migrate({ id: 'a', line: 'L', stations: [{ id: 's', position: [1, '2 m'] }, { id: 't' }] }, 0);
    expect(m.doc).toEqual({ version: 1, id: 'a', isa95: { line: 'L' }, stations: [{ id: 's', at: { x: 1, z: '2 m', rotation: 0 } }, { id: 't' }] });
    expect(m.from).toBe(0);
    expect(m.issues).toEqual([]);
    expect(m.moves).toContainEqual({ to: ['stations', 0, 'at', 'z'], from: ['stations', 0, 'position', 1] });
    expect(m.moves).toContainEqual({ to: ['isa95', 'line'], from: ['line'] });
  });

  it('leaves a current record alone', () => {
    const doc = { version: 1, id: 'a', stations: [] };
    const m = migrate(doc, 1);
    expect(m.doc).toBe(doc);
    expect(m.moves).toEqual([]);
  });

  it('loads a v0 file into the same LineSpec as its v1 rewrite', () => {
    const old = parseScenario(readFileSync(`${DIR}/v0-line.yaml`, 'utf8'), 'v0.yaml');
    const now = parseScenario(V1_EQUIVALENT, 'v0.yaml');
    expect(old).toEqual(now);
    expect(old.version).toBe(SCENARIO_VERSION);
    expect(old.isa95.line).toBe('Line 7');
    expect(old.stations[1]?.layout).toEqual({ x: 2, z: 0.5, rotation: 0 });
  });

  it('reads an explicit version 0 like a missing one', () => {
    const text = readFileSync(`${DIR}/v0-line.yaml`, 'utf8').replace('id: v0-line', 'version: 0\nid: v0-line');
    expect(parseScenario(text, 'x.yaml').isa95.line).toBe('Line 7');
  });

  it('reports problems in a v0 file where they are in the file', () => {
    const e = problems(readFileSync(`${DIR}/v0-bad-position.yaml`, 'utf8'));
    expect(e.problems.map((p) => [p.code, p.where.line, p.where.path])).toEqual([
      ['BAD_UNIT', 5, 'stations[0].position[1]'],
      ['SCENARIO_SCHEMA', 6, 'stations[1].position'],
    ]);
    expect(e.problems[0]?.where.column).toBe(44);
  });

  it('maps a type error inside a migrated key back to the v0 key', () => {
    const e = problems('id: a\ntitle: { en: A, zh: A }\nline: 7\nstations:\n  - { id: s, kind: source, next: o }\n  - { id: o, kind: sink }\n');
    expect(e.problems.map((p) => [p.code, p.where.line, p.where.path])).toEqual([['SCENARIO_SCHEMA', 3, 'line']]);
    expect(e.problems[0]?.message).toContain('expected a text, got 7');
  });

  it('flags a v1 file that forgot its version but has both line and isa95.line', () => {
    const e = problems('id: a\ntitle: { en: A, zh: A }\nisa95: { line: X }\nline: Y\nstations:\n  - { id: s, kind: source, next: o }\n  - { id: o, kind: sink }\n');
    expect(e.problems.map((p) => [p.code, p.where.line, p.where.path])).toEqual([['SCENARIO_SCHEMA', 4, 'line']]);
  });

  it('rejects versions that are not whole numbers', () => {
    for (const v of ['"1"', '1.5', '-1', 'null']) {
      const e = problems(`version: ${v}\nid: a\n`);
      expect(e.code).toBe('SCENARIO_VERSION');
      expect(e.where.line).toBe(1);
      expect(e.where.path).toBe('version');
    }
  });
});
