/**
 * The 3D line: floor, stations from the scenario layout, parts, lights and the orbit rig.
 * Live data is read from the `LiveStore` and the `TwinSource` inside `useFrame`, so React
 * re-renders only when the selection changes.
 */
import { useEffect, useMemo } from 'react';
import { Canvas, useFrame, useThree } from '@react-three/fiber';
import type { PerspectiveCamera } from 'three';
import type { TwinSource } from '../twin/types.ts';
import type { LiveStore } from '../twin/live.ts';
import { lineBounds, placeLine, type Placed } from './layout.ts';
import { StationModel } from './StationModel.tsx';
import { PartMeshes, Parts } from './Parts.tsx';
import { BenchProbe } from './BenchProbe.tsx';
import { StationLights } from './StationLights.tsx';
import { StaticMerge } from './StaticMerge.tsx';
import { NetworkOverlay } from './NetworkOverlay.tsx';
import { networkGraph } from './network-graph.ts';
import type { NetworkReport } from '../twin/network.ts';
import type { Messages } from '../i18n/en.ts';
import { OrbitRig } from './orbit-rig.ts';
import type { SceneHandle } from './handle.ts';

/** Props of `Scene`. */
export interface SceneProps {
  source: TwinSource;
  live: LiveStore;
  handle: SceneHandle;
  selected: string | null;
  onSelect(id: string): void;
  /** the network overlay's latest report, or null while the overlay is off */
  network?: NetworkReport | null;
  /** labels of the overlay, in the page's language */
  netLabels: Messages['net'];
  /** bench mode (`?bench=N`): unpaced frames, timings in `handle.bench`; optionally one mesh per part */
  bench?: SceneBench | null;
}

/** What the render bench asks of the scene (URL flags, never the normal UI). */
export interface SceneBench {
  /** parts as one mesh each (the baseline) instead of one InstancedMesh */
  partMeshes: boolean;
  /** parts to make meshes for in that baseline */
  parts: number;
  /** false: leave static station meshes unmerged (to show what merging saves) */
  merge: boolean;
}

function Rig({ rig, handle, bounds }: { rig: OrbitRig; handle: SceneHandle; bounds: [number, number, number, number] }): null {
  const camera = useThree((s) => s.camera) as PerspectiveCamera;
  const gl = useThree((s) => s.gl);
  useEffect(() => {
    const [a, b, c, d] = bounds;
    rig.set((a + c) / 2, 0, (b + d) / 2, Math.max(c - a, d - b) * 0.75 + 8);
    handle.rig = rig;
    handle.camera = camera;
    handle.canvas = gl.domElement;
    return rig.attach(gl.domElement);
  }, [rig, camera, gl, handle, bounds]);
  useFrame((_, dt) => {
    rig.update(camera, dt);
    handle.frames++;
  });
  return null;
}

/** Frames per second at most: the twin shares the CPU with the simulation worker. */
const MAX_FPS = 30;

/** Drives the on-demand frame loop at up to MAX_FPS. */
function Pace(): null {
  const invalidate = useThree((s) => s.invalidate);
  useEffect(() => {
    const id = setInterval(() => invalidate(), 1000 / MAX_FPS);
    return () => clearInterval(id);
  }, [invalidate]);
  return null;
}

function Floor({ bounds }: { bounds: [number, number, number, number] }): React.JSX.Element {
  const [a, b, c, d] = bounds;
  const w = c - a + 16;
  const h = d - b + 16;
  const size = Math.ceil(Math.max(w, h) / 2) * 2;
  return (
    <group position={[(a + c) / 2, 0, (b + d) / 2]}>
      <mesh rotation-x={-Math.PI / 2} position={[0, -0.01, 0]}>
        <planeGeometry args={[w, h]} />
        <meshStandardMaterial color={0x5b636b} roughness={0.95} />
      </mesh>
      <gridHelper args={[size, size / 2, 0x6e7781, 0x6e7781]} position={[0, 0.001, 0]} />
    </group>
  );
}

/** Focus distance that frames a station [m]. */
export function focusDistance(p: Placed): number {
  return Math.max(7, p.length * 1.3);
}

/** The 3D view of the line. */
export function Scene({ source, live, handle, selected, onSelect, network = null, netLabels, bench = null }: SceneProps): React.JSX.Element {
  const placed = useMemo(() => placeLine(source.line), [source]);
  const bounds = useMemo(() => lineBounds(placed), [placed]);
  const graph = useMemo(() => (network === null ? null : networkGraph(network, placed, bounds, netLabels)), [network, placed, bounds, netLabels]);
  const rig = useMemo(() => new OrbitRig(), []);
  const look = source.line.id.startsWith('steel') ? 'steel' : 'ceramic';
  useEffect(() => {
    handle.focus = (id) => {
      const p = placed.find((q) => q.info.id === id);
      if (p !== undefined) rig.focus(p.x, 1, p.z, focusDistance(p));
    };
    const [a, b, c, d] = bounds;
    handle.overview = () => rig.focus((a + c) / 2, 0, (b + d) / 2, Math.max(c - a, d - b) * 0.75 + 8);
    return () => {
      handle.focus = null;
      handle.overview = null;
    };
  }, [handle, placed, rig, bounds]);
  const select = (id: string): void => {
    handle.focus?.(id);
    onSelect(id);
  };
  return (
    <Canvas frameloop={bench !== null ? 'always' : 'demand'} camera={{ fov: 45, near: 0.1, far: 2000 }} dpr={1} gl={{ antialias: true }} data-testid="scene">
      {bench !== null ? <BenchProbe handle={handle} /> : <Pace />}
      <color attach="background" args={[0x1a2028]} />
      <hemisphereLight args={[0xdde8ff, 0x30343a, 1.1]} />
      <directionalLight position={[40, 60, 30]} intensity={1.6} />
      <Rig rig={rig} handle={handle} bounds={bounds} />
      <Floor bounds={bounds} />
      <StaticMerge enabled={bench?.merge !== false}>
        {placed.map((p) => (
          <StationModel key={p.info.id} placed={p} live={live} selected={selected === p.info.id} onSelect={select} />
        ))}
      </StaticMerge>
      <StationLights placed={placed} live={live} handle={handle} selected={selected} />
      {graph !== null ? <NetworkOverlay graph={graph} handle={handle} /> : null}
      {bench?.partMeshes === true ? (
        <PartMeshes source={source} placed={placed} handle={handle} look={look} count={bench.parts} />
      ) : (
        <Parts source={source} placed={placed} handle={handle} look={look} />
      )}
    </Canvas>
  );
}
