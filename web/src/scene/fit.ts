/**
 * Fit-to-view: where the camera looks and from how far so that the line fills the canvas, for
 * given viewing angles, the camera's field of view and the canvas's aspect. Lines run from a
 * few metres to over 100 m, on wide and on phone-shaped canvases, so no fixed distance frames
 * them all; and a box around the whole floor plan leaves empty floor around a long line, so
 * what is fitted is the stations' own boxes (footprint × height), centred on screen by their
 * projection, not by the middle of the floor plan.
 */
import { PerspectiveCamera, Vector3 } from 'three';
import type { Placed } from './layout.ts';

/** Height of the tallest station parts above the floor [m] (stack lights, kiln roofs, robots). */
export const LINE_HEIGHT = 3.5;

/** Half the width of a station across its flow, for framing [m] (plinths, walkways). */
const HALF_WIDTH = 1.4;

/** Share of the half-view the fitted points may use (the rest is margin) [-]. */
const FILL = 0.94;

/** What a fit yields: where the camera looks and from how far [m]. */
export interface Fit {
  x: number;
  y: number;
  z: number;
  distance: number;
}

/** Corners of every station's box (footprint along and across its flow × [0, height]): x, y, z triples [m]. */
export function stationCorners(placed: readonly Placed[], height = LINE_HEIGHT): Float64Array {
  const out = new Float64Array(placed.length * 8 * 3);
  let k = 0;
  for (const p of placed) {
    const h = p.length / 2;
    for (let c = 0; c < 8; c++) {
      const along = c & 1 ? h : -h;
      const across = c & 2 ? HALF_WIDTH : -HALF_WIDTH;
      // the same axes as partPosition: along (cos, −sin), across (sin, cos)
      out[k++] = p.x + along * p.cos + across * p.sin;
      out[k++] = c & 4 ? height : 0;
      out[k++] = p.z - along * p.sin + across * p.cos;
    }
  }
  return out;
}

/** The eight corners of the floor box `[minX, minZ, maxX, maxZ]` × [0, height]. */
export function boxCorners(bounds: readonly [number, number, number, number], height = LINE_HEIGHT): Float64Array {
  const [a, b, c, d] = bounds;
  const out = new Float64Array(24);
  for (let k = 0; k < 8; k++) out.set([k & 1 ? c : a, k & 2 ? height : 0, k & 4 ? d : b], 3 * k);
  return out;
}

const probe = new PerspectiveCamera();
const v = new Vector3();
const right = new Vector3();
const up = new Vector3();

/** Projected extent of `pts` for `probe` as placed: NDC min/max x, y, or null when a point is behind the near plane. */
function extent(pts: Float64Array): [number, number, number, number] | null {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k < pts.length; k += 3) {
    v.set(pts[k]!, pts[k + 1]!, pts[k + 2]!).applyMatrix4(probe.matrixWorldInverse);
    if (v.z > -probe.near) return null;
    v.applyMatrix4(probe.projectionMatrix);
    x0 = Math.min(x0, v.x);
    x1 = Math.max(x1, v.x);
    y0 = Math.min(y0, v.y);
    y1 = Math.max(y1, v.y);
  }
  return [x0, x1, y0, y1];
}

/**
 * The view of points `pts` (x, y, z triples [m]) seen from `azimuth` (around the vertical) and
 * `polar` (from the vertical) [rad], for a camera of vertical field of view `fovDeg` [deg] and
 * canvas aspect `aspect` (width / height): the look-at point that centres their projection
 * and the distance at which they use `FILL` of the view along the tighter axis. Iterates
 * (perspective is not linear in distance); always ends with every point in view.
 */
export function fitPoints(pts: Float64Array, azimuth: number, polar: number, fovDeg: number, aspect: number): Fit {
  probe.fov = fovDeg;
  probe.aspect = aspect > 0 && Number.isFinite(aspect) ? aspect : 1;
  probe.near = 0.1;
  probe.far = 1e5;
  probe.updateProjectionMatrix();
  const t = new Vector3();
  let span = 1;
  for (let k = 0; k < pts.length; k += 3) t.add(v.set(pts[k]!, pts[k + 1]!, pts[k + 2]!));
  t.divideScalar(Math.max(1, pts.length / 3));
  for (let k = 0; k < pts.length; k += 3) span = Math.max(span, v.set(pts[k]!, pts[k + 1]!, pts[k + 2]!).distanceTo(t));
  let dist = span * 4;
  const place = (): void => {
    const sp = Math.sin(polar);
    probe.position.set(t.x + dist * sp * Math.sin(azimuth), t.y + dist * Math.cos(polar), t.z + dist * sp * Math.cos(azimuth));
    probe.lookAt(t);
    probe.updateMatrixWorld();
    probe.matrixWorldInverse.copy(probe.matrixWorld).invert();
  };
  const tanV = Math.tan((fovDeg * Math.PI) / 360);
  for (let it = 0; it < 60; it++) {
    place();
    const e = extent(pts);
    if (e === null) {
      dist *= 1.5;
      continue;
    }
    const [x0, x1, y0, y1] = e;
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const s = Math.max((x1 - x0) / 2, (y1 - y0) / 2) / FILL;
    if (Math.abs(cx) < 1e-3 && Math.abs(cy) < 1e-3 && Math.abs(s - 1) < 1e-3) break;
    // shift the look-at point in the view plane by the offset of the projection's centre
    right.setFromMatrixColumn(probe.matrixWorld, 0);
    up.setFromMatrixColumn(probe.matrixWorld, 1);
    t.addScaledVector(right, cx * dist * tanV * probe.aspect).addScaledVector(up, cy * dist * tanV);
    // damped: near points grow faster than far ones as the camera comes closer
    dist *= Math.max(0.5, Math.min(2, 1 + (s - 1) * 0.8));
  }
  // never clipped, whatever the iteration reached
  for (let k = 0; k < 200; k++) {
    place();
    const e = extent(pts);
    if (e !== null && Math.max(-e[0], e[1], -e[2], e[3]) <= 0.99) break;
    dist *= 1.02;
  }
  return { x: t.x, y: t.y, z: t.z, distance: dist };
}

/**
 * Share of the canvas the boxes of `pts` (eight corners each, as `stationCorners` gives) cover
 * in the view `fit` from `azimuth`, `polar` [rad]: the sum of each box's projected rectangle,
 * clipped to the view (what the choice of angles compares; overlaps count twice).
 */
export function coverage(pts: Float64Array, fit: Fit, azimuth: number, polar: number): number {
  const sp = Math.sin(polar);
  probe.position.set(fit.x + fit.distance * sp * Math.sin(azimuth), fit.y + fit.distance * Math.cos(polar), fit.z + fit.distance * sp * Math.cos(azimuth));
  probe.lookAt(fit.x, fit.y, fit.z);
  probe.updateMatrixWorld();
  probe.matrixWorldInverse.copy(probe.matrixWorld).invert();
  let sum = 0;
  for (let b = 0; b + 24 <= pts.length; b += 24) {
    const e = extent(pts.subarray(b, b + 24));
    if (e === null) continue;
    const w = Math.max(0, Math.min(1, e[1]) - Math.max(-1, e[0]));
    const h = Math.max(0, Math.min(1, e[3]) - Math.max(-1, e[2]));
    sum += (w * h) / 4;
  }
  return sum;
}
