/**
 * One station in the scene: its kind's procedural model, a plinth coloured by PackML state,
 * a stack light (green Execute, yellow waiting, red stopped, aborted or faulted) and alarm
 * flashing. Clicking it selects it.
 */
import { useMemo } from 'react';
import { useFrame, type ThreeEvent } from '@react-three/fiber';
import { MeshStandardMaterial } from 'three';
import type { Placed } from './layout.ts';
import type { LiveStore } from '../twin/live.ts';
import { LAMP_RGB, lampOf } from '../twin/live.ts';
import { KindShape } from './KindShape.tsx';
import { STEEL } from './materials.ts';
import type { SceneHandle } from './handle.ts';

/** Props of `StationModel`. */
export interface StationModelProps {
  placed: Placed;
  live: LiveStore;
  handle: SceneHandle;
  selected: boolean;
  onSelect(id: string): void;
}

const LAMPS = ['red', 'yellow', 'green'] as const;
const PLINTH = { green: 0x1f6f3f, yellow: 0x7a6616, red: 0x7d2424 } as const;

/** A station's model with its state indicators. */
export function StationModel({ placed, live, handle, selected, onSelect }: StationModelProps): React.JSX.Element {
  const { info, index, length } = placed;
  const width = info.kind === 'conveyor' ? 1.1 : 2.2;
  const mats = useMemo(() => {
    const lamps = LAMPS.map((l) => new MeshStandardMaterial({ color: 0x222222, emissive: LAMP_RGB[l], emissiveIntensity: 0.05 }));
    handle.lamps.set(info.id, lamps);
    return { lamps, plinth: new MeshStandardMaterial({ color: 0x444c56, roughness: 0.8, emissive: 0x000000 }) };
  }, [handle, info.id]);

  useFrame(({ clock }) => {
    const st = live.frame?.stations[index];
    if (st === undefined) return;
    const lamp = lampOf(st.state, st.fault);
    const flash = st.alarms !== 0 && Math.floor(clock.elapsedTime * 3) % 2 === 0;
    for (let k = 0; k < 3; k++) {
      const on = LAMPS[k] === lamp || (LAMPS[k] === 'red' && flash);
      mats.lamps[k]!.emissiveIntensity = on ? 2.5 : 0.05;
    }
    mats.plinth.color.setHex(PLINTH[lamp]);
    mats.plinth.emissive.setHex(flash ? 0x661010 : selected ? 0x203040 : 0x000000);
  });

  const click = (e: ThreeEvent<MouseEvent>): void => {
    // a drag that ends on the station orbits the camera; only a click selects
    if (e.delta > 6) return;
    e.stopPropagation();
    onSelect(info.id);
  };

  const lampX = -length / 2 + 0.15;
  const lampZ = -width / 2 - 0.15;
  return (
    <group position={[placed.x, 0, placed.z]} rotation-y={placed.rot} onClick={click} name={`station:${info.id}`}>
      <mesh position={[0, 0.04, 0]} material={mats.plinth}>
        <boxGeometry args={[length + 0.2, 0.08, width + 0.4]} />
      </mesh>
      <KindShape placed={placed} live={live} width={width} />
      <group position={[lampX, 0, lampZ]}>
        <mesh position={[0, 1.3, 0]} material={STEEL}>
          <cylinderGeometry args={[0.04, 0.04, 2.6, 6]} />
        </mesh>
        {LAMPS.map((l, k) => (
          <mesh key={l} position={[0, 2.75 + (2 - k) * 0.3, 0]} material={mats.lamps[k]!}>
            <cylinderGeometry args={[0.16, 0.16, 0.27, 14]} />
          </mesh>
        ))}
      </group>
      {selected ? (
        <mesh position={[0, 0.02, 0]} rotation-x={-Math.PI / 2}>
          <ringGeometry args={[Math.max(length, width) * 0.62, Math.max(length, width) * 0.62 + 0.15, 48]} />
          <meshBasicMaterial color={0x58a6ff} />
        </mesh>
      ) : null}
    </group>
  );
}
