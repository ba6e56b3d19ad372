/**
 * Every part in the line as one InstancedMesh: each frame the source writes part places
 * [station, fraction, serial] into a reused buffer and each instance moves to its station's
 * spot along the flow. Nothing is allocated per frame. `PartMeshes` draws the same parts with
 * one mesh each: the baseline of the render bench (`?bench=N&parts=meshes`), never the normal UI.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { CylinderGeometry, Group, Matrix4, Mesh, MeshStandardMaterial, SphereGeometry, type BufferGeometry, type InstancedMesh } from 'three';
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

/** Geometry and material of a part (made once per scene). */
function partLook(look: PartsProps['look']): { geometry: BufferGeometry; material: MeshStandardMaterial } {
  const steel = look === 'steel';
  return {
    geometry: steel ? new SphereGeometry(0.12, 14, 10) : new CylinderGeometry(0.16, 0.11, 0.2, 16),
    material: new MeshStandardMaterial({ color: steel ? 0xc8ccd2 : 0xf4ecd8, metalness: steel ? 0.8 : 0.05, roughness: steel ? 0.25 : 0.4 }),
  };
}

/** Reused buffers of the per-frame part placement. */
interface PlaceWork {
  places: Float64Array;
  pos: Float32Array;
}

/**
 * Reads part places from the source and calls `put(k, x, y, z)` for the k-th drawn part (also
 * recorded in `handle.parts`); returns how many were drawn. Allocates nothing.
 */
function placeParts(source: TwinSource, placed: readonly Placed[], handle: SceneHandle, work: PlaceWork, put: (k: number, x: number, y: number, z: number) => void): number {
  const n = source.readParts(work.places);
  let drawn = 0;
  for (let k = 0; k < n; k++) {
    const p = placed[work.places[3 * k]!];
    if (p === undefined) continue;
    const serial = work.places[3 * k + 2]!;
    const lane = p.info.kind === 'conveyor' ? 0 : (serial % 3) - 1;
    partPosition(p, work.places[3 * k + 1]!, lane, work.pos);
    const x = work.pos[0]!, y = work.pos[1]!, z = work.pos[2]!;
    put(drawn, x, y, z);
    const o = 4 * drawn;
    handle.parts[o] = x;
    handle.parts[o + 1] = y;
    handle.parts[o + 2] = z;
    handle.parts[o + 3] = serial;
    handle.partStations[drawn] = work.places[3 * k]!;
    drawn++;
  }
  handle.partCount = drawn;
  return drawn;
}

/** All parts, drawn with one InstancedMesh. */
export function Parts({ source, placed, handle, look }: PartsProps): React.JSX.Element {
  const mesh = useRef<InstancedMesh>(null);
  const cap = source.partCapacity;
  const { geometry, material } = useMemo(() => partLook(look), [look]);
  const work = useMemo(() => {
    handle.parts = new Float64Array(4 * cap);
    handle.partStations = new Int32Array(cap);
    const m = new Matrix4();
    // one object, not a copy: `put` must see the mesh the frame loop sets as `target`
    const w = {
      places: new Float64Array(3 * cap), pos: new Float32Array(3), target: null as InstancedMesh | null,
      // made once: called per part per frame
      put: (k: number, x: number, y: number, z: number): void => {
        m.makeTranslation(x, y, z);
        w.target?.setMatrixAt(k, m);
      },
    };
    return w;
  }, [cap, handle]);
  useEffect(() => () => {
    geometry.dispose();
    material.dispose();
  }, [geometry, material]);
  useFrame(() => {
    const m = mesh.current;
    if (m === null) return;
    work.target = m;
    m.visible = handle.partsShown;
    m.count = placeParts(source, placed, handle, work, work.put);
    m.instanceMatrix.needsUpdate = true;
  });
  return <instancedMesh ref={mesh} args={[geometry, material, cap]} frustumCulled={false} />;
}

/**
 * The bench baseline: the same parts as `Parts`, one Mesh each (no instancing). `count`
 * meshes are made up front (parts beyond them are not drawn); unused ones are hidden.
 */
export function PartMeshes({ source, placed, handle, look, count }: PartsProps & { count: number }): React.JSX.Element {
  const cap = source.partCapacity;
  const { geometry, material } = useMemo(() => partLook(look), [look]);
  const group = useMemo(() => new Group(), []);
  const work = useMemo(() => {
    handle.parts = new Float64Array(4 * cap);
    handle.partStations = new Int32Array(cap);
    const meshes = Array.from({ length: Math.min(cap, count) }, () => {
      const m = new Mesh(geometry, material);
      m.visible = false;
      return m;
    });
    let shown = 0;
    const put = (k: number, x: number, y: number, z: number): void => {
      const m = meshes[k];
      if (m === undefined) return;
      m.position.set(x, y, z);
      m.visible = true;
    };
    const hideFrom = (drawn: number): void => {
      for (let k = drawn; k < shown; k++) meshes[k]!.visible = false;
      shown = Math.min(drawn, meshes.length);
    };
    return { places: new Float64Array(3 * cap), pos: new Float32Array(3), meshes, put, hideFrom };
  }, [cap, count, geometry, material, handle]);
  useEffect(() => {
    group.add(...work.meshes);
    return () => {
      group.remove(...work.meshes);
      geometry.dispose();
      material.dispose();
    };
  }, [group, work, geometry, material]);
  useFrame(() => {
    work.hideFrom(placeParts(source, placed, handle, work, work.put));
  });
  return <primitive object={group} />;
}
