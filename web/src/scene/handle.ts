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
  partCount: number;
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
}

/** The network overlay as drawn: nodes and links with their colours (`#rrggbb`). */
export interface NetworkDrawn {
  /** frames drawn since this report was applied */
  frames: number;
  nodes: { id: string; kind: string; unusual: boolean; colour: string }[];
  /** rate: messages per second [1/s] */
  links: { id: string; from: string; to: string; protocol: string; rate: number; unusual: boolean; colour: string }[];
}

/** An empty handle. */
export function makeHandle(): SceneHandle {
  return { lamps: { index: new Map(), colors: new Float32Array(0) }, camera: null, canvas: null, rig: null, parts: new Float64Array(0), partCount: 0, frames: 0, focus: null, overview: null, bench: null, network: null };
}
