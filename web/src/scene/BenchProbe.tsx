/**
 * Bench mode only (`?bench=N`): times the JavaScript of every frame and counts its draw calls.
 * A global before-effect stamps the frame's start; this probe's useFrame runs last (priority 1,
 * so it renders the scene itself instead of R3F) and stamps the start and end of `gl.render`.
 * WebGL calls only queue commands for the GPU process, so the rasterisation (SwiftShader in the
 * headless bench) is not in these figures unless the driver makes the page wait.
 */
import { useEffect } from 'react';
import { addEffect, useFrame, useThree } from '@react-three/fiber';
import type { SceneHandle } from './handle.ts';

/** Frames one bench window can hold (≥ 60 fps for 2 minutes). */
const CAPACITY = 8192;

/** What the probe records; `reset()` starts a new measuring window. */
export interface BenchStats {
  /** JS time of each frame, from the first useFrame to the end of gl.render [ms] */
  js: Float64Array;
  /** of which gl.render [ms] */
  render: Float64Array;
  /** samples in the arrays (frames in the window, up to their capacity) */
  n: number;
  /** frames since the window started */
  frames: number;
  /** window start [ms, performance.now()] */
  since: number;
  /** draw calls and triangles of the last frame (renderer.info.render) */
  calls: number;
  triangles: number;
  reset(): void;
  /** stops or resumes the frame loop (a bench measures one page at a time) */
  run(on: boolean): void;
}

/** A fresh, empty `BenchStats`. */
export function makeBenchStats(): BenchStats {
  const b: BenchStats = {
    js: new Float64Array(CAPACITY), render: new Float64Array(CAPACITY), n: 0, frames: 0, since: performance.now(), calls: 0, triangles: 0,
    reset() {
      b.n = 0;
      b.frames = 0;
      b.since = performance.now();
    },
    run: () => undefined,
  };
  return b;
}

/** Records per-frame timings into `handle.bench` and renders the scene. */
export function BenchProbe({ handle }: { handle: SceneHandle }): null {
  const gl = useThree((s) => s.gl);
  const setFrameloop = useThree((s) => s.setFrameloop);
  useEffect(() => {
    const b = makeBenchStats();
    b.run = (on) => setFrameloop(on ? 'always' : 'never');
    handle.bench = b;
    const off = addEffect(() => {
      frameStart = performance.now();
    });
    return () => {
      off();
      handle.bench = null;
    };
  }, [handle, setFrameloop]);
  useFrame(({ scene, camera }) => {
    const t = performance.now();
    gl.render(scene, camera);
    const t1 = performance.now();
    const b = handle.bench;
    if (b === null) return;
    if (b.n < CAPACITY) {
      b.js[b.n] = t1 - frameStart;
      b.render[b.n] = t1 - t;
      b.n++;
    }
    b.frames++;
    b.calls = gl.info.render.calls;
    b.triangles = gl.info.render.triangles;
  }, 1);
  return null;
}

/** Start of the current frame [ms]; module state because the global effect has no props. */
let frameStart = 0;
