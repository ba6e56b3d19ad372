/**
 * Where things stand in the 3D scene. A station's `layout` is its centre on the floor [m] and
 * its rotation about the vertical axis [deg]; parts travel along the station's local x axis,
 * from −length/2 to +length/2. Footprints come from the kind, shrunk so that neighbours in
 * the flow do not overlap.
 */
import type { LineInfo, StationInfo } from '../twin/types.ts';

/** Footprint length along the flow of each kind [m] (conveyors use their belt length). */
const KIND_LENGTH: Readonly<Record<string, number>> = {
  source: 1.6, buffer: 3, press: 2.4, dryer: 10, glazer: 3, kiln: 30, 'induction-furnace': 3, pouring: 4, cooling: 12,
  shakeout: 3, quench: 4, extruder: 10, coiler: 2, grinder: 3, assembly: 4, vision: 2.4, 'manual-inspection': 3, 'release-test': 3, 'manual-station': 3, robot: 2.6, sorter: 2.4, packer: 3, sink: 1.6,
};

/** Height of the surface parts ride on [m]. */
const DECK: Readonly<Record<string, number>> = {
  conveyor: 0.8, sink: 0.5, kiln: 0.9, dryer: 0.9, cooling: 0.9, quench: 0.9, source: 1.2, packer: 0.9,
};

/** A station placed in the scene. */
export interface Placed {
  info: StationInfo;
  index: number;
  x: number;
  z: number;
  /** [rad] */
  rot: number;
  /** along the flow [m] */
  length: number;
  /** height of the part deck [m] */
  deck: number;
  /** cos, sin of the rotation (cached for part placement) */
  cos: number;
  sin: number;
}

/** Places every station, fitting footprints between neighbours. */
export function placeLine(line: LineInfo): Placed[] {
  const placed: Placed[] = line.stations.map((info, index) => {
    const rot = (info.layout.rotation * Math.PI) / 180;
    return {
      info, index, x: info.layout.x, z: info.layout.z, rot,
      length: info.length ?? KIND_LENGTH[info.kind] ?? 2,
      deck: DECK[info.kind] ?? 1,
      cos: Math.cos(rot), sin: Math.sin(rot),
    };
  });
  const byId = new Map(placed.map((p) => [p.info.id, p]));
  // two passes: a station shrunk for one neighbour may then fit the other
  for (let pass = 0; pass < 2; pass++) {
    for (const a of placed) {
      for (const id of [a.info.next, a.info.reject]) {
        const b = id === null ? undefined : byId.get(id);
        if (b === undefined) continue;
        const d = Math.hypot(b.x - a.x, b.z - a.z) - 0.3;
        const need = (a.length + b.length) / 2;
        if (need > d && d > 0) {
          const k = d / need;
          if (a.info.kind !== 'conveyor') a.length = Math.max(0.8, a.length * k);
          if (b.info.kind !== 'conveyor') b.length = Math.max(0.8, b.length * k);
        }
      }
    }
  }
  return placed;
}

/** The bounding box of the line on the floor [m]: minX, minZ, maxX, maxZ. */
export function lineBounds(placed: readonly Placed[]): [number, number, number, number] {
  let a = Infinity, b = Infinity, c = -Infinity, d = -Infinity;
  for (const p of placed) {
    const h = p.length / 2 + 1;
    a = Math.min(a, p.x - h);
    b = Math.min(b, p.z - h);
    c = Math.max(c, p.x + h);
    d = Math.max(d, p.z + h);
  }
  return Number.isFinite(a) ? [a, b, c, d] : [-5, -5, 5, 5];
}

/**
 * World position of a part at fraction `f` along station `p`, lane `lane` across it; written
 * into `out` [x, y, z]. Allocates nothing.
 */
export function partPosition(p: Placed, f: number, lane: number, out: Float32Array | number[]): void {
  const along = (f - 0.5) * p.length * 0.92;
  const across = lane * 0.32;
  out[0] = p.x + along * p.cos + across * p.sin;
  out[1] = p.deck + 0.11;
  out[2] = p.z - along * p.sin + across * p.cos;
}
