/**
 * The memory of a world: which typed arrays exist and where they sit in the one buffer.
 * Built the same way from the same definition in every thread, so a reader can lay the same
 * views over a writer's `SharedArrayBuffer`, and a snapshot restores into any host.
 */
import { COMMON_FIELDS, type StationArrays } from './station.ts';
import { PART_ARRAYS, type PartArrays } from './parts.ts';
import { LayoutBuilder } from './layout.ts';
import type { KindView } from './types.ts';
import { crewState, layoutCrews, type CrewState } from './crew.ts';
import { disturbanceState, layoutDisturbances, type Disturbances } from './disturbance.ts';
import type { StationDef, WorldDef } from './world.ts';

/** Header slots (Float64Array): the world's scalar state. */
export const H = {
  tick: 0, serial: 1, seq: 2, free: 3, created: 4, shipped: 5, escaped: 6, scrapped: 7, scrappedGood: 8,
  leadTicks: 9, lineDownTicks: 10, wipTicks: 11, labour: 12, nextKpi: 13, seed: 14,
  /** stations down now, and the tick the line went down (any station down) */
  downStations: 15, downSince: 16,
  /** tick up to which `labour` is settled; next periodic settlement */
  labourSince: 17, nextSettle: 18,
} as const;
const HEADER_LENGTH = 24;

/** A station's parameters with every default filled in. */
export function withDefaults(d: StationDef): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [f, spec] of Object.entries(COMMON_FIELDS)) if (spec.access === 'rw') out[f] = spec.default;
  for (const [f, spec] of Object.entries(d.kind.fields)) if (spec.access === 'rw') out[f] = spec.default ?? 0;
  return Object.assign(out, d.params);
}

/** Views of one world's memory. */
export interface WorldMemory {
  buffer: ArrayBufferLike;
  /** changes whenever the layout changes; snapshots carry it */
  signature: string;
  hdr: Float64Array;
  rng: Uint32Array;
  hashWords: Uint32Array;
  seqlock: Int32Array;
  st: StationArrays;
  qHead: Int32Array;
  qTail: Int32Array;
  qLen: Int32Array;
  /** ticks until each station's next PLC scan (in the buffer, so snapshots keep the scan phase) */
  scanLeft: Int32Array;
  /** kind views by kind id */
  views: Map<string, KindView>;
  /** the kind view of each station */
  viewOf: KindView[];
  /** instance index of each station within its kind */
  inst: Int32Array;
  parts: PartArrays;
  /** crews and the stations' claims on them */
  crew: CrewState;
  /** disturbances running at each station */
  disturb: Disturbances;
}

/** Lays out (and, without `buffer`, allocates) the memory of a world. */
export function layoutWorld(def: WorldDef, buffer?: ArrayBufferLike): WorldMemory {
  const n = def.stations.length;
  const counts = new Map<string, number>();
  const inst = new Int32Array(n);
  def.stations.forEach((d, k) => {
    const c = counts.get(d.kind.kind) ?? 0;
    inst[k] = c;
    counts.set(d.kind.kind, c + 1);
  });
  // WIP can never exceed the sum of station capacities, so the part pool never runs out.
  const slotsOf = (d: StationDef): number => d.kind.capacity?.(withDefaults(d)) ?? d.params.slots ?? COMMON_FIELDS.slots.default;
  const partCapacity = def.stations.reduce((sum, d) => sum + slotsOf(d), 0) + 16;

  const lb = new LayoutBuilder();
  lb.add('hdr', 'f64', HEADER_LENGTH);
  lb.add('rng', 'u32', 4);
  lb.add('hash', 'u32', 2);
  lb.add('seqlock', 'i32', 2);
  for (const f of Object.keys(COMMON_FIELDS)) lb.add(`st:${f}`, 'f64', n);
  lb.add('qHead', 'i32', n);
  lb.add('qTail', 'i32', n);
  lb.add('qLen', 'i32', n);
  lb.add('scanLeft', 'i32', n);
  const kindsInUse = [...new Map(def.stations.map((d) => [d.kind.kind, d.kind])).values()];
  for (const k of kindsInUse) for (const f of Object.keys(k.fields)) lb.add(`k:${k.kind}:${f}`, 'f64', counts.get(k.kind) ?? 0);
  layoutCrews(lb, def.crews?.length ?? 0, n);
  layoutDisturbances(lb, n);
  for (const p of PART_ARRAYS) lb.add(`p:${p}`, p === 'station' || p === 'next' ? 'i32' : 'f64', partCapacity);
  const { buffer: buf, views } = lb.build(buffer);
  const get = <T>(name: string): T => views.get(name) as T;

  const kv = new Map<string, KindView>();
  for (const k of kindsInUse) kv.set(k.kind, Object.fromEntries(Object.keys(k.fields).map((f) => [f, get(`k:${k.kind}:${f}`)])));
  return {
    buffer: buf,
    signature: lb.signature(),
    hdr: get('hdr'),
    rng: get('rng'),
    hashWords: get('hash'),
    seqlock: get('seqlock'),
    st: Object.fromEntries(Object.keys(COMMON_FIELDS).map((f) => [f, get(`st:${f}`)])) as StationArrays,
    qHead: get('qHead'),
    qTail: get('qTail'),
    qLen: get('qLen'),
    scanLeft: get('scanLeft'),
    views: kv,
    viewOf: def.stations.map((d) => kv.get(d.kind.kind) as KindView),
    inst,
    parts: Object.fromEntries(PART_ARRAYS.map((p) => [p, get(`p:${p}`)])) as unknown as PartArrays,
    crew: crewState(def.crews ?? [], def.stations.map((d) => d.id), def.stations.map((d) => d.kind), get),
    disturb: disturbanceState(get),
  };
}
