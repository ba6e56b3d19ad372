/**
 * A retrofit step file (`scenarios/retrofits/<id>.yaml`): one named, documented change to a
 * line, grounded in the source plan (what it is, which document and item it comes from), the
 * stations it applies to, the kinds or parameters it changes, what it does to the crews, its
 * capital cost and the operating cost it adds or saves. Energy, labour and output effects are
 * not typed here: they come out of the simulated line (`twinline compare --retrofit`).
 *
 * The zod schema checks the shape; `parseRetrofit` reports every problem with file:line:col
 * and path, as scenario files do. Whether a step applies to a given line is checked when it
 * is applied (retrofit.ts).
 */
import { z } from 'zod';
import { TwinlineError } from '../core/errors.ts';
import { checkedYaml, idMatchesFile } from './checked-yaml.ts';
import { KEBAB_ID, label, quantity, STATION_ID, STATION_SYSTEMS } from './schema.ts';

/** Current retrofit step file version. */
export const RETROFIT_VERSION = 1;

/** Stages of a retrofit as the Huangshi programme orders them (DIGEST.md, document 004). */
export const RETROFIT_STAGES = ['automation', 'digital-integration', 'networking', 'intelligence'] as const;

const bound = (what: string) => quantity(`${what}, in the field's unit or "<number> <unit>"`).optional();

/** A `where` condition other than equality: every comparison given must hold. */
const comparison = z
  .strictObject({
    gt: bound('greater than'),
    ge: bound('at least'),
    lt: bound('less than'),
    le: bound('at most'),
    ne: bound('not equal to'),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), { error: 'give at least one of gt, ge, lt, le, ne' })
  .meta({ description: 'comparisons of the parameter\'s current value, e.g. { gt: 0 }' });

/** Which stations a step (or one of its changes) acts on: every condition given must hold. */
const selector = z
  .strictObject({
    kinds: z.array(z.string({ error: 'expected a machine kind' })).min(1).optional().meta({ description: 'machine kinds the station may have' }),
    stations: z.array(z.string().regex(STATION_ID, { error: 'expected a station id' })).min(1).optional().meta({ description: 'station ids' }),
    where: z
      .record(z.string(), z.union([quantity('parameter value the station has now (defaults count), in the field\'s unit or "<number> <unit>"'), comparison]))
      .optional()
      .meta({ description: 'parameter values the station must have (defaults count), e.g. { automatic: 0 } for a hand-operated pouring station, or comparisons, e.g. { patrolTime: { gt: 0 } }' }),
  })
  .refine((s) => s.kinds !== undefined || s.stations !== undefined || s.where !== undefined, { error: 'name kinds, stations or where (at least one)' })
  .meta({ description: 'stations matched by kind, id and current parameters' });

const change = z
  .strictObject({
    at: selector.optional().meta({ description: 'stations this change acts on; default: the step\'s appliesTo' }),
    kind: z.string({ error: 'expected a machine kind' }).optional().meta({ description: 'new machine kind; its params replace the station\'s params entirely' }),
    name: label('new display name').optional(),
    params: z.record(z.string(), quantity('parameter value in the field\'s unit, or "<number> <unit>"')).optional().meta({ description: 'parameters set (merged into the station\'s; with kind: the new kind\'s parameters)' }),
    unset: z.array(z.string()).optional().meta({ description: 'parameters removed (back to the kind\'s default)' }),
    systems: z
      .array(z.enum(STATION_SYSTEMS))
      .min(1)
      .optional()
      .meta({ description: 'what the step fits around the stations (added to the systems they have, for the diagnosis): network, data, spc, meter, condition, trace' }),
  })
  .meta({ description: 'one change to the matched stations' });

const crews = z
  .strictObject({
    release: z.boolean().optional().meta({ description: 'true: the stations the step changes leave every crew\'s area (their manual task is gone); a crew left with no station is disbanded' }),
    repairsBy: selector.optional().meta({ description: 'the crew that works at these stations (e.g. { kinds: [manual-inspection] }) takes the repairs of the changed stations; it needs the repair skill' }),
    resize: z
      .array(z.strictObject({ crew: z.string().regex(STATION_ID, { error: 'expected a crew id' }), size: z.number().int().min(0).max(1000) }))
      .optional()
      .meta({ description: 'crews whose declared size changes' }),
  })
  .meta({ description: 'what the step does to the crews' });

/** The retrofit step file, before unit conversion. */
export const retrofitSchema = z
  .strictObject({
    version: z.literal(RETROFIT_VERSION).meta({ description: 'retrofit step file format version' }),
    id: z.string({ error: 'expected a step id' }).regex(KEBAB_ID, { error: 'step ids are kebab-case, e.g. "robot-handling"' }),
    title: label('title'),
    description: label('what the step changes and why'),
    stage: z.enum(RETROFIT_STAGES).meta({ description: 'retrofit stage: automation → digital integration → networking → intelligence' }),
    source: z
      .strictObject({
        document: z.string({ error: 'expected the source document number, e.g. "003"' }).regex(/^\d{3}$/, { error: 'expected a three-digit document number as in DIGEST.md, e.g. "003"' }),
        item: z.string({ error: 'expected the plan item the step implements' }).min(1),
      })
      .meta({ description: 'where the step comes from: document number in shared seeds (DIGEST.md) and the plan item' }),
    appliesTo: selector.meta({ description: 'stations the step applies to; a line without any is an error' }),
    changes: z.array(change).min(1, { error: 'a step changes at least one thing' }),
    crews: crews.optional(),
    capex: z.number({ error: 'expected the capital cost in CNY (a number)' }).min(0).max(1e10).meta({ description: 'capital cost of the step [CNY]' }),
    opex: z
      .strictObject({
        maintenancePerYear: z.number().min(-1e9).max(1e9).optional().meta({ description: 'maintenance and service added per year [CNY/a]; negative: saved' }),
        otherPerYear: z.number().min(-1e9).max(1e9).optional().meta({ description: 'other operating cost added per year (licences, consumables) [CNY/a]; negative: saved' }),
      })
      .optional()
      .meta({ description: 'operating cost the step adds; energy, labour and output effects come from the simulated line' }),
  })
  .meta({ title: 'Twinline retrofit step', description: 'One retrofit step: a documented change to a line with its costs' });

/** A retrofit step as written (units not converted). */
export type RetrofitFile = z.output<typeof retrofitSchema>;
/** A station selector of a step. */
export type RetrofitSelector = NonNullable<RetrofitFile['appliesTo']>;

/** A checked retrofit step and the file it came from. */
export interface RetrofitStep extends RetrofitFile {
  file: string;
}

/** Parses and checks a retrofit step file; throws a TwinlineError naming every problem with file:line:col and path. */
export function parseRetrofit(text: string, file: string): RetrofitStep {
  const { data, problems } = checkedYaml(text, file, retrofitSchema, { shape: 'a retrofit step is a mapping with keys version, id, title, appliesTo, changes …' });
  idMatchesFile(data.id, file, 'step', problems);
  if (problems.items.length > 0) throw TwinlineError.of(problems.items);
  return { ...data, file };
}
