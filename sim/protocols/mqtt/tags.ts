/**
 * The tags the MQTT face publishes and report-by-exception over them. Values come from a
 * zero-copy reader over the worker's shared buffer, sampled at the publish interval (no
 * message per tick); each consumer (UNS, Sparkplug) keeps its own last-published values.
 */
import type { FieldSpec } from '../../core/types.ts';
import type { World } from '../../core/world.ts';
import { H } from '../../core/world-layout.ts';
import { STATE_NAMES } from '../../plc/packml.ts';
import type { LineSpec } from '../../line/types.ts';
import { stationTags } from '../../worker/twin-view.ts';
import { slug } from './topics.ts';

/** Sparkplug B / UNS data types the face uses. */
export type TagType = 'Double' | 'Int32' | 'Boolean' | 'String';

/** Absolute deadband as a share of a field's span (min…max). */
export const SPAN_DEADBAND = 0.005;
/** Relative deadband for fields without a range: share of the last published magnitude. */
export const RELATIVE_DEADBAND = 0.001;
/** Common fields published besides the faceplate's tags. */
const EXTRA = ['mode', 'fault', 'alarms'] as const;

/** One published tag of a station. */
export interface Tag {
  /** station index in the world */
  station: number;
  /** field name, also the last topic level */
  name: string;
  unit: string;
  description: string;
  access: 'r' | 'rw';
  min: number | null;
  max: number | null;
  dataType: TagType;
  /** absolute deadband [unit]; 0 = every change */
  deadband: number;
  /** the deadband is relative to the last value (fields without a range) */
  relative: boolean;
}

/** A station with its tags. */
export interface StationTags {
  index: number;
  id: string;
  slug: string;
  /** first tag's position in the line-wide flat tag list */
  offset: number;
  tags: Tag[];
}

function tagOf(s: number, name: string, f: FieldSpec): Tag {
  const min = f.min ?? null;
  const max = f.max ?? null;
  const ranged = min !== null && max !== null && max > min;
  const dataType: TagType = f.integer === true ? (min === 0 && max === 1 ? 'Boolean' : 'Int32') : 'Double';
  return {
    station: s, name, unit: f.unit, description: f.description, access: f.access, min, max, dataType,
    deadband: f.integer === true ? 0 : ranged ? SPAN_DEADBAND * (max - min) : RELATIVE_DEADBAND,
    relative: f.integer !== true && !ranged,
  };
}

/** Every published tag of the line, station by station (the flat order is the stations' order). */
export function lineTags(spec: LineSpec, w: World): StationTags[] {
  let offset = 0;
  return spec.stations.map((st, s) => {
    const names = stationTags(w, s).map((t) => t.name);
    for (const e of EXTRA) if (!names.includes(e)) names.push(e);
    const tags = names.flatMap((n) => {
      const f = w.fieldSpec(s, n);
      return f === undefined ? [] : [tagOf(s, n, f)];
    });
    const out = { index: s, id: st.id, slug: slug(st.id), offset, tags };
    offset += tags.length;
    return out;
  });
}

/** One consistent read of every tag, the PackML states and the sim time. */
export class Sample {
  /** tag values in flat order */
  readonly values: Float64Array;
  /** PackML state number per station */
  readonly states: Int32Array;
  /** simulated time [s] */
  simTime = 0;
  /** false if the writer kept the seqlock busy and the read may mix two ticks */
  consistent = true;
  private readonly fn: () => void;

  constructor(private readonly reader: World, private readonly stations: readonly StationTags[]) {
    const n = stations.reduce((a, s) => a + s.tags.length, 0);
    this.values = new Float64Array(n);
    this.states = new Int32Array(stations.length);
    this.fn = () => {
      const r = this.reader;
      for (const st of this.stations) {
        for (let k = 0; k < st.tags.length; k++) this.values[st.offset + k] = r.read(st.index, st.tags[k]!.name);
        this.states[st.index] = r.st.state[st.index] ?? 0;
      }
      this.simTime = (r.hdr[H.tick] ?? 0) * r.dt;
    };
  }

  /** Reads the shared buffer now. */
  take(): void {
    this.consistent = this.reader.readConsistent(this.fn).consistent;
  }
}

/** PackML state name of a state number. */
export function stateName(n: number): string {
  return STATE_NAMES[n] ?? 'Undefined';
}

/** The value a tag carries on the wire: booleans as booleans, integers rounded. */
export function wireValue(t: Tag, v: number): number | boolean | null {
  if (!Number.isFinite(v)) return null;
  if (t.dataType === 'Boolean') return v !== 0;
  if (t.dataType === 'Int32') return Math.round(v);
  return v;
}

/**
 * Report by exception: remembers the last value sent per tag and tells which tags moved past
 * their deadband (or were never sent). Each consumer owns one.
 */
export class Exceptions {
  private readonly last: Float64Array;
  private readonly lastState: Int32Array;
  private readonly sent: Uint8Array;

  constructor(private readonly stations: readonly StationTags[], n: number) {
    this.last = new Float64Array(n);
    this.lastState = new Int32Array(stations.length).fill(-1);
    this.sent = new Uint8Array(n);
  }

  /** Forgets everything sent: the next `changed` reports every tag (after a rebirth or reconnect). */
  reset(): void {
    this.sent.fill(0);
    this.lastState.fill(-1);
  }

  /** Calls `tag(st, k, flat)` for every tag of `sample` past its deadband and marks it sent. */
  changed(sample: Sample, tag: (st: StationTags, k: number, flat: number) => void, state?: (st: StationTags, n: number) => void): void {
    const v = sample.values;
    for (const st of this.stations) {
      if (state !== undefined && sample.states[st.index] !== this.lastState[st.index]) {
        this.lastState[st.index] = sample.states[st.index] ?? 0;
        state(st, this.lastState[st.index]!);
      }
      for (let k = 0; k < st.tags.length; k++) {
        const i = st.offset + k;
        const x = v[i] ?? NaN;
        const prev = this.last[i] ?? NaN;
        if (this.sent[i] === 1) {
          const t = st.tags[k]!;
          const band = t.relative ? t.deadband * Math.abs(prev) : t.deadband;
          // NaN never equals itself: compare its appearance and disappearance explicitly
          if (Number.isNaN(x) && Number.isNaN(prev)) continue;
          if (!Number.isNaN(x) && !Number.isNaN(prev) && (band === 0 ? x === prev : Math.abs(x - prev) < band)) continue;
        }
        this.last[i] = x;
        this.sent[i] = 1;
        tag(st, k, i);
      }
    }
  }
}
