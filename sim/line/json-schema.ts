/**
 * JSON Schema of scenario files for editors (yaml-language-server, VS Code): generated from the
 * zod schema, then given what only the machine registry knows: the kinds, and per kind the
 * parameter names with unit, range, default and description. Lesson and retrofit step files
 * get theirs from their zod schemas as they are. `npm run schema` writes the three to
 * `scenarios/schema/`; a test fails when one is stale.
 */
import { z } from 'zod';
import { COMMON_FIELDS } from '../core/station.ts';
import type { FieldSpec, MachineKind } from '../core/types.ts';
import { MACHINE_KINDS } from '../machines/index.ts';
import { fieldOf, parameterNames } from './resolve.ts';
import { scenarioSchema } from './schema.ts';
import { lessonSchema } from './lesson-schema.ts';
import { retrofitSchema } from './retrofit-schema.ts';
import { QUANTITY_PATTERN } from './units.ts';

type Json = Record<string, unknown>;

/** Where the committed schema lives, relative to the repository root. */
export const SCENARIO_SCHEMA_FILE = 'scenarios/schema/scenario.schema.json';

/** The files that have a JSON Schema, and where each is committed. */
export const SCHEMA_FILES = {
  scenario: SCENARIO_SCHEMA_FILE,
  lesson: 'scenarios/schema/lesson.schema.json',
  retrofit: 'scenarios/schema/retrofit.schema.json',
} as const;
export type SchemaKind = keyof typeof SCHEMA_FILES;

const QUANTITY_HELP =
  'Quantities are a number in the field\'s unit or a string "<number> <unit>", e.g. "12 s", "20 min", "1200 mm", "0.5 m/s", "1250 °C", "220 1/h", "15 %".';

function child(parent: Json, ...keys: string[]): Json {
  let cur: unknown = parent;
  for (const k of keys) {
    cur = typeof cur === 'object' && cur !== null ? (cur as Json)[k] : undefined;
  }
  if (typeof cur !== 'object' || cur === null) throw new Error(`generated JSON Schema has no ${keys.join('.')}`);
  return cur as Json;
}

function range(f: FieldSpec): string {
  if (f.min === undefined && f.max === undefined) return '';
  return `; range ${f.min ?? '-∞'} … ${f.max ?? '∞'}${f.unit === '' ? '' : ` ${f.unit}`}`;
}

/** One parameter: a number in the field's unit (with its limits) or a quantity string. */
function fieldSchema(f: FieldSpec): Json {
  const num: Json = { type: f.integer === true ? 'integer' : 'number' };
  if (f.min !== undefined) num.minimum = f.min;
  if (f.max !== undefined) num.maximum = f.max;
  const unit = f.unit === '' ? '' : ` [${f.unit}]`;
  const out: Json = {
    description: `${f.description}${unit}; default ${f.default ?? 0}${range(f)}`,
    anyOf: [num, { $ref: '#/definitions/quantity' }],
  };
  if (f.default !== undefined) out.default = f.default;
  return out;
}

function paramsSchema(kind: MachineKind): Json {
  const properties: Json = {};
  for (const name of parameterNames(kind)) {
    const f = fieldOf(kind, name);
    // Common parameters are defined once and referenced, so the file grows little per kind.
    if (Object.hasOwn(COMMON_FIELDS, name)) properties[name] = { $ref: `#/definitions/common.${name}` };
    else if (f !== undefined) properties[name] = fieldSchema(f);
  }
  const own = Object.keys(kind.fields).filter((n) => kind.fields[n]?.access === 'rw' && !Object.hasOwn(COMMON_FIELDS, n));
  return {
    type: 'object',
    description: `parameters of ${kind.title.en} (${kind.title.zh}): ${own.join(', ') || 'none of its own'}, plus the common station parameters`,
    properties,
    additionalProperties: false,
  };
}

/**
 * The JSON Schema (draft-07) of scenario files for the machine kinds registered now. Stable
 * for a given registry, so the committed copy can be compared with it.
 */
export function scenarioJsonSchema(): Json {
  const schema = z.toJSONSchema(scenarioSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Json;
  schema.description = `${String(schema.description ?? '')}. ${QUANTITY_HELP}`;
  // Files without `version` are read as version 0 and migrated; editors should still ask for it.
  const props = child(schema, 'properties');
  const version = child(props, 'version');
  version.description = `${String(version.description ?? '')}; files without it are read as version 0 and migrated`;

  const station = child(props, 'stations', 'items');
  const kind = child(station, 'properties', 'kind');
  kind.enum = MACHINE_KINDS.map((k) => k.kind);
  kind.description = `machine kind: ${MACHINE_KINDS.map((k) => `${k.kind} (${k.title.en}, ${k.role})`).join('; ')}`;
  const definitions: Json = { quantity: { type: 'string', pattern: QUANTITY_PATTERN.source, description: QUANTITY_HELP } };
  for (const [name, f] of Object.entries(COMMON_FIELDS)) if (f.access === 'rw') definitions[`common.${name}`] = fieldSchema(f);
  schema.definitions = definitions;
  station.allOf = MACHINE_KINDS.map((k) => ({
    if: { properties: { kind: { const: k.kind } }, required: ['kind'] },
    then: { properties: { params: paramsSchema(k) } },
  }));
  return schema;
}

/** The schema file's text exactly as committed: 2-space JSON and a final newline. */
export function scenarioJsonSchemaText(): string {
  return schemaText('scenario');
}

/** The JSON Schema (draft-07) of `kind` files. */
export function jsonSchema(kind: SchemaKind): Json {
  if (kind === 'scenario') return scenarioJsonSchema();
  return z.toJSONSchema(kind === 'lesson' ? lessonSchema : retrofitSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Json;
}

/** The text of `kind`'s schema file exactly as committed. */
export function schemaText(kind: SchemaKind): string {
  return `${JSON.stringify(jsonSchema(kind), null, 2)}\n`;
}
