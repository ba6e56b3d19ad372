import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MACHINE_KINDS } from '../../sim/machines/index.ts';
import { jsonSchema, SCENARIO_SCHEMA_FILE, SCHEMA_FILES, scenarioJsonSchema, scenarioJsonSchemaText, schemaText, type SchemaKind } from '../../sim/line/json-schema.ts';
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

/** The committed files of each kind. */
const FILES: Record<SchemaKind, string[]> = {
  scenario: readdirSync('scenarios').filter((f) => f.endsWith('.yaml')).map((f) => `scenarios/${f}`),
  lesson: readdirSync('scenarios/lessons').map((f) => `scenarios/lessons/${f}`),
  retrofit: readdirSync('scenarios/retrofits').map((f) => `scenarios/retrofits/${f}`),
};

describe('lesson and retrofit step JSON Schemas, read by a validator of their own (Ajv)', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validator = (kind: SchemaKind): ReturnType<Ajv['compile']> => ajv.compile(JSON.parse(readFileSync(SCHEMA_FILES[kind], 'utf8')) as Json);

  it('are committed and up to date', () => {
    for (const kind of ['lesson', 'retrofit'] as const) {
      let committed: string | undefined;
      try {
        committed = readFileSync(SCHEMA_FILES[kind], 'utf8');
      } catch {
        committed = undefined;
      }
      expect(committed, `${SCHEMA_FILES[kind]} is missing or stale: run \`npm run schema\` and commit it`).toBe(schemaText(kind));
      expect(jsonSchema(kind).additionalProperties).toBe(false);
    }
  });

  it('accept every committed scenario, lesson and retrofit step', () => {
    for (const kind of Object.keys(FILES) as SchemaKind[]) {
      const ok = validator(kind);
      expect(FILES[kind].length, kind).toBeGreaterThan(1);
      for (const f of FILES[kind]) expect(ok(parse(readFileSync(f, 'utf8'))), `${f}: ${JSON.stringify(ok.errors)}`).toBe(true);
    }
  });

  it('reject what the loaders reject: an unknown key, a stage or fault not in the list, a station system misspelt', () => {
    const broken: [SchemaKind, string, (d: Json) => void, string][] = [
      ['lesson', 'scenarios/lessons/automatic-pouring.yaml', (d) => (d.minuets = 30), 'additionalProperties'],
      ['lesson', 'scenarios/lessons/automatic-pouring.yaml', (d) => (at(d, 'steps', 0, 'faults', 0).fault = 'fire'), 'enum'],
      ['retrofit', 'scenarios/retrofits/robot-handling.yaml', (d) => (d.stage = 'digitalisation'), 'enum'],
      ['scenario', 'scenarios/ceramic-after.yaml', (d) => (at(d, 'stations', 1).systems = ['network', 'scada']), 'enum'],
    ];
    for (const [kind, file, spoil, keyword] of broken) {
      const d = parse(readFileSync(file, 'utf8')) as Json;
      spoil(d);
      const ok = validator(kind);
      expect(ok(d), file).toBe(false);
      expect(ok.errors?.map((e) => e.keyword), file).toContain(keyword);
    }
  });
});
