/**
 * The shape of a scenario file (current version), as a zod schema. It checks structure and
 * types only; what depends on the machine registry (kinds, parameters, units, ranges) and on
 * the whole line (references, reachability) is checked in `resolve.ts`, where the errors can
 * name the kind's fields. The JSON Schema for editors is generated from this one.
 */
import { z } from 'zod';
import { QUANTITY_PATTERN } from './units.ts';
import { TASKS } from '../core/crew.ts';

/** Current scenario file version; older files are migrated (`migrate.ts`). */
export const SCENARIO_VERSION = 1;

/** kebab-case ids: scenario ids and `compareWith`. */
export const KEBAB_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** station ids: lower-case letters, digits, `-` and `_`. */
export const STATION_ID = /^[a-z0-9][a-z0-9_-]*$/;

/** Fault codes a scenario may inject (the `fault` command's codes, without `none`). */
export const FAULT_CODES = ['breakdown', 'jam', 'injected', 'power', 'sensor'] as const;

/**
 * What the plant has around a station, as the retrofit documents count it (the diagnosis reads
 * them for the stages after automation): its controller on the plant network (`network`), its
 * counts, states and process values collected automatically, no paper (`data`), its key
 * characteristic on an SPC chart (`spc`), an online energy meter (`meter`), condition
 * monitoring for predictive maintenance (`condition`), each part's identity and result recorded
 * (`trace`).
 */
export const STATION_SYSTEMS = ['network', 'data', 'spc', 'meter', 'condition', 'trace'] as const;

const QUANTITY_MESSAGE = 'expected a number or a "<number> <unit>" string such as "12 s"';

/** A number in the field's unit, or "<number> <unit>". */
export function quantity(what: string): z.ZodType<number | string> {
  return z
    .union([z.number(), z.string().regex(QUANTITY_PATTERN, { error: QUANTITY_MESSAGE })], { error: QUANTITY_MESSAGE })
    .meta({ description: what });
}

/** A text in English and Chinese. */
export const label = (what: string) =>
  z
    .strictObject({
      en: z.string({ error: 'expected an English text' }),
      zh: z.string({ error: 'expected a Chinese text' }),
    })
    .meta({ description: `${what} in English and Chinese` });

const stationRef = (what: string) =>
  z.string({ error: 'expected a station id or null' }).nullable().optional().meta({ description: what });

const station = z
  .strictObject({
    id: z
      .string({ error: 'expected a station id (string)' })
      .regex(STATION_ID, { error: 'station ids use lower-case letters, digits, "-" and "_", e.g. "kiln-1"' })
      .meta({ description: 'unique station id, used in references, OPC UA paths and MQTT topics' }),
    kind: z.string({ error: 'expected a machine kind (string)' }).meta({ description: 'machine kind' }),
    name: label('display name').optional(),
    at: z
      .strictObject({
        x: quantity('position along the line [m], e.g. "12 m" or "1200 mm"').optional(),
        z: quantity('position across the line [m]').optional(),
        rotation: quantity('rotation about the vertical axis [deg], e.g. "90 deg"').optional(),
      })
      .optional()
      .meta({ description: 'where the station stands [m, deg]; default: 4 m after the previous one' }),
    params: z
      .record(z.string(), quantity('parameter value in the field\'s unit, or "<number> <unit>"'))
      .optional()
      .meta({ description: 'parameters of the machine kind and common station parameters; defaults fill the rest' }),
    next: stationRef('station that takes finished parts; null for sinks'),
    reject: stationRef('station that takes rejected parts; null: they follow next'),
    plannedCycleTime: quantity(
      'planned run time per part at this station (ISO 22400-2 planned run time per item) [s], e.g. "120 s"; the performance KPI is measured against it. Declare the same value in the before and after variants of a line; default: the machine\'s ideal cycle with its parameters at start',
    ).optional(),
    systems: z
      .array(z.enum(STATION_SYSTEMS))
      .optional()
      .meta({ description: 'what the plant has around the station, for the diagnosis: network (controller on the plant network), data (collected automatically), spc (key characteristic charted), meter (online energy meter), condition (condition monitoring), trace (each part\'s identity and result recorded); a line none of whose stations says is not assessed on those stages' }),
  })
  .meta({ description: 'one station of the line' });

const fault = z
  .strictObject({
    at: quantity('simulated time from start [s], e.g. "2 h"'),
    station: z.string({ error: 'expected a station id' }),
    duration: quantity('how long the fault lasts [s], e.g. "20 min"'),
    code: z.enum(FAULT_CODES).meta({ description: 'fault code' }),
  })
  .meta({ description: 'a fault injected at a given time' });

const setpoint = z
  .strictObject({
    at: quantity('simulated time from start [s], e.g. "3 h"'),
    station: z.string({ error: 'expected a station id' }),
    field: z.string({ error: 'expected a parameter name' }).meta({ description: 'a parameter (read-write field) of the station' }),
    value: quantity('new value in the field\'s unit, or "<number> <unit>"'),
  })
  .meta({ description: 'a setpoint change at a given time' });

const crewArea = z
  .union([
    z.string({ error: 'expected a station id' }),
    z.strictObject({
      station: z.string({ error: 'expected a station id' }),
      places: z.number().int().min(1).max(100).optional().meta({ description: 'most people of the crew who work at the station at once; default 1' }),
    }),
  ])
  .meta({ description: 'a station the crew serves: its id, or { station, places }' });

const crew = z
  .strictObject({
    id: z
      .string({ error: 'expected a crew id (string)' })
      .regex(STATION_ID, { error: 'crew ids use lower-case letters, digits, "-" and "_", e.g. "pourers"' })
      .meta({ description: 'unique crew id' }),
    name: label('crew name').optional(),
    size: z.number({ error: 'expected a number of people' }).int().min(0).max(1000).meta({ description: 'people in the crew' }),
    skills: z.array(z.enum(TASKS)).min(1, { error: 'a crew needs at least one skill' }).meta({ description: `tasks the crew does: ${TASKS.join(', ')}` }),
    stations: z.array(crewArea).min(1, { error: 'a crew serves at least one station' }).meta({ description: 'the area: stations whose tasks (and, with the repair skill, repairs) take its people' }),
    shift: z
      .strictObject({
        hoursPerDay: quantity('time the crew is present each day from midnight [s], e.g. "16 h"; default "24 h"').optional(),
        length: quantity('shift length [s]; breaks repeat every shift; default "8 h"').optional(),
        breaks: z
          .array(
            z.strictObject({
              at: quantity('start of the break into the shift [s], e.g. "2 h"'),
              length: quantity('length of the break [s], e.g. "15 min"'),
              share: z.number().min(0).max(1).optional().meta({ description: 'share of the crew away (relief in turns below 1); default 1' }),
            }),
          )
          .optional(),
      })
      .optional()
      .meta({ description: 'when the crew is present: hours per day, shift length and breaks' }),
  })
  .meta({ description: 'a crew: people with skills serving an area of stations' });

/** The scenario file, current version, before unit conversion and reference checks. */
export const scenarioSchema = z
  .strictObject({
    version: z.literal(SCENARIO_VERSION).meta({ description: 'scenario file format version' }),
    id: z
      .string({ error: 'expected a scenario id (string)' })
      .regex(KEBAB_ID, { error: 'scenario ids are kebab-case, e.g. "ceramic-after"' })
      .meta({ description: 'kebab-case scenario id' }),
    title: label('title'),
    description: label('description').optional(),
    variant: z.enum(['before', 'after', 'other']).optional().meta({ description: 'before or after a retrofit, or other; default other' }),
    compareWith: z
      .string({ error: 'expected a scenario id or null' })
      .regex(KEBAB_ID, { error: 'scenario ids are kebab-case, e.g. "ceramic-before"' })
      .nullable()
      .optional()
      .meta({ description: 'id of the scenario to compare with (before ↔ after)' }),
    isa95: z
      .strictObject({
        enterprise: z.string().optional(),
        site: z.string().optional(),
        area: z.string().optional(),
        line: z.string().optional(),
      })
      .optional()
      .meta({ description: 'ISA-95 names for OPC UA paths and MQTT topics; line defaults to the scenario id' }),
    dt: quantity('tick length [s]; default "1 ms"').optional(),
    seed: z
      .number({ error: 'expected an integer seed' })
      .int({ error: 'expected an integer seed' })
      .min(0)
      .max(2 ** 32 - 1)
      .optional()
      .meta({ description: 'default random seed; default 1' }),
    shift: z
      .strictObject({
        hoursPerDay: z.number().gt(0).max(24).optional().meta({ description: 'operating hours per day [h]' }),
        shiftsPerDay: z.number().int().min(1).max(24).optional().meta({ description: 'shifts per day' }),
        breaks: z
          .array(
            z.strictObject({
              after: quantity('time from the start of each shift to the break [s], e.g. "4 h"'),
              duration: quantity('length of the break [s], e.g. "30 min"'),
            }),
          )
          .optional()
          .meta({ description: 'planned breaks in every shift (shift length = hoursPerDay / shiftsPerDay): the line stops and restarts; ISO 22400 planned downtime, not counted against availability' }),
      })
      .optional()
      .meta({ description: 'shift pattern; default 24 h in 3 shifts' }),
    demand: z
      .strictObject({ piecesPerDay: z.number().min(0).max(1e9).meta({ description: 'pieces the customer needs per day' }) })
      .optional()
      .meta({ description: 'customer demand' }),
    designRate: quantity('planned rate of the line [parts/s], e.g. "220 1/h" (ISO 22400-2: 1 / planned run time per item of the line); declare the same value in the before and after variants; null: the slowest planned station cycle decides')
      .nullable()
      .optional(),
    kpiInterval: quantity('simulated time between KPI snapshots [s]; default "5 min"').optional(),
    stations: z.array(station).min(1, { error: 'a line needs at least one station' }).meta({ description: 'the stations, in any order' }),
    faults: z.array(fault).optional().meta({ description: 'faults to inject' }),
    setpoints: z.array(setpoint).optional().meta({ description: 'setpoint changes to make' }),
    crews: z.array(crew).optional().meta({ description: 'crews whose people do the stations\' manual tasks; without crews each station\'s operators parameter is a team of its own' }),
  })
  .meta({ title: 'Twinline scenario', description: 'One production line of the Twinline digital twin' });

/** A structurally valid scenario file (current version), units not yet converted. */
export type ScenarioFile = z.input<typeof scenarioSchema>;
