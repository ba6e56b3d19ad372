/**
 * Stations with an active security alert, marked on the line in the alert's warning colour
 * (critical red, high orange, medium yellow, low blue): a ring on the floor around the
 * station's footprint that pulses, and a diamond beacon above its stack light that bobs, so a
 * marked station shows from any angle and from the overview of a long line. Two InstancedMeshes
 * (one instance per station, unmarked ones scaled to nothing); nothing is allocated per frame.
 */
import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { Color, DoubleSide, Matrix4, MeshBasicMaterial, OctahedronGeometry, Quaternion, RingGeometry, Vector3, type InstancedMesh } from 'three';
import type { Placed } from './layout.ts';
import type { SceneHandle } from './handle.ts';
import { DYNAMIC } from './static-merge.ts';
import { stationWidth } from './StationLights.tsx';
import { SEVERITY_RGB, type Severity } from '../twin/alerts.ts';

/** height of the beacon's centre over the floor [m]: above the stack lights and the station labels (3–3.9 m) */
export const BEACON_Y = 4.8;
/** beacon size [m] */
const BEACON = 0.55;
/** the ring's clearance around the station's footprint [m] */
const RING_GAP = 0.9;
/** pulses per second */
const PULSE_HZ = 1.2;
/** the dimmest a pulse gets (share of the full colour) */
const DIM = 0.55;

/** Rings and beacons over the stations in `marks` (station id → severity of its most severe active alert). */
export function AlertMarkers({ placed, marks, handle }: { placed: readonly Placed[]; marks: ReadonlyMap<string, Severity>; handle: SceneHandle }): React.JSX.Element {
  const rings = useRef<InstancedMesh>(null);
  const beacons = useRef<InstancedMesh>(null);
  const n = Math.max(1, placed.length);
  const res = useMemo(() => ({
    ring: new RingGeometry(0.84, 1, 56).rotateX(-Math.PI / 2),
    beacon: new OctahedronGeometry(BEACON).scale(1, 1.5, 1),
    mat: new MeshBasicMaterial({ color: 0xffffff, toneMapped: false, side: DoubleSide }),
    m: new Matrix4(), q: new Quaternion(), at: new Vector3(), s: new Vector3(), up: new Vector3(0, 1, 0), c: new Color(),
    zero: new Matrix4().makeScale(0, 0, 0),
  }), []);
  useEffect(() => () => {
    res.ring.dispose();
    res.beacon.dispose();
    res.mat.dispose();
  }, [res]);
  // per station: the colour of its mark, or -1 when it has none
  const colours = useMemo(() => placed.map((p) => {
    const sev = marks.get(p.info.id);
    return sev === undefined ? -1 : SEVERITY_RGB[sev];
  }), [placed, marks]);

  useLayoutEffect(() => {
    handle.alerts = placed.filter((p) => marks.has(p.info.id)).map((p) => {
      const severity = marks.get(p.info.id)!;
      return {
        station: p.info.id, severity, colour: `#${SEVERITY_RGB[severity].toString(16).padStart(6, '0')}`, x: p.x, y: BEACON_Y, z: p.z,
        ringA: p.length / 2 + RING_GAP, ringB: stationWidth(p) / 2 + RING_GAP, rot: p.rot,
      };
    });
    // unmarked stations are drawn as nothing from the first frame on
    const rm = rings.current;
    const bm = beacons.current;
    if (rm === null || bm === null) return;
    colours.forEach((rgb, k) => {
      // a colour per instance before the first frame, so the material is built with instance colours
      res.c.setHex(rgb < 0 ? 0 : rgb);
      rm.setColorAt(k, res.c);
      bm.setColorAt(k, res.c);
      if (rgb >= 0) return;
      rm.setMatrixAt(k, res.zero);
      bm.setMatrixAt(k, res.zero);
    });
    rm.instanceMatrix.needsUpdate = true;
    bm.instanceMatrix.needsUpdate = true;
    if (rm.instanceColor !== null) rm.instanceColor.needsUpdate = true;
    if (bm.instanceColor !== null) bm.instanceColor.needsUpdate = true;
    return () => {
      handle.alerts = [];
    };
  }, [placed, marks, colours, handle, res]);

  useFrame(({ clock }) => {
    const rm = rings.current;
    const bm = beacons.current;
    if (rm === null || bm === null) return;
    const shown = handle.alertsShown && handle.alerts.length > 0;
    rm.visible = shown;
    bm.visible = shown;
    if (!shown) return;
    const t = clock.elapsedTime;
    const pulse = 0.5 + 0.5 * Math.sin(t * 2 * Math.PI * PULSE_HZ);
    const { m, q, at, s, up, c } = res;
    for (let k = 0; k < colours.length; k++) {
      const rgb = colours[k]!;
      if (rgb < 0) continue;
      const p = placed[k]!;
      const grow = 1 + 0.12 * pulse;
      q.setFromAxisAngle(up, p.rot);
      m.compose(at.set(p.x, 0.1, p.z), q, s.set((p.length / 2 + RING_GAP) * grow, 1, (stationWidth(p) / 2 + RING_GAP) * grow));
      rm.setMatrixAt(k, m);
      c.setHex(rgb).multiplyScalar(DIM + (1 - DIM) * pulse);
      rm.setColorAt(k, c);
      q.setFromAxisAngle(up, t * 1.5);
      m.compose(at.set(p.x, BEACON_Y + 0.25 * pulse, p.z), q, s.set(1, 1, 1));
      bm.setMatrixAt(k, m);
      bm.setColorAt(k, c.setHex(rgb));
    }
    rm.instanceMatrix.needsUpdate = true;
    bm.instanceMatrix.needsUpdate = true;
    if (rm.instanceColor !== null) rm.instanceColor.needsUpdate = true;
    if (bm.instanceColor !== null) bm.instanceColor.needsUpdate = true;
  });

  return (
    <group name="alert-markers" userData={DYNAMIC}>
      <instancedMesh key={`r${n}`} ref={rings} args={[res.ring, res.mat, n]} count={placed.length} frustumCulled={false} />
      <instancedMesh key={`b${n}`} ref={beacons} args={[res.beacon, res.mat, n]} count={placed.length} frustumCulled={false} />
    </group>
  );
}
