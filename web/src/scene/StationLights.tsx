/**
 * The state indicators of every station in two draws: all plinths (coloured by PackML state,
 * flashing with an active alarm, tinted when selected) as one InstancedMesh and all stack-light
 * lamps (red, yellow, green; the lit one bright) as another, coloured per instance each frame.
 * A material per lamp would cost three draw calls per station. Nothing is allocated per frame.
 */
import { useLayoutEffect, useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { BoxGeometry, Color, CylinderGeometry, InstancedBufferAttribute, Matrix4, MeshBasicMaterial, MeshStandardMaterial, Quaternion, Vector3, type InstancedMesh } from 'three';
import type { Placed } from './layout.ts';
import type { LiveStore } from '../twin/live.ts';
import { LAMP_RGB, lampOf } from '../twin/live.ts';
import type { SceneHandle } from './handle.ts';

/** Lamp order in a stack, top to bottom. */
export const LAMPS = ['red', 'yellow', 'green'] as const;
const PLINTH = { green: 0x1f6f3f, yellow: 0x7a6616, red: 0x7d2424 } as const;
/** added to a plinth's colour while its alarm flashes, and when it is selected */
const FLASH = new Color(0x661010);
const SELECTED = new Color(0x203040);
/** an unlit lamp shows this share of its colour */
const OFF_SHARE = 0.12;

/** Across the flow of a station's footprint [m]. */
export function stationWidth(p: Placed): number {
  return p.info.kind === 'conveyor' ? 1.1 : 2.2;
}

/** Plinths and stack-light lamps of all stations. */
export function StationLights({ placed, live, handle, selected }: { placed: readonly Placed[]; live: LiveStore; handle: SceneHandle; selected: string | null }): React.JSX.Element {
  const plinths = useRef<InstancedMesh>(null);
  const lamps = useRef<InstancedMesh>(null);
  const n = placed.length;
  const res = useMemo(() => {
    const lampColors = new InstancedBufferAttribute(new Float32Array(9 * n), 3);
    handle.lamps = { index: new Map(placed.map((p, k) => [p.info.id, k])), colors: lampColors.array as Float32Array };
    return {
      plinthGeo: new BoxGeometry(1, 1, 1),
      plinthMat: new MeshStandardMaterial({ color: 0xffffff, roughness: 0.8 }),
      plinthColors: new InstancedBufferAttribute(new Float32Array(3 * n), 3),
      lampGeo: new CylinderGeometry(0.16, 0.16, 0.27, 14),
      lampMat: new MeshBasicMaterial({ color: 0xffffff, toneMapped: false }),
      lampColors,
      on: LAMPS.map((l) => new Color(LAMP_RGB[l])),
      off: LAMPS.map((l) => new Color(LAMP_RGB[l]).multiplyScalar(OFF_SHARE)),
      c: new Color(),
    };
  }, [n, placed, handle]);

  // instance transforms never change: set once
  useLayoutEffect(() => {
    const pm = plinths.current;
    const lm = lamps.current;
    if (pm === null || lm === null) return;
    pm.instanceColor = res.plinthColors;
    lm.instanceColor = res.lampColors;
    const m = new Matrix4();
    const q = new Quaternion();
    const up = new Vector3(0, 1, 0);
    const at = new Vector3();
    const scale = new Vector3();
    const one = new Vector3(1, 1, 1);
    placed.forEach((p, s) => {
      const w = stationWidth(p);
      q.setFromAxisAngle(up, p.rot);
      m.compose(at.set(p.x, 0.04, p.z), q, scale.set(p.length + 0.2, 0.08, w + 0.4));
      pm.setMatrixAt(s, m);
      const lx = -p.length / 2 + 0.15;
      const lz = -w / 2 - 0.15;
      for (let k = 0; k < 3; k++) {
        at.set(lx, 2.75 + (2 - k) * 0.3, lz).applyQuaternion(q);
        m.compose(at.set(p.x + at.x, at.y, p.z + at.z), q, one);
        lm.setMatrixAt(3 * s + k, m);
      }
    });
    pm.instanceMatrix.needsUpdate = true;
    lm.instanceMatrix.needsUpdate = true;
    pm.computeBoundingSphere();
    lm.computeBoundingSphere();
  }, [placed, res]);

  useFrame(({ clock }) => {
    const pm = plinths.current;
    const lm = lamps.current;
    if (pm === null || lm === null) return;
    const flashOn = Math.floor(clock.elapsedTime * 3) % 2 === 0;
    const c = res.c;
    for (let s = 0; s < n; s++) {
      const p = placed[s]!;
      // stale (host unreachable): the last known state is not shown as if it were current
      const st = handle.stale ? undefined : live.frame?.stations[p.index];
      const lamp = st === undefined ? 'yellow' : lampOf(st.state, st.fault);
      const flash = st !== undefined && st.alarms !== 0 && flashOn;
      for (let k = 0; k < 3; k++) {
        const on = st !== undefined && (LAMPS[k] === lamp || (LAMPS[k] === 'red' && flash));
        lm.setColorAt(3 * s + k, on ? res.on[k]! : res.off[k]!);
      }
      c.setHex(st === undefined ? 0x444c56 : PLINTH[lamp]);
      if (flash) c.add(FLASH);
      else if (selected === p.info.id) c.add(SELECTED);
      pm.setColorAt(s, c);
    }
    res.plinthColors.needsUpdate = true;
    res.lampColors.needsUpdate = true;
  });

  return (
    <>
      <instancedMesh ref={plinths} args={[res.plinthGeo, res.plinthMat, n]} />
      <instancedMesh ref={lamps} args={[res.lampGeo, res.lampMat, 3 * n]} />
    </>
  );
}
