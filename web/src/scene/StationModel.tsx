/**
 * One station in the scene: its kind's procedural model and the pole of its stack light.
 * Its plinth and lamps (state colours, alarm flashing) are drawn for the whole line at once by
 * `StationLights`; an invisible box where the plinth is keeps the footprint clickable.
 * Clicking the station selects it.
 */
import type { ThreeEvent } from '@react-three/fiber';
import type { Placed } from './layout.ts';
import type { LiveStore } from '../twin/live.ts';
import { KindShape } from './KindShape.tsx';
import { SHADE, STEEL } from './materials.ts';
import { DYNAMIC } from './static-merge.ts';
import { stationWidth } from './StationLights.tsx';

/** Props of `StationModel`. */
export interface StationModelProps {
  placed: Placed;
  live: LiveStore;
  selected: boolean;
  onSelect(id: string): void;
}

/** A station's model. */
export function StationModel({ placed, live, selected, onSelect }: StationModelProps): React.JSX.Element {
  const { info, length } = placed;
  const width = stationWidth(placed);

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
      <mesh position={[0, 0.04, 0]} visible={false}>
        <boxGeometry args={[length + 0.2, 0.08, width + 0.4]} />
      </mesh>
      <mesh position={[0, 0.02, 0]} rotation-x={-Math.PI / 2} material={SHADE}>
        <planeGeometry args={[length + 1.2, width + 1.4]} />
      </mesh>
      <KindShape placed={placed} live={live} width={width} />
      <mesh position={[lampX, 1.3, lampZ]} material={STEEL}>
        <cylinderGeometry args={[0.04, 0.04, 2.6, 6]} />
      </mesh>
      {selected ? (
        <mesh position={[0, 0.02, 0]} rotation-x={-Math.PI / 2} userData={DYNAMIC}>
          <ringGeometry args={[Math.max(length, width) * 0.62, Math.max(length, width) * 0.62 + 0.15, 48]} />
          <meshBasicMaterial color={0x58a6ff} />
        </mesh>
      ) : null}
    </group>
  );
}
