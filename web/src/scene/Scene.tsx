/**
 * The 3D line: floor, stations from the scenario layout, parts, lights and the orbit rig.
 * Live data is read from the `LiveStore` and the `TwinSource` inside `useFrame`, so React
 * re-renders only when the selection changes.
 */
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import { Canvas, useFrame, useThree } from '@react-three/fiber';
import { BufferGeometry, Float32BufferAttribute, type Group, type PerspectiveCamera } from 'three';
import type { TwinSource } from '../twin/types.ts';
import type { LiveStore } from '../twin/live.ts';
import { lineBounds, placeLine, type Placed } from './layout.ts';
import { StationModel } from './StationModel.tsx';
import { StationLabels } from './StationLabels.tsx';
import { People } from './People.tsx';
import { PartMeshes, Parts } from './Parts.tsx';
import { BenchProbe } from './BenchProbe.tsx';
import { StationLights } from './StationLights.tsx';
import { StaticMerge } from './StaticMerge.tsx';
import { NetworkOverlay } from './NetworkOverlay.tsx';
import { networkGraph, OVERLAY_REACH, withAlerts } from './network-graph.ts';
import { AlertMarkers } from './AlertMarkers.tsx';
import { Hall } from './Hall.tsx';
import { chooseLight } from './light.ts';
import type { NetworkReport } from '../twin/network.ts';
import type { AlertMarks } from '../twin/alerts.ts';
import type { Messages } from '../i18n/en.ts';
import { OrbitRig } from './orbit-rig.ts';
import { boxCorners, coverage, fitPoints, stationCorners, type Fit } from './fit.ts';
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
  /** what the active security alerts mark (stations, faces, links), or null (standalone) */
  alerts?: AlertMarks | null;
  /** a station's name in the page's language (shown over the view) */
  stationName(p: Placed): string;
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

/**
 * The overview's viewing angles [rad]: the default oblique view, the line seen from its +z side
 * and above, broadside on a wide canvas; and views more along the line and steeper, which a
 * tall canvas (a phone) shows larger, the line running up the screen. The one whose fitted
 * stations cover the most of the canvas is taken, the default unless another covers clearly more.
 */
const OVERVIEW_ANGLES: readonly (readonly [number, number])[] = [[-0.35, 0.95], [-0.55, 0.95], [-0.75, 0.95], [-0.95, 0.9], [-1.1, 0.9], [-1.3, 0.75]];

/** What an overview shows: the points to fit (x, y, z [m]; stations' box corners, or the overlay's box). */
interface View {
  points: Float64Array;
}

/** The overview of `view` for `camera` as it is now sized, and its angles [rad]. */
function overviewFit(view: View, camera: PerspectiveCamera): { fit: Fit; azimuth: number; polar: number } {
  let best: { fit: Fit; azimuth: number; polar: number; cover: number } | null = null;
  for (const [azimuth, polar] of OVERVIEW_ANGLES) {
    const fit = fitPoints(view.points, azimuth, polar, camera.fov, camera.aspect);
    const cover = coverage(view.points, fit, azimuth, polar);
    if (best === null || cover > best.cover * 1.15) best = { fit, azimuth, polar, cover };
  }
  return best!;
}

function Rig({ rig, handle, view }: { rig: OrbitRig; handle: SceneHandle; view: View }): null {
  const camera = useThree((s) => s.camera) as PerspectiveCamera;
  const gl = useThree((s) => s.gl);
  const size = useThree((s) => s.size);
  useEffect(() => {
    handle.rig = rig;
    handle.camera = camera;
    handle.canvas = gl.domElement;
    return rig.attach(gl.domElement);
  }, [rig, camera, gl, handle]);
  // the whole line on load, and again whenever the canvas is resized while the overview is shown
  const first = useRef(true);
  useEffect(() => {
    if (size.width <= 0 || size.height <= 0) return;
    if (!first.current && !rig.fitted) return;
    first.current = false;
    // R3F sets the aspect on resize too, but this effect may run first
    camera.aspect = size.width / size.height;
    camera.updateProjectionMatrix();
    const o = overviewFit(view, camera);
    rig.fit(o.fit, o.azimuth, o.polar, false);
    handle.fits++;
  }, [rig, camera, handle, view, size.width, size.height]);
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

/** A group drawn while `when()` holds, checked every frame (no React render). */
function Shown({ when, children }: { when(): boolean; children: ReactNode }): React.JSX.Element {
  const g = useRef<Group>(null);
  useFrame(() => {
    if (g.current !== null) g.current.visible = when();
  });
  return <group ref={g}>{children}</group>;
}

/** Floor grid lines every `step` m over a `w` × `h` m floor centred on the origin (one draw). */
function floorGrid(w: number, h: number, step: number): BufferGeometry {
  const pts: number[] = [];
  for (let x = -w / 2; x <= w / 2 + 1e-6; x += step) pts.push(x, 0, -h / 2, x, 0, h / 2);
  for (let z = -h / 2; z <= h / 2 + 1e-6; z += step) pts.push(-w / 2, 0, z, w / 2, 0, z);
  return new BufferGeometry().setAttribute('position', new Float32BufferAttribute(pts, 3));
}

/** The hall floor under the line (concrete, taking the baked shadows), with a subdued 2 m grid that ends where the floor ends. */
function Floor({ bounds }: { bounds: [number, number, number, number] }): React.JSX.Element {
  const [a, b, c, d] = bounds;
  const w = Math.ceil((c - a + 16) / 2) * 2;
  const h = Math.ceil((d - b + 16) / 2) * 2;
  const grid = useMemo(() => floorGrid(w, h, 2), [w, h]);
  useEffect(() => () => grid.dispose(), [grid]);
  return (
    <group position={[(a + c) / 2, 0, (b + d) / 2]}>
      <mesh rotation-x={-Math.PI / 2} position={[0, -0.01, 0]} receiveShadow userData={FLOOR}>
        <planeGeometry args={[w, h]} />
        <meshStandardMaterial color={0x6a6f74} roughness={0.92} metalness={0} />
      </mesh>
      <lineSegments geometry={grid} position={[0, 0.001, 0]}>
        <lineBasicMaterial color={0x5f656b} transparent opacity={0.45} />
      </lineSegments>
    </group>
  );
}

/** Marks the floor: it takes shadows and casts none. */
const FLOOR = { floor: true } as const;

/** Focus distance that frames a station [m]. */
export function focusDistance(p: Placed): number {
  return Math.max(7, p.length * 1.3);
}

/** The 3D view of the line. */
export function Scene({ source, live, handle, selected, onSelect, network = null, netLabels, alerts = null, stationName, bench = null }: SceneProps): React.JSX.Element {
  const placed = useMemo(() => placeLine(source.line), [source]);
  const bounds = useMemo(() => lineBounds(placed), [placed]);
  const graph = useMemo(() => (network === null ? null : withAlerts(networkGraph(network, placed, bounds, netLabels), alerts, netLabels)), [network, placed, bounds, netLabels, alerts]);
  const rig = useMemo(() => new OrbitRig(), []);
  // the overview takes in the network overlay (behind and above the line) while it is on
  const overlayOn = network !== null;
  const view = useMemo((): View => {
    const [a, b, c, d] = bounds;
    return { points: overlayOn ? boxCorners([a, b - OVERLAY_REACH.behind, c, d], OVERLAY_REACH.height) : stationCorners(placed) };
  }, [bounds, placed, overlayOn]);
  const look = source.line.id.startsWith('steel') ? 'steel' : 'ceramic';
  // the hall's light is chosen once: the canvas's antialiasing and shadow map are fixed at its creation
  const light = useMemo(() => chooseLight(location.search), []);
  useEffect(() => {
    handle.light = light.mode;
  }, [handle, light]);
  useEffect(() => {
    handle.focus = (id) => {
      const p = placed.find((q) => q.info.id === id);
      if (p !== undefined) rig.focus(p.x, 1, p.z, focusDistance(p));
    };
    handle.overview = () => {
      const cam = handle.camera as PerspectiveCamera | null;
      if (cam === null) return;
      const o = overviewFit(view, cam);
      rig.fit(o.fit, o.azimuth, o.polar, true);
      handle.fits++;
    };
    return () => {
      handle.focus = null;
      handle.overview = null;
    };
  }, [handle, placed, rig, view]);
  const select = (id: string): void => {
    handle.focus?.(id);
    onSelect(id);
  };
  return (
    <Canvas
      frameloop={bench !== null ? 'always' : 'demand'} shadows={light.mode === 'full' ? 'percentage' : false} camera={{ fov: 45, near: 0.1, far: 2000 }} dpr={1}
      gl={{ antialias: light.mode === 'full' }} data-testid="scene" data-light={light.mode} title={light.mode === 'simple' && light.renderer !== '' ? `${light.renderer}: simple light (?light=full for the full hall)` : undefined}
    >
      {bench !== null ? <BenchProbe handle={handle} /> : <Pace />}
      <color attach="background" args={[0x1a2028]} />
      <Hall bounds={bounds} mode={light.mode} />
      <Rig rig={rig} handle={handle} view={view} />
      <Floor bounds={bounds} />
      {bench === null ? <StationLabels placed={placed} name={stationName} /> : null}
      <Shown when={() => handle.stationsShown}>
        <StaticMerge enabled={bench?.merge !== false}>
          {placed.map((p) => (
            <StationModel key={p.info.id} placed={p} live={live} selected={selected === p.info.id} onSelect={select} />
          ))}
        </StaticMerge>
        <StationLights placed={placed} live={live} handle={handle} selected={selected} />
      </Shown>
      <People placed={placed} live={live} handle={handle} />
      {alerts !== null ? <AlertMarkers placed={placed} marks={alerts.stations} handle={handle} /> : null}
      {graph !== null ? <NetworkOverlay graph={graph} handle={handle} /> : null}
      {bench?.partMeshes === true ? (
        <PartMeshes source={source} placed={placed} handle={handle} look={look} count={bench.parts} />
      ) : (
        <Parts source={source} placed={placed} handle={handle} look={look} />
      )}
    </Canvas>
  );
}
