/**
 * Contracts between the world and the machine kinds. A machine kind is a `spec` (its fields
 * with unit, range and access; its alarms; its companion type) and a `step()` that reads and
 * writes its typed-array view and allocates nothing.
 */
import type { World } from './world.ts';

/** How a field may be accessed from outside the simulation (HMI, OPC UA, MQTT). */
export type Access = 'r' | 'rw';

/** One state field or parameter of a machine kind. Values are float64 in the given unit. */
export interface FieldSpec {
  /** unit symbol in SI-like base units: s, m, m/s, °C, W, J, kg, 1/h, % …; '' = dimensionless */
  unit: string;
  /** one plain sentence */
  description: string;
  /** 'rw' fields are parameters/setpoints: set from the scenario and by commands */
  access: Access;
  /** initial value (parameters: the default when the scenario is silent) */
  default?: number;
  /** lower bound of valid values, inclusive */
  min?: number;
  /** upper bound of valid values, inclusive */
  max?: number;
  /** integer-valued (counts, enums, booleans as 0/1) */
  integer?: boolean;
  /** a difference of temperatures (a band, a superheat): °F converts by scale only, without the offset */
  interval?: boolean;
}

/** An alarm a machine kind can raise; `bit` indexes the station's alarm word (0–30). */
export interface AlarmSpec {
  bit: number;
  code: string;
  /** 1 (info) … 1000 (critical), as in OPC UA Alarms & Conditions */
  severity: number;
  text: { en: string; zh: string };
}

/** OPC UA companion specification a kind maps to. */
export type Companion = 'Machinery' | 'PackML' | 'MachineVision' | 'Robotics';

/** What a station does with parts, used by the line builder and the contract suite. */
export type FlowRole = 'source' | 'sink' | 'process';

/** The typed-array view of one kind: one Float64Array per field, indexed by instance. */
export type KindView = Record<string, Float64Array>;

/** A machine kind. */
export interface MachineKind {
  /** kebab-case id used in scenario files, e.g. `kiln` */
  kind: string;
  title: { en: string; zh: string };
  role: FlowRole;
  companion: readonly Companion[];
  fields: Readonly<Record<string, FieldSpec>>;
  alarms: readonly AlarmSpec[];
  /** Prepares instance `i` (station `s`) after fields got their initial values. */
  init?(v: KindView, i: number, s: number, w: World): void;
  /** Advances instance `i` (station `s`) by one tick. Must not allocate. */
  step(v: KindView, i: number, s: number, w: World): void;
  /** Parts the station holds at most, derived from its parameters (with defaults filled in); overrides `slots`. */
  capacity?(params: Readonly<Record<string, number>>): number;
  /** Ideal rate at full speed with current parameters [parts/s] (OEE performance base). */
  idealRate?(v: KindView, i: number, s: number, w: World): number;
  /** Whether the station can take one more part now; default: queue length < `slots`. */
  accepts?(v: KindView, i: number, s: number, w: World): boolean;
}
