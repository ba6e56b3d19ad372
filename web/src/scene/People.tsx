/**
 * The operators posted at each station (its `operators` tag; with crews, the crew's places
 * there), drawn as simple figures on the station's operator side: a retrofit that cuts the
 * crew shows fewer people.
 * All figures are two InstancedMeshes (bodies, heads); instance matrices are rewritten only when
 * a station's crew changes. Nothing is allocated per frame.
 */
import { useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { CapsuleGeometry, Matrix4, MeshStandardMaterial, SphereGeometry, type InstancedMesh } from 'three';
import type { Placed } from './layout.ts';
import type { LiveStore } from '../twin/live.ts';
import type { SceneHandle } from './handle.ts';
import { stationWidth } from './StationLights.tsx';
import { OPERATOR } from './materials.ts';

/** Figures drawn at one station at most (a larger crew is still counted in the KPI bar). */
export const MAX_PER_STATION = 8;
/** Spacing of figures along the station [m]. */
const SPACING = 0.8;
/** Distance of the figures' row from the station's side [m]. */
const SIDE_GAP = 0.55;

/** Props of `People`. */
export interface PeopleProps {
  placed: readonly Placed[];
  live: LiveStore;
  handle: SceneHandle;
}

/** The operators of the line. */
export function People({ placed, live, handle }: PeopleProps): React.JSX.Element {
  const bodies = useRef<InstancedMesh>(null);
  const heads = useRef<InstancedMesh>(null);
  const cap = placed.length * MAX_PER_STATION;
  const res = useMemo(() => {
    handle.people = new Float64Array(3 * cap);
    return {
      body: new CapsuleGeometry(0.22, 0.7, 4, 10),
      head: new SphereGeometry(0.16, 12, 10),
      skin: new MeshStandardMaterial({ color: 0xe0b48c, roughness: 0.7 }),
      // index of the `operators` tag of each station, −1 without one
      tagAt: placed.map((p) => p.info.tags.findIndex((g) => g.name === 'operators')),
      crew: new Int32Array(placed.length).fill(-1),
      m: new Matrix4(),
    };
  }, [placed, cap, handle]);

  useFrame(() => {
    const b = bodies.current;
    const h = heads.current;
    if (b === null || h === null) return;
    b.visible = h.visible = handle.peopleShown;
    const tags = live.frame?.tags;
    let changed = false;
    for (let s = 0; s < placed.length; s++) {
      const k = res.tagAt[s]!;
      const v = k >= 0 ? (tags?.[placed[s]!.index]?.[k] ?? 0) : 0;
      const n = Math.min(MAX_PER_STATION, Math.max(0, Math.round(v)));
      if (n !== res.crew[s]) {
        res.crew[s] = n;
        changed = true;
      }
    }
    if (!changed) return;
    let drawn = 0;
    const m = res.m;
    for (let s = 0; s < placed.length; s++) {
      const p = placed[s]!;
      const n = res.crew[s]!;
      const side = stationWidth(p) / 2 + SIDE_GAP;
      for (let j = 0; j < n; j++) {
        // along the station, centred; a crew longer than the station stands in a second row
        const perRow = Math.max(1, Math.floor(p.length / SPACING));
        const row = Math.floor(j / perRow);
        const inRow = Math.min(perRow, n - row * perRow);
        const along = ((j % perRow) - (inRow - 1) / 2) * SPACING;
        const across = side + row * 0.7;
        const x = p.x + along * p.cos + across * p.sin;
        const z = p.z - along * p.sin + across * p.cos;
        m.makeTranslation(x, 0.57, z);
        b.setMatrixAt(drawn, m);
        m.makeTranslation(x, 1.32, z);
        h.setMatrixAt(drawn, m);
        handle.people[3 * drawn] = x;
        handle.people[3 * drawn + 1] = 0.9;
        handle.people[3 * drawn + 2] = z;
        drawn++;
      }
    }
    b.count = h.count = drawn;
    handle.peopleCount = drawn;
    b.instanceMatrix.needsUpdate = h.instanceMatrix.needsUpdate = true;
    b.computeBoundingSphere();
    h.computeBoundingSphere();
  });

  return (
    <>
      <instancedMesh ref={bodies} args={[res.body, OPERATOR, cap]} count={0} />
      <instancedMesh ref={heads} args={[res.head, res.skin, cap]} count={0} />
    </>
  );
}
