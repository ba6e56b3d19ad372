/**
 * Every part in the line as one InstancedMesh: each frame the source writes part places
 * [station, fraction, serial] into a reused buffer and each instance moves to its station's
 * spot along the flow. Nothing is allocated per frame.
 */
import { useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { Matrix4, type InstancedMesh } from 'three';
import type { Placed } from './layout.ts';
import { partPosition } from './layout.ts';
import type { TwinSource } from '../twin/types.ts';
import type { SceneHandle } from './handle.ts';

/** Props of `Parts`. */
export interface PartsProps {
  source: TwinSource;
  placed: readonly Placed[];
  handle: SceneHandle;
  /** steel balls or ceramic ware */
  look: 'ceramic' | 'steel';
}

/** All parts, drawn with one InstancedMesh. */
export function Parts({ source, placed, handle, look }: PartsProps): React.JSX.Element {
  const mesh = useRef<InstancedMesh>(null);
  const cap = source.partCapacity;
  const work = useMemo(() => {
    handle.parts = new Float64Array(4 * cap);
    return { places: new Float64Array(3 * cap), m: new Matrix4(), pos: new Float32Array(3) };
  }, [cap, handle]);
  useFrame(() => {
    const m = mesh.current;
    if (m === null) return;
    const n = source.readParts(work.places);
    let drawn = 0;
    for (let k = 0; k < n; k++) {
      const p = placed[work.places[3 * k]!];
      if (p === undefined) continue;
      const serial = work.places[3 * k + 2]!;
      const lane = p.info.kind === 'conveyor' ? 0 : (serial % 3) - 1;
      partPosition(p, work.places[3 * k + 1]!, lane, work.pos);
      work.m.makeTranslation(work.pos[0]!, work.pos[1]!, work.pos[2]!);
      m.setMatrixAt(drawn, work.m);
      const o = 4 * drawn;
      handle.parts[o] = work.pos[0]!;
      handle.parts[o + 1] = work.pos[1]!;
      handle.parts[o + 2] = work.pos[2]!;
      handle.parts[o + 3] = serial;
      drawn++;
    }
    m.count = drawn;
    handle.partCount = drawn;
    m.instanceMatrix.needsUpdate = true;
  });
  return (
    <instancedMesh ref={mesh} args={[undefined, undefined, cap]} frustumCulled={false}>
      {look === 'steel' ? <sphereGeometry args={[0.12, 14, 10]} /> : <cylinderGeometry args={[0.16, 0.11, 0.2, 16]} />}
      <meshStandardMaterial color={look === 'steel' ? 0xc8ccd2 : 0xf4ecd8} metalness={look === 'steel' ? 0.8 : 0.05} roughness={look === 'steel' ? 0.25 : 0.4} />
    </instancedMesh>
  );
}
