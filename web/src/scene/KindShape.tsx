/**
 * Procedural models by machine kind, readable at a glance: a belt with rollers, a long glowing
 * tunnel for kilns, a press frame with a ram, a robot arm, a camera on a gantry, bins… The
 * moving parts follow the live state: a stopped or jammed belt stands still, a hot kiln glows.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { BoxGeometry, Color, MeshStandardMaterial, Object3D, type BufferGeometry, type Group, type InstancedMesh, type Mesh } from 'three';
import { mergeGeometries } from 'three/addons/utils/BufferGeometryUtils.js';
import type { Placed } from './layout.ts';
import type { LiveStore } from '../twin/live.ts';
import type { StationInfo } from '../twin/types.ts';
import { DYNAMIC } from './static-merge.ts';
import { approach, BRICK, CARDBOARD, GLASS, heatGlow, PAINT, RUBBER, SAFETY, STEEL, WATER } from './materials.ts';

/** Props of a kind model. */
export interface KindProps {
  placed: Placed;
  live: LiveStore;
  /** across the flow [m] */
  width: number;
}

function tagIndex(info: StationInfo, name: string): number {
  return info.tags.findIndex((t) => t.name === name);
}

/** Whether station `index` is working now (Execute, no fault, busy). */
function working(live: LiveStore, index: number): boolean {
  const st = live.frame?.stations[index];
  return st !== undefined && st.state === 'Execute' && st.fault === 'none' && st.activity === 'busy';
}

function Legs({ length, width, height }: { length: number; width: number; height: number }): React.JSX.Element {
  const xs = [-length / 2 + 0.1, length / 2 - 0.1];
  const zs = [-width / 2 + 0.05, width / 2 - 0.05];
  return (
    <>
      {xs.flatMap((x) => zs.map((z) => (
        <mesh key={`${x}:${z}`} position={[x, height / 2, z]} material={STEEL}>
          <boxGeometry args={[0.08, height, 0.08]} />
        </mesh>
      )))}
    </>
  );
}

const CLEAT_PITCH = 0.5;

/** Belt conveyor: frame, rollers, a belt whose cleats travel at belt speed while it runs. */
function Conveyor({ placed, live }: KindProps): React.JSX.Element {
  const { length, info, index } = placed;
  const cleats = useRef<InstancedMesh>(null);
  const count = Math.max(1, Math.floor(length / CLEAT_PITCH));
  const speedTag = useMemo(() => tagIndex(info, 'speed'), [info]);
  const state = useMemo(() => ({ offset: 0, dummy: new Object3D() }), []);
  useFrame((_, dt) => {
    const f = live.frame;
    const st = f?.stations[index];
    // a paused line's belts stand still, whatever state its stations were left in
    const runs = f?.running === true && st !== undefined && st.state === 'Execute' && st.fault === 'none';
    const speed = runs && speedTag >= 0 ? (f?.tags[index]?.[speedTag] ?? 0) : 0;
    state.offset = (state.offset + speed * Math.min(dt, 0.1)) % CLEAT_PITCH;
    const m = cleats.current;
    if (m === null) return;
    const d = state.dummy;
    for (let k = 0; k < count; k++) {
      d.position.set(-length / 2 + ((k * CLEAT_PITCH + state.offset) % length), 0.795, 0);
      d.updateMatrix();
      m.setMatrixAt(k, d.matrix);
    }
    m.instanceMatrix.needsUpdate = true;
  });
  const rollers = Math.max(2, Math.floor(length / 0.6));
  return (
    <group>
      <mesh position={[0, 0.72, 0]} material={STEEL}>
        <boxGeometry args={[length, 0.1, 1.0]} />
      </mesh>
      <mesh position={[0, 0.78, 0]} material={RUBBER}>
        <boxGeometry args={[length, 0.025, 0.8]} />
      </mesh>
      <instancedMesh ref={cleats} args={[undefined, undefined, count]} material={SAFETY}>
        <boxGeometry args={[0.05, 0.02, 0.8]} />
      </instancedMesh>
      {Array.from({ length: rollers }, (_, k) => (
        <mesh key={k} position={[-length / 2 + (k + 0.5) * (length / rollers), 0.69, 0]} rotation-x={Math.PI / 2} material={STEEL}>
          <cylinderGeometry args={[0.05, 0.05, 1.04, 10]} />
        </mesh>
      ))}
      <Legs length={length} width={1.0} height={0.67} />
    </group>
  );
}

/**
 * The glowing windows of one tunnel zone (both sides and the roof), 1 m long, as one geometry:
 * one draw call per zone; the zone's mesh is scaled to the zone length.
 */
function zoneWindow(h: number, width: number): BufferGeometry {
  const side = (z: number): BufferGeometry => new BoxGeometry(1, h * 0.5, 0.04).translate(0, 0, z);
  const parts = [side(width / 2 + 0.02), side(-width / 2 - 0.02), new BoxGeometry(1, 0.04, width * 0.5).translate(0, h * 0.47, 0)];
  const geo = mergeGeometries(parts, false);
  for (const p of parts) p.dispose();
  return geo ?? new BoxGeometry(1, h * 0.5, width);
}

/** Tunnel kiln, dryer or cooling tunnel: a long box in zones that glow with their temperature. */
function Tunnel({ placed, live, width }: KindProps): React.JSX.Element {
  const { length, info, index } = placed;
  const kiln = info.kind === 'kiln';
  const zoneTags = useMemo(
    () => (kiln ? ['t1', 't2', 't3', 't4'] : [info.kind === 'dryer' ? 'airTemp' : 'lastExitTemp']).map((n) => tagIndex(info, n)),
    [info, kiln],
  );
  const zonesTag = useMemo(() => tagIndex(info, 'zones'), [info]);
  const zones = useMemo(() => zoneTags.map(() => new MeshStandardMaterial({ color: 0x3a2a24, roughness: 0.9, emissive: 0x000000 })), [zoneTags]);
  const windows = useRef<(Mesh | null)[]>([]);
  const tmp = useMemo(() => new Color(), []);
  const h = kiln ? 2.4 : 1.9;
  const windowGeo = useMemo(() => zoneWindow(h, width), [h, width]);
  useEffect(() => () => windowGeo.dispose(), [windowGeo]);
  useFrame(() => {
    const tags = live.frame?.tags[index];
    const n = kiln ? Math.min(4, Math.max(1, Math.round(zonesTag >= 0 ? (tags?.[zonesTag] ?? 3) : 3))) : 1;
    const zl = length / n;
    for (let z = 0; z < zones.length; z++) {
      const k = zoneTags[z] ?? -1;
      const t = k >= 0 ? (tags?.[k] ?? 20) : 20;
      const mat = zones[z]!;
      mat.emissiveIntensity = heatGlow(t, tmp);
      mat.emissive.copy(tmp);
      const w = windows.current[z];
      if (w) {
        w.visible = z < n;
        w.position.x = -length / 2 + (z + 0.5) * zl;
        w.scale.x = zl * 0.86;
      }
    }
  });
  return (
    <group>
      <mesh position={[0, h / 2 + 0.08, 0]} material={kiln ? BRICK : PAINT}>
        <boxGeometry args={[length, h, width]} />
      </mesh>
      {zones.map((m, z) => (
        <mesh key={z} ref={(g) => { windows.current[z] = g; }} position={[0, h * 0.55, 0]} userData={DYNAMIC} geometry={windowGeo} material={m} />
      ))}
      {kiln ? (
        <mesh position={[length * 0.1, h + 1.2, 0]} material={STEEL}>
          <cylinderGeometry args={[0.25, 0.3, 2.4, 12]} />
        </mesh>
      ) : null}
    </group>
  );
}

/** Press: bed, columns, crown and a ram that strokes while the press works. */
function Press({ placed, live, width }: KindProps): React.JSX.Element {
  const ram = useRef<Mesh>(null);
  const phase = useRef(0);
  const L = Math.min(placed.length, 2.4);
  useFrame((_, dt) => {
    const on = working(live, placed.index);
    phase.current = on ? phase.current + dt * 3 : approach(phase.current, Math.ceil(phase.current / Math.PI) * Math.PI, 4, dt);
    if (ram.current !== null) ram.current.position.y = 2.0 - 0.35 * Math.abs(Math.sin(phase.current));
  });
  return (
    <group>
      <mesh position={[0, 0.5, 0]} material={PAINT}><boxGeometry args={[L, 0.9, width * 0.8]} /></mesh>
      {[-1, 1].map((s) => (
        <mesh key={s} position={[s * (L / 2 - 0.15), 1.6, 0]} material={PAINT}><boxGeometry args={[0.25, 2.2, width * 0.6]} /></mesh>
      ))}
      <mesh position={[0, 2.8, 0]} material={PAINT}><boxGeometry args={[L, 0.5, width * 0.8]} /></mesh>
      <mesh ref={ram} position={[0, 2.0, 0]} material={SAFETY} userData={DYNAMIC}><boxGeometry args={[L * 0.6, 0.5, width * 0.5]} /></mesh>
    </group>
  );
}

/** Six-axis robot in outline: base, turning column, upper arm and forearm. */
function Robot({ placed, live }: KindProps): React.JSX.Element {
  const turn = useRef<Group>(null);
  const t = useRef(0);
  useFrame((_, dt) => {
    if (working(live, placed.index)) t.current += dt * 1.6;
    if (turn.current !== null) turn.current.rotation.y = Math.sin(t.current) * 1.4;
  });
  return (
    <group>
      <mesh position={[0, 0.25, 0]} material={STEEL}><cylinderGeometry args={[0.45, 0.5, 0.5, 16]} /></mesh>
      <group ref={turn} position={[0, 0.5, 0]} userData={DYNAMIC}>
        <mesh position={[0, 0.35, 0]} material={SAFETY}><cylinderGeometry args={[0.3, 0.35, 0.7, 16]} /></mesh>
        <group position={[0, 0.7, 0]} rotation-z={-0.5}>
          <mesh position={[0, 0.7, 0]} material={SAFETY}><boxGeometry args={[0.25, 1.4, 0.25]} /></mesh>
          <group position={[0, 1.4, 0]} rotation-z={1.6}>
            <mesh position={[0, 0.55, 0]} material={SAFETY}><boxGeometry args={[0.18, 1.1, 0.18]} /></mesh>
            <mesh position={[0, 1.15, 0]} material={STEEL}><boxGeometry args={[0.3, 0.12, 0.12]} /></mesh>
          </group>
        </group>
      </group>
    </group>
  );
}

/** Inspection: a short belt under a gantry carrying a camera (or an operator at a table). */
function Inspection({ placed, live, width }: KindProps): React.JSX.Element {
  const lens = useMemo(() => new MeshStandardMaterial({ color: 0x111111, emissive: 0x66ccff, emissiveIntensity: 0 }), []);
  useFrame(({ clock }) => {
    lens.emissiveIntensity = working(live, placed.index) && Math.sin(clock.elapsedTime * 12) > 0.6 ? 3 : 0.1;
  });
  const L = placed.length;
  const manual = placed.info.kind !== 'vision';
  return (
    <group>
      <mesh position={[0, 0.45, 0]} material={PAINT}><boxGeometry args={[L, 0.9, 1.0]} /></mesh>
      {/* a manual table's people are the crew the simulation reports (People.tsx) */}
      {manual ? null : (
        <>
          {[-1, 1].map((s) => (
            <mesh key={s} position={[0, 1.3, s * (width / 2 - 0.1)]} material={STEEL}><boxGeometry args={[0.12, 2.6, 0.12]} /></mesh>
          ))}
          <mesh position={[0, 2.6, 0]} material={STEEL}><boxGeometry args={[0.16, 0.16, width]} /></mesh>
          <mesh position={[0, 2.35, 0]} material={PAINT}><boxGeometry args={[0.3, 0.3, 0.4]} /></mesh>
          <mesh position={[0, 2.15, 0]} material={lens}><cylinderGeometry args={[0.08, 0.1, 0.14, 12]} /></mesh>
        </>
      )}
    </group>
  );
}

/** Furnace, pouring station or quench: a vessel; a furnace's melt glows with its temperature. */
function Vessel({ placed, live, width }: KindProps): React.JSX.Element {
  const { info, index } = placed;
  const k = useMemo(() => tagIndex(info, info.kind === 'induction-furnace' ? 'melt' : 'lastPourTemp'), [info]);
  const melt = useMemo(() => new MeshStandardMaterial({ color: 0x2a1a10, emissive: 0x000000 }), []);
  const tmp = useMemo(() => new Color(), []);
  useFrame(() => {
    const t = k >= 0 ? (live.frame?.tags[index]?.[k] ?? 20) : 20;
    melt.emissiveIntensity = heatGlow(t, tmp);
    melt.emissive.copy(tmp);
  });
  const r = Math.min(placed.length, width) * 0.35;
  const quench = info.kind === 'quench';
  return (
    <group>
      <mesh position={[0, 0.7, 0]} material={quench ? STEEL : BRICK}><cylinderGeometry args={[r, r * 0.9, 1.4, 20, 1, true]} /></mesh>
      <mesh position={[0, 1.3, 0]} rotation-x={-Math.PI / 2} material={quench ? WATER : melt}><circleGeometry args={[r * 0.95, 20]} /></mesh>
      <mesh position={[0, 0.05, 0]} material={STEEL}><cylinderGeometry args={[r * 1.05, r * 1.05, 0.1, 20]} /></mesh>
    </group>
  );
}

/** A bin: an open box (scrap bins are painted red). */
function Bin({ placed, live }: KindProps): React.JSX.Element {
  const L = Math.min(placed.length, 1.6);
  const scrapTag = useMemo(() => tagIndex(placed.info, 'scrapBin'), [placed.info]);
  const wall = useMemo(() => new MeshStandardMaterial({ color: 0x8fa3b8, roughness: 0.7 }), []);
  useFrame(() => {
    const scrap = scrapTag >= 0 && (live.frame?.tags[placed.index]?.[scrapTag] ?? 0) > 0;
    wall.color.setHex(scrap ? 0xa33a2a : 0x5d8a5a);
  });
  return (
    <group>
      <mesh position={[0, 0.05, 0]} material={wall}><boxGeometry args={[L, 0.1, L]} /></mesh>
      {[[0, L / 2], [0, -L / 2], [L / 2, 0], [-L / 2, 0]].map(([x, z], k) => (
        <mesh key={k} position={[x ?? 0, 0.4, z ?? 0]} rotation-y={k < 2 ? 0 : Math.PI / 2} material={wall}>
          <boxGeometry args={[L, 0.8, 0.06]} />
        </mesh>
      ))}
    </group>
  );
}

/**
 * Cable extruder: frame, barrel with heater bands that glow while it extrudes, hopper, crosshead,
 * a long water trough with the cable running through it, and (with SPC, tag `spc` 1) a laser
 * gauge head on the cable whose beam shows while it measures.
 */
function Extruder({ placed, live, width }: KindProps): React.JSX.Element {
  const { info, index, length: L } = placed;
  const spcTag = useMemo(() => tagIndex(info, 'spc'), [info]);
  const bands = useMemo(() => new MeshStandardMaterial({ color: 0x6b4a2a, emissive: 0x000000, roughness: 0.6 }), []);
  const beam = useMemo(() => new MeshStandardMaterial({ color: 0x220000, emissive: 0xff2a2a, emissiveIntensity: 0 }), []);
  const gauge = useRef<Group>(null);
  const tmp = useMemo(() => new Color(), []);
  useFrame(() => {
    const on = working(live, index);
    bands.emissiveIntensity = heatGlow(on ? 700 : 300, tmp) * 0.5;
    bands.emissive.copy(tmp);
    const spc = spcTag >= 0 && (live.frame?.tags[index]?.[spcTag] ?? 0) === 1;
    if (gauge.current !== null) gauge.current.visible = spc;
    beam.emissiveIntensity = spc && on ? 2.5 : 0;
  });
  const barrel = Math.min(2.4, L * 0.3);
  const x0 = -L / 2 + barrel / 2 + 0.2;
  const trough = L - barrel - 0.8;
  const tx = L / 2 - trough / 2 - 0.1;
  return (
    <group>
      <mesh position={[x0, 0.45, 0]} material={PAINT}><boxGeometry args={[barrel + 0.3, 0.9, width * 0.5]} /></mesh>
      <mesh position={[x0, 1.15, 0]} rotation-z={Math.PI / 2} material={STEEL}><cylinderGeometry args={[0.22, 0.22, barrel, 16]} /></mesh>
      {[0, 1, 2, 3].map((k) => (
        <mesh key={k} position={[x0 - barrel / 2 + (k + 0.5) * (barrel / 4), 1.15, 0]} rotation-z={Math.PI / 2} material={bands} userData={DYNAMIC}>
          <cylinderGeometry args={[0.26, 0.26, barrel / 8, 16]} />
        </mesh>
      ))}
      <mesh position={[x0 - barrel / 2 + 0.3, 1.75, 0]} material={STEEL}><cylinderGeometry args={[0.35, 0.1, 0.7, 12]} /></mesh>
      <mesh position={[x0 + barrel / 2 + 0.15, 1.15, 0]} material={SAFETY}><boxGeometry args={[0.3, 0.6, 0.6]} /></mesh>
      <group position={[tx, 0, 0]}>
        <Legs length={trough} width={0.5} height={0.8} />
        <mesh position={[0, 0.9, 0]} material={STEEL}><boxGeometry args={[trough, 0.2, 0.5]} /></mesh>
        <mesh position={[0, 1.0, 0]} rotation-x={-Math.PI / 2} material={WATER}><planeGeometry args={[trough * 0.98, 0.42]} /></mesh>
      </group>
      <mesh position={[(x0 + barrel / 2 + L / 2) / 2, 1.05, 0]} rotation-z={Math.PI / 2} material={RUBBER}>
        <cylinderGeometry args={[0.03, 0.03, L / 2 - x0 - barrel / 2, 8]} />
      </mesh>
      <group ref={gauge} position={[L / 2 - 0.5, 1.05, 0]} visible={false} userData={DYNAMIC}>
        <mesh material={PAINT}><boxGeometry args={[0.3, 0.6, 0.6]} /></mesh>
        <mesh position={[0, 0, 0]} material={beam}><boxGeometry args={[0.04, 0.5, 0.62]} /></mesh>
      </group>
    </group>
  );
}

/** Spring coiler: cabinet, a wire coil on a swift beside it that turns while the coiler works, feed rolls and a tray. */
function Coiler({ placed, live, width }: KindProps): React.JSX.Element {
  const swift = useRef<Group>(null);
  useFrame((_, dt) => {
    if (swift.current !== null && working(live, placed.index)) swift.current.rotation.y += dt * 2;
  });
  const L = Math.min(placed.length, 2);
  return (
    <group>
      <mesh position={[0, 0.8, 0]} material={PAINT}><boxGeometry args={[L * 0.7, 1.6, width * 0.5]} /></mesh>
      <mesh position={[L * 0.36, 1.1, 0]} material={STEEL}><boxGeometry args={[0.1, 0.5, 0.5]} /></mesh>
      {[-0.12, 0.12].map((y) => (
        <mesh key={y} position={[L * 0.42, 1.1 + y, 0]} rotation-x={Math.PI / 2} material={STEEL}><cylinderGeometry args={[0.07, 0.07, 0.2, 12]} /></mesh>
      ))}
      <mesh position={[L * 0.45, 0.35, 0]} material={STEEL}><boxGeometry args={[0.5, 0.12, 0.4]} /></mesh>
      <group ref={swift} position={[-L * 0.55, 0.9, 0]} userData={DYNAMIC}>
        <mesh rotation-x={Math.PI / 2} material={RUBBER}><torusGeometry args={[0.4, 0.08, 8, 24]} /></mesh>
        <mesh position={[0, -0.45, 0]} material={STEEL}><cylinderGeometry args={[0.04, 0.04, 0.9, 8]} /></mesh>
      </group>
    </group>
  );
}

/** Grinding cell: machine bed, an enclosure with a window, and a grinding wheel that turns while it works. */
function Grinder({ placed, live, width }: KindProps): React.JSX.Element {
  const wheel = useRef<Group>(null);
  useFrame((_, dt) => {
    if (wheel.current !== null && working(live, placed.index)) wheel.current.rotation.z += dt * 25;
  });
  const L = Math.min(placed.length, 3);
  return (
    <group>
      <mesh position={[0, 0.5, 0]} material={PAINT}><boxGeometry args={[L, 1.0, width * 0.6]} /></mesh>
      <mesh position={[0, 1.55, -width * 0.05]} material={PAINT}><boxGeometry args={[L * 0.9, 1.1, width * 0.5]} /></mesh>
      <mesh position={[0, 1.55, width * 0.2 + 0.01]} material={GLASS}><boxGeometry args={[L * 0.5, 0.7, 0.04]} /></mesh>
      <group ref={wheel} position={[-L * 0.15, 1.5, width * 0.24]} userData={DYNAMIC}>
        <mesh rotation-x={Math.PI / 2} material={BRICK}><cylinderGeometry args={[0.3, 0.3, 0.08, 24]} /></mesh>
        <mesh position={[0.22, 0, 0.05]} material={STEEL}><boxGeometry args={[0.1, 0.1, 0.02]} /></mesh>
      </group>
      <mesh position={[L * 0.25, 1.35, width * 0.24]} rotation-x={Math.PI / 2} material={STEEL}><torusGeometry args={[0.14, 0.04, 8, 20]} /></mesh>
      <mesh position={[L / 2 - 0.15, 2.3, -width * 0.2]} material={SAFETY}><boxGeometry args={[0.1, 0.4, 0.1]} /></mesh>
    </group>
  );
}

/**
 * Final inspection and hardness release: a gauging table, a Rockwell tester (C-frame with an
 * indenter) and, once rings carry codes (`trace` 1), a code reader over the table that flashes
 * as each ring passes.
 */
function ReleaseTest({ placed, live, width }: KindProps): React.JSX.Element {
  const { info, index, length: L } = placed;
  const traceTag = useMemo(() => tagIndex(info, 'trace'), [info]);
  const lamp = useMemo(() => new MeshStandardMaterial({ color: 0x111111, emissive: 0xff3030, emissiveIntensity: 0 }), []);
  const reader = useRef<Group>(null);
  useFrame(({ clock }) => {
    const on = traceTag >= 0 && (live.frame?.tags[index]?.[traceTag] ?? 0) === 1;
    if (reader.current !== null) reader.current.visible = on;
    lamp.emissiveIntensity = on && working(live, index) && Math.sin(clock.elapsedTime * 10) > 0.5 ? 3 : 0;
  });
  return (
    <group>
      <mesh position={[0, 0.45, 0]} material={PAINT}><boxGeometry args={[L, 0.9, width * 0.6]} /></mesh>
      <group position={[L * 0.25, 0.9, -width * 0.12]}>
        <mesh position={[0, 0.1, 0]} material={STEEL}><boxGeometry args={[0.5, 0.2, 0.4]} /></mesh>
        <mesh position={[0, 0.55, -0.15]} material={SAFETY}><boxGeometry args={[0.3, 0.9, 0.12]} /></mesh>
        <mesh position={[0, 1.0, 0.0]} material={SAFETY}><boxGeometry args={[0.3, 0.22, 0.4]} /></mesh>
        <mesh position={[0, 0.8, 0.1]} material={STEEL}><cylinderGeometry args={[0.03, 0.01, 0.2, 8]} /></mesh>
      </group>
      <group ref={reader} position={[-L * 0.2, 0.9, 0]} visible={false} userData={DYNAMIC}>
        <mesh position={[0, 0.6, -width * 0.25]} material={STEEL}><boxGeometry args={[0.08, 1.2, 0.08]} /></mesh>
        <mesh position={[0, 1.15, -width * 0.12]} material={PAINT}><boxGeometry args={[0.2, 0.14, 0.3]} /></mesh>
        <mesh position={[0, 1.07, -width * 0.02]} material={lamp}><boxGeometry args={[0.14, 0.02, 0.1]} /></mesh>
      </group>
    </group>
  );
}

/** Assembly bay: a raised platform, the module being built on it and a jib crane; the crew stands beside it (People.tsx). */
function AssemblyBay({ placed, width }: KindProps): React.JSX.Element {
  const L = placed.length;
  return (
    <group>
      <mesh position={[0, 0.15, 0]} material={STEEL}><boxGeometry args={[L, 0.3, width * 0.8]} /></mesh>
      <mesh position={[0, 1.3, 0]} material={PAINT}><boxGeometry args={[L * 0.55, 2.0, width * 0.45]} /></mesh>
      <mesh position={[L * 0.1, 1.4, width * 0.23]} material={GLASS}><boxGeometry args={[L * 0.25, 1.2, 0.04]} /></mesh>
      <mesh position={[-L / 2 + 0.15, 1.8, -width * 0.35]} material={SAFETY}><boxGeometry args={[0.15, 3.6, 0.15]} /></mesh>
      <mesh position={[-L / 4, 3.5, -width * 0.35]} material={SAFETY}><boxGeometry args={[L / 2, 0.12, 0.12]} /></mesh>
    </group>
  );
}

/** Generic cabinet machines: feed hopper, glazing booth, sorter, packer, buffer, shakeout. */
function Cabinet({ placed, width }: KindProps): React.JSX.Element {
  const { info, length } = placed;
  switch (info.kind) {
    case 'source':
      return (
        <group>
          <mesh position={[0, 0.6, 0]} material={STEEL}><boxGeometry args={[length, 1.2, 1.0]} /></mesh>
          <mesh position={[0, 1.8, 0]} material={PAINT}><cylinderGeometry args={[0.8, 0.25, 1.2, 16]} /></mesh>
        </group>
      );
    case 'glazer':
      return (
        <group>
          <mesh position={[0, 1.3, 0]} material={PAINT}><boxGeometry args={[length, 2.6, width * 0.9]} /></mesh>
          <mesh position={[0, 1.4, width * 0.46]} material={GLASS}><boxGeometry args={[length * 0.8, 1.6, 0.05]} /></mesh>
        </group>
      );
    case 'packer':
      return (
        <group>
          <mesh position={[0, 0.45, 0]} material={PAINT}><boxGeometry args={[length, 0.9, width * 0.7]} /></mesh>
          {[0, 1, 2].map((k) => (
            <mesh key={k} position={[length / 2 - 0.4, 1.1 + k * 0.42, -0.3]} material={CARDBOARD}><boxGeometry args={[0.6, 0.4, 0.5]} /></mesh>
          ))}
        </group>
      );
    default:
      return (
        <group>
          <mesh position={[0, 0.6, 0]} material={PAINT}><boxGeometry args={[length, 1.2, width * 0.7]} /></mesh>
          <mesh position={[0, 1.25, 0]} material={SAFETY}><boxGeometry args={[length * 0.9, 0.1, width * 0.72]} /></mesh>
        </group>
      );
  }
}

/** The model of a station's kind. */
export function KindShape(props: KindProps): React.JSX.Element {
  switch (props.placed.info.kind) {
    case 'conveyor':
      return <Conveyor {...props} />;
    case 'kiln':
    case 'dryer':
    case 'cooling':
      return <Tunnel {...props} />;
    case 'press':
    case 'manual-station':
      return <Press {...props} />;
    case 'robot':
      return <Robot {...props} />;
    case 'vision':
    case 'manual-inspection':
      return <Inspection {...props} />;
    case 'induction-furnace':
    case 'pouring':
    case 'quench':
      return <Vessel {...props} />;
    case 'sink':
      return <Bin {...props} />;
    case 'extruder':
      return <Extruder {...props} />;
    case 'assembly':
      return <AssemblyBay {...props} />;
    case 'coiler':
      return <Coiler {...props} />;
    case 'grinder':
      return <Grinder {...props} />;
    case 'release-test':
      return <ReleaseTest {...props} />;
    default:
      return <Cabinet {...props} />;
  }
}
