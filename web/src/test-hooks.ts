/**
 * `window.__twinline`: a small read-only window into the running page (what is drawn, where
 * a station is on screen, the determinism check) for end-to-end tests and debugging.
 */
import { Vector3 } from 'three';
import type { NetworkDrawn, SceneHandle } from './scene/handle.ts';
import type { LiveStore } from './twin/live.ts';
import type { TwinSource } from './twin/types.ts';
import { standaloneHash } from './twin/standalone.ts';
import { KEY } from './scene/Hall.tsx';

/** points of an alert ring `alertMarks()` reports */
export const RING_POINTS = 12;

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
  /** where the drawn parts are in the canvas [px from its top left], those in front of the camera, optionally only on stations of `kinds` */
  partsOnCanvas(kinds?: string[]): { x: number; y: number }[];
  /** draws the parts or leaves them out (to tell their pixels from the rest of the frame) */
  showParts(on: boolean): void;
  /**
   * where the floor is in the canvas [px from its top left] `gap` m beside a station's body,
   * across its flow: on the side facing the key light and on the side away from it (null: not
   * on screen)
   */
  floorBeside(id: string, gap: number): { lit: { x: number; y: number } | null; shade: { x: number; y: number } | null } | null;
  /** draws the stations or leaves them out (to tell their pixels from the floor) */
  showStations(on: boolean): void;
  /** where the drawn operator figures are in the canvas [px from its top left] (all of them, on screen or not) */
  peopleOnCanvas(): { x: number; y: number }[];
  /** draws the operator figures or leaves them out */
  showPeople(on: boolean): void;
  /** overview fits so far: on load, on a resize while the overview is shown, by the fit control */
  fits(): number;
  /** whether the camera shows the fitted overview (not orbited, zoomed or focused since) */
  fitted(): boolean;
  /** the lit lamp of a station's stack light as rendered: 'red' | 'yellow' | 'green' | 'off' */
  stackLight(id: string): string;
  focus(id: string): void;
  /** glides the camera back to the whole line */
  overview(): void;
  /** event-log hash after stepping `ticks` ticks of this scenario (loop not running), computed in a fresh worker */
  hash(ticks: number, seed?: number): Promise<string>;
  /** the network overlay as drawn (nodes, links with rates [1/s] and colours), or null while it is off */
  network(): NetworkDrawn | null;
  /**
   * stations marked for an active security alert as drawn: severity, colour, and where the
   * beacon and RING_POINTS points of the ring (every 30° from the end along the station, on the
   * ring however it pulses; the station itself hides those behind it) are in the canvas [px from
   * its top left] (null: behind the camera)
   */
  alertMarks(): { station: string; severity: string; colour: string; beacon: { x: number; y: number } | null; ring: ({ x: number; y: number } | null)[] }[];
  /** draws the alert marks or leaves them out (to tell their pixels from the rest of the frame) */
  showAlertMarks(on: boolean): void;
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
    floorBeside(id, gap) {
      const st = source.line.stations.find((s) => s.id === id);
      const cam = handle.camera;
      const canvas = handle.canvas;
      if (st === undefined || cam === null || canvas === null) return null;
      const rot = (st.layout.rotation * Math.PI) / 180;
      // across the flow (as layout.ts places parts), turned to face the key light
      let nx = Math.sin(rot);
      let nz = Math.cos(rot);
      if (nx * KEY[0] + nz * KEY[2] < 0) {
        nx = -nx;
        nz = -nz;
      }
      const d = (st.kind === 'conveyor' ? 1.1 : 2.2) / 2 + gap;
      const at = (k: number): { x: number; y: number } | null => {
        v.set(st.layout.x + k * d * nx, 0, st.layout.z + k * d * nz).project(cam);
        if (v.z > 1 || Math.abs(v.x) > 1 || Math.abs(v.y) > 1) return null;
        return { x: ((v.x + 1) / 2) * canvas.clientWidth, y: ((1 - v.y) / 2) * canvas.clientHeight };
      };
      return { lit: at(1), shade: at(-1) };
    },
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
    partsOnCanvas(kinds) {
      const cam = handle.camera;
      const canvas = handle.canvas;
      if (cam === null || canvas === null) return [];
      const out = [];
      for (let k = 0; k < handle.partCount; k++) {
        const kind = source.line.stations[handle.partStations[k]!]?.kind ?? '';
        if (kinds !== undefined && !kinds.includes(kind)) continue;
        v.set(handle.parts[4 * k]!, handle.parts[4 * k + 1]!, handle.parts[4 * k + 2]!).project(cam);
        if (v.z > 1 || Math.abs(v.x) > 1 || Math.abs(v.y) > 1) continue;
        out.push({ x: ((v.x + 1) / 2) * canvas.clientWidth, y: ((1 - v.y) / 2) * canvas.clientHeight });
      }
      return out;
    },
    showParts(on) {
      handle.partsShown = on;
    },
    showStations(on) {
      handle.stationsShown = on;
    },
    peopleOnCanvas() {
      const cam = handle.camera;
      const canvas = handle.canvas;
      if (cam === null || canvas === null) return [];
      const out = [];
      for (let k = 0; k < handle.peopleCount; k++) {
        v.set(handle.people[3 * k]!, handle.people[3 * k + 1]!, handle.people[3 * k + 2]!).project(cam);
        out.push({ x: ((v.x + 1) / 2) * canvas.clientWidth, y: ((1 - v.y) / 2) * canvas.clientHeight });
      }
      return out;
    },
    showPeople(on) {
      handle.peopleShown = on;
    },
    fits: () => handle.fits,
    fitted: () => handle.rig?.fitted ?? false,
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
    alertMarks() {
      const cam = handle.camera;
      const canvas = handle.canvas;
      const onCanvas = (x: number, y: number, z: number): { x: number; y: number } | null => {
        if (cam === null || canvas === null) return null;
        v.set(x, y, z).project(cam);
        return v.z > 1 ? null : { x: ((v.x + 1) / 2) * canvas.clientWidth, y: ((1 - v.y) / 2) * canvas.clientHeight };
      };
      // the ring spans 0.84…1 of its half-axes, grown by up to 12 % as it pulses: 0.97 is always on it
      const ring = (a: (typeof handle.alerts)[number]): ({ x: number; y: number } | null)[] => Array.from({ length: RING_POINTS }, (_, k) => {
        const lx = 0.97 * a.ringA * Math.cos((2 * Math.PI * k) / RING_POINTS);
        const lz = 0.97 * a.ringB * Math.sin((2 * Math.PI * k) / RING_POINTS);
        const c = Math.cos(a.rot);
        const s = Math.sin(a.rot);
        return onCanvas(a.x + lx * c + lz * s, 0.1, a.z - lx * s + lz * c);
      });
      return handle.alerts.map((a) => ({ station: a.station, severity: a.severity, colour: a.colour, beacon: onCanvas(a.x, a.y, a.z), ring: ring(a) }));
    },
    showAlertMarks(on) {
      handle.alertsShown = on;
    },
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
