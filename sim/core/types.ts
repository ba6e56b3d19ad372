/**
 * Contracts between the world and the machine kinds. A machine kind is a `spec` (its fields
 * with unit, range and access; its alarms; its companion type) and a `step()` that reads and
 * writes its typed-array view and allocates nothing.
 */
import type { WriteLevel } from './commands.ts';
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
  /**
   * who may write an 'rw' field at run time (default `engineer`): `operator` for setpoints an
   * operator turns in production, `engineer` for parameters of the process or machine,
   * `safety` for interlock and trip limits. Scenario files set every 'rw' field.
   */
  write?: WriteLevel;
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
  /**
   * Ticks from now (this tick included) during which step() would change nothing the rest of
   * the world can see: no event, no random draw, no part created, finished, moved on or
   * removed, no alarm, interlock or crew claim change, no change of `power` or of `accepts()`;
   * only the kind's own linear accumulators move (a part's progress, a belt, a timer). For the
   * world's next-event time advance (core/advance.ts). Conservative answers are always safe
   * (0: step this tick in full); a kind without it is stepped every tick.
   */
  quietFor?(v: KindView, i: number, s: number, w: World): number;
  /**
   * Does `k` quiet ticks (as promised by `quietFor`) at once, starting at `w.tick`, with the
   * same floating-point operations as k calls of step() (results must be bit-identical). The
   * world has just stepped the tick before in full, so what step() writes afresh every tick
   * (power, a load, a level) is already as it stays. Default: step() k times.
   */
  advance?(v: KindView, i: number, s: number, w: World, k: number): void;
  /** Parts the station holds at most, derived from its parameters (with defaults filled in); overrides `slots`. */
  capacity?(params: Readonly<Record<string, number>>): number;
  /** Ideal rate at full speed with current parameters [parts/s] (OEE performance base). */
  idealRate?(v: KindView, i: number, s: number, w: World): number;
  /** Whether the station can take one more part now; default: queue length < `slots`. */
  accepts?(v: KindView, i: number, s: number, w: World): boolean;
}
