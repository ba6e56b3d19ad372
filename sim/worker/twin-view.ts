/**
 * What a 3D view and an HMI need from a world beyond `SimState`: the line's static description
 * (layout, names, tags with units, alarm texts) and live reads of tags and part places. Used
 * over a zero-copy reader (browser twin, host) — pure functions over a `World`, no DOM, no Node.
 */
import type { World } from '../core/world.ts';
import type { WriteLevel } from '../core/commands.ts';
import type { FieldSpec } from '../core/types.ts';
import { COMMON_ALARMS } from '../core/station.ts';
import type { LineSpec } from '../line/types.ts';
import { parseScenario } from '../line/parse.ts';
import { openReader } from './reader.ts';
import type { SharedView } from './api.ts';

/** One readable tag of a station. */
export interface TagInfo {
  name: string;
  /** unit symbol, '' = dimensionless */
  unit: string;
  /** 'rw': a setpoint or parameter */
  access: 'r' | 'rw';
  /**
   * who may write an 'rw' tag (absent on 'r' tags): `operator` setpoints, `engineer`
   * parameters, `safety` limits (an engineer, in unit mode Maintenance). The line enforces it;
   * a faceplate uses it to offer only what the signed-in role may change.
   */
  write?: WriteLevel;
  description: string;
}

/** One alarm a station can raise. */
export interface AlarmInfo {
  bit: number;
  code: string;
  severity: number;
  text: { en: string; zh: string };
}

/** A station as the view draws it. */
export interface StationInfo {
  id: string;
  kind: string;
  name: { en: string; zh: string };
  /** [m, m, deg] */
  layout: { x: number; z: number; rotation: number };
  next: string | null;
  reject: string | null;
  /** belt length of a conveyor [m], else null */
  length: number | null;
  tags: TagInfo[];
  alarms: AlarmInfo[];
}

/** The static description of a line for the view. */
export interface LineInfo {
  id: string;
  title: { en: string; zh: string };
  stations: StationInfo[];
}

/** Common fields worth showing on a faceplate next to a kind's own. */
const COMMON_TAGS = ['power', 'energy', 'wear', 'partsIn', 'partsOut', 'partsScrapped', 'operators', 'alarmsAcked'] as const;
/** Internal bookkeeping fields a faceplate leaves out. */
const HIDDEN = new Set(['partClock', 'heatClock', 'jamHazard', 'jamLimit', 'nextAt', 'headSerial', 'enthalpy']);

function tagInfo(name: string, f: FieldSpec): TagInfo {
  const tag: TagInfo = { name, unit: f.unit, access: f.access, description: f.description };
  if (f.access === 'rw') tag.write = f.write ?? 'engineer';
  return tag;
}

/** Tags of station `s`: common ones first, then the kind's fields. */
export function stationTags(w: World, s: number): TagInfo[] {
  const out: TagInfo[] = [];
  for (const name of COMMON_TAGS) {
    const f = w.fieldSpec(s, name);
    if (f !== undefined) out.push(tagInfo(name, f));
  }
  const kind = w.kindOf[s];
  if (kind !== undefined) {
    for (const [name, f] of Object.entries(kind.fields)) {
      if (!HIDDEN.has(name)) out.push(tagInfo(name, f));
    }
  }
  return out;
}

/** The line as the view draws it. */
export function lineInfo(spec: LineSpec, w: World): LineInfo {
  return {
    id: spec.id,
    title: spec.title,
    stations: spec.stations.map((st, s) => ({
      id: st.id,
      kind: st.kind,
      name: st.name,
      layout: st.layout,
      next: st.next,
      reject: st.reject,
      length: st.kind === 'conveyor' ? w.read(s, 'length') : null,
      tags: stationTags(w, s),
      alarms: [...(w.kindOf[s]?.alarms ?? []), ...COMMON_ALARMS].map((a) => ({ bit: a.bit, code: a.code, severity: a.severity, text: a.text })),
    })),
  };
}

/** Reads the values of `tags` of station `s` into `out` (same order); allocates nothing. */
export function readTags(w: World, s: number, tags: readonly TagInfo[], out: Float64Array): void {
  for (let k = 0; k < tags.length; k++) out[k] = w.read(s, tags[k]!.name);
}

/**
 * Writes where every part is into `out` as triples [station, fraction 0…1 along it, serial];
 * returns how many parts were written. A conveyor part's fraction is its belt position over
 * the belt length; elsewhere it is the part's progress through the station. Allocates nothing.
 */
export function readPartPlaces(w: World, out: Float64Array): number {
  const P = w.parts;
  const cap = P.station.length;
  const max = Math.floor(out.length / 3);
  let n = 0;
  for (let p = 0; p < cap && n < max; p++) {
    const s = P.station[p] ?? -1;
    if (s < 0) continue;
    const len = w.kindOf[s]?.kind === 'conveyor' ? w.read(s, 'length') : 0;
    const f = len > 0 ? (P.pos[p] ?? 0) / len : (P.progress[p] ?? 0);
    out[3 * n] = s;
    out[3 * n + 1] = f < 0 ? 0 : f > 1 ? 1 : f;
    out[3 * n + 2] = P.serial[p] ?? 0;
    n++;
  }
  return n;
}

/** Parts the pool can hold (a bound for `readPartPlaces` buffers). */
export function partCapacity(w: World): number {
  return w.parts.station.length;
}

/** A reader over a worker's shared world plus the line's description, from `SimApi.shared()`. */
export function openTwinView(view: SharedView): { reader: World; line: LineInfo } {
  const reader = openReader(view);
  return { reader, line: lineInfo(parseScenario(view.text, view.file), reader) };
}
