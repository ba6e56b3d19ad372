/**
 * The part pool: structure-of-arrays over the world buffer, with per-station FIFO queues as
 * linked lists through `next`. No part object exists anywhere; a part is an index.
 */

/** Per-part arrays. */
export interface PartArrays {
  /** station holding the part, -1 = free */
  station: Int32Array;
  /** next part in the same queue (or free list), -1 = end */
  next: Int32Array;
  /** serial number, from 1 */
  serial: Float64Array;
  /** tick the part was created */
  born: Float64Array;
  /** tick the part entered its current station */
  entered: Float64Array;
  /** progress through the current station, 0…1; ≥ 1 means ready to leave */
  progress: Float64Array;
  /** position along a conveyor [m] */
  pos: Float64Array;
  /** part temperature [°C] */
  temp: Float64Array;
  /** process exposure above the allowed band in the current station (kind-defined, e.g. °C·s too hot) */
  exposure: Float64Array;
  /** process exposure below the allowed band in the current station (e.g. °C·s too cold) */
  exposureLow: Float64Array;
  /** highest temperature the part reached [°C] (firing record; kept until the part leaves the line) */
  peakTemp: Float64Array;
  /** steepest heating it saw through the quartz inversion window [°C/s] (firing record) */
  heatRate: Float64Array;
  /** steepest cooling it saw through the quartz inversion window [°C/s] (firing record) */
  coolRate: Float64Array;
  /** true defects (bit set of `Defect`) */
  defects: Float64Array;
  /**
   * tick at which the part went through the line's traced process step (the hardening quench:
   * quench.ts), 0 = not yet; what a per-part record (a marked code read at each station) lets
   * the plant look up, and what it cannot without one
   */
  traceTick: Float64Array;
  /** the process value recorded for the part at that step (the quench: bath temperature over its limit [°C], ≤ 0 within it) */
  traceValue: Float64Array;
  /** flags (bit set of `PartFlag`) */
  flags: Float64Array;
}

export const PART_ARRAYS: readonly (keyof PartArrays)[] = [
  'station', 'next', 'serial', 'born', 'entered', 'progress', 'pos', 'temp', 'exposure', 'exposureLow', 'peakTemp', 'heatRate', 'coolRate', 'defects', 'traceTick', 'traceValue', 'flags',
];

/** Defect bits: what is really wrong with a part (ground truth, not what inspection saw). */
export const Defect = {
  crack: 1,
  glaze: 2,
  shape: 4,
  coldShut: 8,
  porosity: 16,
  hardness: 32,
  dimension: 64,
  surface: 128,
  handling: 256,
} as const;

export const DEFECT_NAMES: readonly string[] = Object.keys(Defect);

/**
 * Defect classes, as inspection sees them: surface defects show on the outside (glaze faults,
 * deformation, surface and dimension faults, handling damage, cold shuts), internal ones do not
 * or barely (cracks from dunting or drying, porosity, soft cores). A camera finds the first
 * well and the second poorly unless it has a sensor for them; a tap test hears cracks.
 */
export const DefectClass = {
  surface: Defect.glaze | Defect.shape | Defect.surface | Defect.dimension | Defect.handling | Defect.coldShut,
  internal: Defect.crack | Defect.porosity | Defect.hardness,
} as const;

/** Part flags. */
export const PartFlag = {
  inspected: 1,
  rejected: 2,
  /** set once the current station has finished its work on the part; cleared on entry */
  done: 4,
} as const;

/** Names of the set bits of a defect mask, e.g. `crack+glaze`. */
export function defectNames(mask: number): string {
  const names: string[] = [];
  for (let k = 0; k < DEFECT_NAMES.length; k++) if (mask & (1 << k)) names.push(DEFECT_NAMES[k] ?? `bit${k}`);
  return names.join('+');
}

/** Whether a bit is set in a float-held mask (masks stay below 2^31). */
export function hasBit(mask: number, bit: number): boolean {
  return (mask & bit) !== 0;
}
