import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MACHINE_KINDS } from '../../sim/machines/index.ts';
import { SCENARIO_SCHEMA_FILE, scenarioJsonSchema, scenarioJsonSchemaText } from '../../sim/line/json-schema.ts';
import { parameterNames } from '../../sim/line/resolve.ts';

type Json = Record<string, unknown>;

function at(x: unknown, ...keys: (string | number)[]): Json {
  let cur = x;
  for (const k of keys) cur = (cur as Record<string | number, unknown>)[k];
  return cur as Json;
}

describe('scenario JSON Schema', () => {
  it('is committed and up to date', () => {
    let committed: unknown;
    try {
      committed = JSON.parse(readFileSync(SCENARIO_SCHEMA_FILE, 'utf8'));
    } catch {
      committed = undefined;
    }
    expect(committed, `${SCENARIO_SCHEMA_FILE} is missing or stale: run \`npm run schema\` and commit it`).toEqual(scenarioJsonSchema());
  });

  it('is stable text (same registry → same bytes)', () => {
    expect(scenarioJsonSchemaText()).toBe(scenarioJsonSchemaText());
    expect(scenarioJsonSchemaText().endsWith('}\n')).toBe(true);
  });

  it('requires the keys the loader requires and forbids unknown ones', () => {
    const s = scenarioJsonSchema();
    expect(s.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(s.required).toEqual(['version', 'id', 'title', 'stations']);
    expect(s.additionalProperties).toBe(false);
    expect(at(s, 'properties', 'stations', 'items').required).toEqual(['id', 'kind']);
  });

  it('lists every registered kind with its own parameters, units and descriptions', () => {
    const s = scenarioJsonSchema();
    const station = at(s, 'properties', 'stations', 'items');
    expect(at(station, 'properties', 'kind').enum).toEqual(MACHINE_KINDS.map((k) => k.kind));
    const rules = station.allOf as Json[];
    expect(rules).toHaveLength(MACHINE_KINDS.length);
    MACHINE_KINDS.forEach((kind, k) => {
      expect(at(rules[k], 'if', 'properties', 'kind').const).toBe(kind.kind);
      const params = at(rules[k], 'then', 'properties', 'params');
      expect(params.additionalProperties).toBe(false);
      const props = params.properties as Json;
      expect(Object.keys(props)).toEqual(parameterNames(kind));
      for (const [name, f] of Object.entries(kind.fields)) {
        if (f.access !== 'rw' || props[name] === undefined || '$ref' in at(props, name)) continue;
        const d = String(at(props, name).description);
        expect(d).toContain(f.description);
        if (f.unit !== '') expect(d).toContain(`[${f.unit}]`);
      }
      for (const [name, f] of Object.entries(kind.fields)) if (f.access === 'r') expect(props[name]).toBeUndefined();
    });
  });

  it('resolves the references it uses', () => {
    const text = scenarioJsonSchemaText();
    const s = scenarioJsonSchema();
    const refs = new Set([...text.matchAll(/"\$ref": "#\/definitions\/([^"]+)"/g)].map((m) => m[1] ?? ''));
    expect(refs.size).toBeGreaterThan(1);
    for (const r of refs) expect(at(s, 'definitions')[r], r).toBeDefined();
  });
});
