/**
 * What the scene exposes outside React: lamp materials, the camera and the canvas (for
 * projecting a station to the screen) and the drawn part positions, so the HMI and the
 * end-to-end tests can check what is on screen.
 */
import type { Camera } from 'three';
import type { OrbitRig } from './orbit-rig.ts';
import type { BenchStats } from './BenchProbe.tsx';

/** Live handles into the rendered scene. */
export interface SceneHandle {
  /**
   * stack-light lamps as drawn: station id → its index s; the instance colours (linear RGB) of
   * its red, yellow and green lamps are `colors[9s…9s+8]`
   */
  lamps: { index: Map<string, number>; colors: Float32Array };
  camera: Camera | null;
  canvas: HTMLCanvasElement | null;
  rig: OrbitRig | null;
  /** drawn parts: [x, y, z, serial]… as last written to the instance matrices */
  parts: Float64Array;
  /** the station index of each drawn part (same order as `parts`) */
  partStations: Int32Array;
  partCount: number;
  /** whether the parts are drawn (tests hide them to see which pixels are parts) */
  partsShown: boolean;
  /** whether the stations (models, plinths, lamps) are drawn (tests hide them to see which pixels are stations) */
  stationsShown: boolean;
  /** drawn operator figures: [x, y, z]… (y: the figure's middle) */
  people: Float64Array;
  peopleCount: number;
  /** whether the operator figures are drawn (tests hide them to see which pixels are people) */
  peopleShown: boolean;
  /** the twin's state cannot be read now (host unreachable): stations are drawn grey, lamps dark */
  stale: boolean;
  /** overview fits so far (on load, on resize in the overview, by the fit control) */
  fits: number;
  /** frames rendered */
  frames: number;
  /** glides the camera to a station (set by the scene) */
  focus: ((id: string) => void) | null;
  /** glides the camera back to the whole line (set by the scene) */
  overview: (() => void) | null;
  /** per-frame timings and draw calls, in bench mode only (`?bench=N`) */
  bench: BenchStats | null;
  /** what the network overlay draws, or null while it is off */
  network: NetworkDrawn | null;
  /** stations marked for an active security alert, as drawn: severity, colour (`#rrggbb`), beacon position [m] */
  alerts: AlertMarkDrawn[];
  /** whether the alert marks are drawn (tests hide them to see which pixels are theirs) */
  alertsShown: boolean;
  /** the hall's lighting (`light.ts`): full, or simple on a software renderer; null until the scene mounts */
  light: 'full' | 'simple' | null;
}

/** A station's alert mark as drawn. */
export interface AlertMarkDrawn {
  station: string;
  severity: string;
  colour: string;
  /** the beacon's centre [m] */
  x: number;
  y: number;
  z: number;
  /** the ring's half-axes along and across the station [m] (at its smallest) and the station's rotation [rad] */
  ringA: number;
  ringB: number;
  rot: number;
}

/** The network overlay as drawn: nodes and links with their colours (`#rrggbb`). */
export interface NetworkDrawn {
  /** frames drawn since this report was applied */
  frames: number;
  nodes: { id: string; kind: string; unusual: boolean; attack: boolean; alert: boolean; colour: string }[];
  /** rate: messages per second [1/s]; attack: the range's attack traffic; alert: named by an active security alert */
  links: { id: string; from: string; to: string; protocol: string; rate: number; unusual: boolean; attack: boolean; alert: boolean; colour: string }[];
}

/** An empty handle. */
export function makeHandle(): SceneHandle {
  return { lamps: { index: new Map(), colors: new Float32Array(0) }, camera: null, canvas: null, rig: null, parts: new Float64Array(0), partStations: new Int32Array(0), partCount: 0, partsShown: true, stationsShown: true, people: new Float64Array(0), peopleCount: 0, peopleShown: true, stale: false, fits: 0, frames: 0, focus: null, overview: null, bench: null, network: null, alerts: [], alertsShown: true, light: null };
}
