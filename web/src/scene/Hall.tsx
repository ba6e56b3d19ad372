/**
 * The factory hall's light: image-based environment light from three's RoomEnvironment, made
 * on the page by a PMREMGenerator (no HDR file, no network: the twin works offline), a sky/floor
 * fill, and a key light whose soft (PCF) shadows are baked once the stations have mounted.
 * The line's static meshes never move, so the shadow map is rendered a few times after mount
 * and then left alone (`shadowMap.autoUpdate = false`): shadows cost no draw call per frame.
 * What moves (parts, rams, people) casts none.
 *
 * The `simple` hall (software renderers, `light.ts`) has neither environment nor shadows: a
 * stronger sky/floor fill stands in for the environment's ambient part.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useFrame, useThree } from '@react-three/fiber';
import { Object3D, PMREMGenerator, type DirectionalLight, type InstancedMesh, type Mesh } from 'three';
import { RoomEnvironment } from 'three/addons/environments/RoomEnvironment.js';
import type { LightMode } from './light.ts';

/** Direction the key light comes from (towards the light), not normalised: high, from +x +z. */
export const KEY = [0.45, 0.8, 0.4] as const;
/** Frames after mount at which the shadow map is (re)rendered: the stations merge after their first commit. */
const BAKE_AT = [2, 15, 45];
/** Environment light strength on standard materials [-]. */
export const ENV_INTENSITY = 0.55;
/** Sky/floor fill of the full hall, and of the simple one (which has no environment light) [-]. */
const FILL = { full: 0.55, simple: 1.9 } as const;

/** Environment, fill and key light for a line within `bounds` [m] (minX, minZ, maxX, maxZ); the key light casts shadows in the full hall. */
export function Hall({ bounds, mode }: { bounds: readonly [number, number, number, number]; mode: LightMode }): React.JSX.Element {
  const full = mode === 'full';
  const gl = useThree((s) => s.gl);
  const scene = useThree((s) => s.scene);
  const key = useRef<DirectionalLight>(null);
  const target = useMemo(() => new Object3D(), []);
  const frame = useRef(0);
  useEffect(() => {
    if (!full) return;
    const pm = new PMREMGenerator(gl);
    const room = new RoomEnvironment();
    const rt = pm.fromScene(room, 0.04);
    room.dispose();
    pm.dispose();
    scene.environment = rt.texture;
    scene.environmentIntensity = ENV_INTENSITY;
    gl.shadowMap.autoUpdate = false;
    return () => {
      scene.environment = null;
      rt.dispose();
    };
  }, [gl, scene, full]);
  const [a, b, c, d] = bounds;
  const cx = (a + c) / 2;
  const cz = (b + d) / 2;
  const reach = Math.hypot(c - a, d - b) / 2 + 6;
  useEffect(() => {
    const l = key.current;
    if (l === null) return;
    const n = Math.hypot(KEY[0], KEY[1], KEY[2]);
    const far = reach * 2 + 40;
    l.position.set(cx + (KEY[0] / n) * (reach + 20), (KEY[1] / n) * (reach + 20), cz + (KEY[2] / n) * (reach + 20));
    target.position.set(cx, 0, cz);
    target.updateMatrixWorld();
    const cam = l.shadow.camera;
    cam.left = -reach;
    cam.right = reach;
    cam.top = reach;
    cam.bottom = -reach;
    cam.near = 1;
    cam.far = far;
    cam.updateProjectionMatrix();
    frame.current = 0;
  }, [cx, cz, reach, target]);
  useFrame(() => {
    const f = ++frame.current;
    if (!full || !BAKE_AT.includes(f)) return;
    // every visible mesh that is not instanced casts (the merged stations, or their parts unmerged)
    scene.traverse((o) => {
      const m = o as Mesh;
      if (m.isMesh === true && (o as InstancedMesh).isInstancedMesh !== true && o.userData.floor !== true) m.castShadow = true;
    });
    gl.shadowMap.needsUpdate = true;
  });
  // a wide line needs a larger map for the same softness: 2048 texels over at most ~130 m
  const size = reach > 40 ? 4096 : 2048;
  return (
    <>
      <hemisphereLight args={[0xdfe6f0, 0x3a3d42, FILL[mode]]} />
      <primitive object={target} />
      <directionalLight
        ref={key} target={target} intensity={2.2} color={0xfff4e6} castShadow={full}
        shadow-mapSize={[size, size]} shadow-radius={6} shadow-bias={-0.0004} shadow-normalBias={0.04}
      />
    </>
  );
}
