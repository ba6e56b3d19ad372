/**
 * `window.__twinline`: a small read-only window into the running page (what is drawn, where
 * a station is on screen, the determinism check) for end-to-end tests and debugging.
 */
import { Vector3 } from 'three';
import type { NetworkDrawn, SceneHandle } from './scene/handle.ts';
import type { LiveStore } from './twin/live.ts';
import type { TwinSource } from './twin/types.ts';
import { standaloneHash } from './twin/standalone.ts';

/** What the page exposes. */
export interface TwinlineHooks {
  mode: string;
  scenario: string;
  /** rendered frames so far */
  frames(): number;
  tick(): number;
  stations(): { id: string; state: string; fault: string; alarms: number }[];
  /** viewport coordinates [px] of a station's centre, or null when not on screen */
  screenOf(id: string): { x: number; y: number } | null;
  /** parts as drawn: world position and serial */
  parts(): { serial: number; x: number; y: number; z: number }[];
  /** the lit lamp of a station's stack light as rendered: 'red' | 'yellow' | 'green' | 'off' */
  stackLight(id: string): string;
  focus(id: string): void;
  /** glides the camera back to the whole line */
  overview(): void;
  /** event-log hash after stepping `ticks` ticks of this scenario (loop not running), computed in a fresh worker */
  hash(ticks: number, seed?: number): Promise<string>;
  /** the network overlay as drawn (nodes, links with rates [1/s] and colours), or null while it is off */
  network(): NetworkDrawn | null;
  /** bench mode (`?bench=N`): the frames since the last `benchReset()`, or null outside bench mode */
  bench(): BenchWindow | null;
  /** starts a new bench measuring window */
  benchReset(): void;
  /** stops or resumes rendering in bench mode (one page measured at a time) */
  benchRun(on: boolean): void;
}

/** A bench measuring window as read by `bench()`. */
export interface BenchWindow {
  /** JS per frame, and its gl.render part [ms] (see scene/BenchProbe.tsx) */
  js: number[];
  render: number[];
  frames: number;
  /** window length so far [ms] */
  ms: number;
  /** draw calls and triangles of the last frame */
  calls: number;
  triangles: number;
  /** parts drawn in the last frame */
  parts: number;
}

/** Installs `window.__twinline`. */
export function installHooks(source: TwinSource, live: LiveStore, handle: SceneHandle, scenario: string): void {
  const v = new Vector3();
  const hooks: TwinlineHooks = {
    mode: source.mode,
    scenario,
    frames: () => handle.frames,
    tick: () => live.frame?.tick ?? -1,
    stations: () => (live.frame?.stations ?? []).map((s) => ({ id: s.id, state: s.state, fault: s.fault, alarms: s.alarms })),
    screenOf(id) {
      const st = source.line.stations.find((s) => s.id === id);
      const cam = handle.camera;
      const canvas = handle.canvas;
      if (st === undefined || cam === null || canvas === null) return null;
      v.set(st.layout.x, 0.8, st.layout.z).project(cam);
      if (v.z > 1 || Math.abs(v.x) > 1 || Math.abs(v.y) > 1) return null;
      const r = canvas.getBoundingClientRect();
      return { x: r.left + ((v.x + 1) / 2) * r.width, y: r.top + ((1 - v.y) / 2) * r.height };
    },
    parts() {
      const out = [];
      for (let k = 0; k < handle.partCount; k++) {
        const o = 4 * k;
        out.push({ x: handle.parts[o]!, y: handle.parts[o + 1]!, z: handle.parts[o + 2]!, serial: handle.parts[o + 3]! });
      }
      return out;
    },
    stackLight(id) {
      const s = handle.lamps.index.get(id);
      if (s === undefined) return 'off';
      const c = handle.lamps.colors;
      const names = ['red', 'yellow', 'green'];
      // a lit lamp is drawn at full colour, an unlit one at about a tenth of it
      const lit = [0, 1, 2].findIndex((k) => (c[9 * s + 3 * k] ?? 0) + (c[9 * s + 3 * k + 1] ?? 0) + (c[9 * s + 3 * k + 2] ?? 0) > 0.3);
      return lit < 0 ? 'off' : (names[lit] ?? 'off');
    },
    focus: (id) => handle.focus?.(id),
    overview: () => handle.overview?.(),
    hash: (ticks, seed) => standaloneHash(scenario, ticks, seed),
    network: () => (handle.network === null ? null : structuredClone(handle.network)),
    bench() {
      const b = handle.bench;
      if (b === null) return null;
      return {
        js: Array.from(b.js.subarray(0, b.n)), render: Array.from(b.render.subarray(0, b.n)), frames: b.frames,
        ms: performance.now() - b.since, calls: b.calls, triangles: b.triangles, parts: handle.partCount,
      };
    },
    benchReset: () => handle.bench?.reset(),
    benchRun: (on) => handle.bench?.run(on),
  };
  (window as unknown as { __twinline: TwinlineHooks }).__twinline = hooks;
}
