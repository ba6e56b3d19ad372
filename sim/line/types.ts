/**
 * A scenario after loading: units converted to the fields' units, defaults filled, references
 * checked. `parseScenario()` (scenario text → LineSpec) and `worldDef()` (LineSpec → WorldDef)
 * are the two steps from a file to a running world.
 */
import type { STATION_SYSTEMS } from './schema.ts';

/** Bilingual label. */
export interface Label {
  en: string;
  zh: string;
}

/** ISA-95 names of the line, used for OPC UA paths and MQTT topics. */
export interface Isa95 {
  enterprise: string;
  site: string;
  area: string;
  line: string;
}

/** Where a station stands in the plant [m, degrees]; the 3D view draws from it. */
export interface Placement {
  x: number;
  z: number;
  /** rotation about the vertical axis [deg] */
  rotation: number;
}

/** One station of the line. */
export interface StationSpec {
  id: string;
  kind: string;
  name: Label;
  /** parameter values in the field's unit */
  params: Record<string, number>;
  next: string | null;
  reject: string | null;
  layout: Placement;
  /** declared planned run time per part (ISO 22400-2 PRI) [s], or null: the machine's ideal cycle at start */
  plannedCycleTime: number | null;
  /** what the plant has around the station (schema.ts STATION_SYSTEMS), or null: the file does not say */
  systems: StationSystem[] | null;
}

/** One of `STATION_SYSTEMS`. */
export type StationSystem = (typeof STATION_SYSTEMS)[number];

/** A planned break in every shift (ISO 22400-2 planned downtime): the line stops, then restarts. */
export interface PlannedBreak {
  /** time from the start of the shift [s] */
  after: number;
  /** [s] */
  duration: number;
}

/** A fault the scenario injects at a given time. */
export interface ScheduledFault {
  /** simulated time from start [s] */
  at: number;
  station: string;
  /** [s] */
  duration: number;
  code: 'breakdown' | 'jam' | 'injected' | 'power' | 'sensor';
}

/** A setpoint change the scenario makes at a given time. */
export interface ScheduledSet {
  at: number;
  station: string;
  field: string;
  value: number;
}

import type { CrewDef } from '../core/crew.ts';

/** A loaded, checked scenario. */
export interface LineSpec {
  /** schema version the file was written in (after migration it is the current one) */
  version: number;
  id: string;
  title: Label;
  description: Label;
  /** 'before' or 'after' retrofit, or 'other' */
  variant: 'before' | 'after' | 'other';
  /** id of the scenario this one compares against (before ↔ after), if any */
  compareWith: string | null;
  isa95: Isa95;
  /** tick length [s] */
  dt: number;
  /** default seed when the user gives none */
  seed: number;
  /** shift pattern; shifts follow each other from the start of the run, each `hoursPerDay / shiftsPerDay` long */
  shift: { hoursPerDay: number; shiftsPerDay: number; breaks: PlannedBreak[] };
  demand: { piecesPerDay: number };
  /** planned (design) rate of the line [parts/s], or null: the slowest planned station cycle decides */
  designRate: number | null;
  /** simulated time between KPI snapshots [s] */
  kpiInterval: number;
  stations: StationSpec[];
  faults: ScheduledFault[];
  setpoints: ScheduledSet[];
  /** crews (empty: each station's `operators` parameter is its own team) */
  crews: CrewDef[];
  /** file the scenario came from, for messages */
  file: string;
}
