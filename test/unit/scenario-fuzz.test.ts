import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { TwinlineError } from '../../sim/core/errors.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import type { LineSpec } from '../../sim/line/types.ts';

const FILE = 'fuzz.yaml';
const VALID = readFileSync('test/fixtures/scenarios/minimal.yaml', 'utf8');
const VALID_DOC: unknown = parseYaml(VALID);

/**
 * The loader's contract: a LineSpec, or a TwinlineError whose every problem has a code, a
 * message and a location in the file. Anything else (another exception, an empty problem list)
 * fails the property.
 */
function loadOrReport(text: string): LineSpec | TwinlineError {
  try {
    return parseScenario(text, FILE);
  } catch (e) {
    if (!(e instanceof TwinlineError)) throw new Error(`not a TwinlineError: ${String(e)}`);
    expect(e.problems.length).toBeGreaterThanOrEqual(1);
    // The loader's last-resort catch turns its own bugs into this message; fuzzing must not reach it.
    expect(e.message).not.toContain('could not be read');
    for (const p of e.problems) {
      expect(p.code).toMatch(/^[A-Z_]+$/);
      expect(p.message.length).toBeGreaterThan(0);
      expect(p.where.file).toBe(FILE);
      expect(p.where.line).toBeGreaterThanOrEqual(1);
      expect(p.where.column).toBeGreaterThanOrEqual(1);
    }
    return e;
  }
}

/** An accepted scenario must also build and run: the loader's checks cover the world's. */
function mustRun(r: LineSpec | TwinlineError): void {
  if (r instanceof TwinlineError) return;
  const w = createWorld(r);
  w.step(20);
  expect(w.tick).toBe(20);
}

const UNITS = ['s', 'ms', 'min', 'h', 'd', 'm', 'mm', 'km', 'm/s', 'm/min', 'km/h', '°C', 'K', '°F', 'kW', 'W', 'kWh', 'J', 'kN', 'kg', 't', '1/h', '/min', 'pcs/h', '%', 'deg', 'parsec', 'm/s/s', '°C·s', '1/km', '', 'kg·m', 's^2', 'µs', 'tick'];

const numbers = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308, -1e308, 5e-324, 0, -0, 2 ** 53, 4096, 4097),
  fc.integer({ min: -1000, max: 1000 }),
);
const quantityStrings = fc.oneof(
  fc.tuple(numbers, fc.constantFrom(...UNITS)).map(([n, u]) => `${n} ${u}`),
  fc.tuple(fc.integer({ min: -5, max: 5000 }), fc.string({ maxLength: 6 })).map(([n, u]) => `${n}${u}`),
);
const leaf = fc.oneof(numbers, quantityStrings, fc.string({ maxLength: 12 }), fc.boolean(), fc.constant(null), fc.constantFrom('src', 'belt', 'former', 'out', 'kiln', 'press'));
const value = fc.oneof(
  { weight: 4, arbitrary: leaf },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('id', 'kind', 'x', 'en', 'zh', 'at', 'speed', '__proto__', 'constructor', 'toString'), leaf, { maxKeys: 3 }) },
);

type Seg = string | number;

function paths(x: unknown, prefix: Seg[] = []): Seg[][] {
  const out: Seg[][] = [prefix];
  if (Array.isArray(x)) x.forEach((v, k) => out.push(...paths(v, [...prefix, k])));
  else if (typeof x === 'object' && x !== null) for (const [k, v] of Object.entries(x)) out.push(...paths(v, [...prefix, k]));
  return out;
}
const ALL_PATHS = paths(VALID_DOC).filter((p) => p.length > 0);

type Mutation = { path: Seg[]; op: 'delete' } | { path: Seg[]; op: 'set'; value: unknown } | { path: Seg[]; op: 'add'; key: string; value: unknown };

function mutate(doc: unknown, muts: readonly Mutation[]): unknown {
  const copy: unknown = structuredClone(doc);
  for (const m of muts) {
    let parent = copy as Record<Seg, unknown>;
    for (const seg of m.path.slice(0, -1)) {
      const next = parent[seg];
      if (typeof next !== 'object' || next === null) break;
      parent = next as Record<Seg, unknown>;
    }
    const last = m.path[m.path.length - 1] ?? '';
    // An earlier mutation may have turned the parent into a list; its `length` is not a key.
    if (Array.isArray(parent) && typeof last !== 'number') continue;
    if (m.op === 'delete') {
      if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      else delete parent[last];
    } else if (m.op === 'set') {
      parent[last] = m.value;
    } else {
      const target = parent[last];
      if (typeof target === 'object' && target !== null && !Array.isArray(target)) (target as Record<string, unknown>)[m.key] = m.value;
    }
  }
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ path: fc.constantFrom(...ALL_PATHS), op: fc.constant('delete' as const) }),
  fc.record({ path: fc.constantFrom(...ALL_PATHS), op: fc.constant('set' as const), value }),
  fc.record({ path: fc.constantFrom(...ALL_PATHS), op: fc.constant('add' as const), key: fc.constantFrom('speed', 'rate', 'x', 'next', 'extra', 'slots', 'cycleTime'), value }),
);

describe('scenario loader fuzzing', () => {
  it('the unmutated base scenario loads (so mutations start from a valid file)', () => {
    expect(loadOrReport(stringify(VALID_DOC))).not.toBeInstanceOf(TwinlineError);
  });

  it('arbitrary text: a LineSpec or a TwinlineError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('', '---', '~', '[]', '{}', 'a: &x [*x]', '!!binary aGVsbG8=', 'version: 1\n---\nversion: 1')), (text) => {
        loadOrReport(text);
      }),
      { numRuns: 200 },
    );
  });

  it('arbitrary YAML documents: a LineSpec or a TwinlineError', () => {
    const key = fc.oneof(fc.constantFrom('version', 'id', 'title', 'stations', 'faults', 'setpoints', 'dt', 'seed', 'line', 'isa95', 'designRate'), fc.string({ maxLength: 8 }));
    const { doc } = fc.letrec((tie) => ({
      doc: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('doc'), { maxLength: 4 }), fc.dictionary(key, tie('doc'), { maxKeys: 6 })),
    }));
    fc.assert(
      fc.property(doc, (d) => {
        mustRun(loadOrReport(stringify(d)));
      }),
      { numRuns: 200 },
    );
  });

  it('mutations of a valid scenario: deleted keys, changed types, random units and numbers', () => {
    const seen = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) => {
        const r = loadOrReport(stringify(mutate(VALID_DOC, muts)));
        seen[r instanceof TwinlineError ? 'rejected' : 'ok']++;
        mustRun(r);
      }),
      { numRuns: 350 },
    );
    // Both outcomes must occur, or the mutations are not probing the boundary.
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('a non-string input is reported, not thrown as a TypeError', () => {
    for (const bad of [42, null, undefined, { version: 1 }]) {
      expect(() => parseScenario(bad as unknown as string, FILE)).toThrow(TwinlineError);
    }
  });

  it('text edits of a valid scenario: inserted and deleted characters', () => {
    const edit = fc.record({ at: fc.nat({ max: VALID.length }), del: fc.nat({ max: 6 }), ins: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom(':', '- ', '{', '}', '[', ']', '"', '\n  ', '\t', '&a ', '*a', '#')) });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let text = VALID;
        for (const e of edits) text = text.slice(0, e.at) + e.ins + text.slice(e.at + e.del);
        mustRun(loadOrReport(text));
      }),
      { numRuns: 200 },
    );
  });
});
