/**
 * Process values on disk: `twinline serve --record-values MS` samples every station's numeric
 * fields (the tags the REST plane and the faces serve, plus the PackML state, unit mode, fault,
 * alarm, interlock and activity words) every MS of wall time and appends one line per sample to
 * `values.ndjson` in the run's folder: `{"ms":…,"tick":…,"simS":…,"v":{"kiln.temp1":…,…}}`
 * (a value the world holds as NaN or ±Infinity is written as null). The line is read through the
 * zero-copy reader in one consistent read, so a sample never mixes two ticks. The file rotates
 * by size like the event log (`values.1.ndjson` the previous one; the newest `keep` are kept),
 * so the disk is bounded. `run.json` (`describeRun`), written once at the start, describes the run (scenario,
 * seed, speed, profile, sample period) and every column (station, field, unit, description,
 * access) for `twinline dataset`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { World } from '../core/world.ts';
import { H } from '../core/world-layout.ts';
import { FAULT_NAMES } from '../core/station.ts';
import { MODE_NAMES, STATE_NAMES } from '../plc/packml.ts';
import type { LineInfo } from '../worker/twin-view.ts';
import { Rotating } from './run-log.ts';

/** the default sample period of `serve --record-values` [ms] */
export const DEFAULT_RECORD_MS = 1000;
/** the shortest sample period accepted [ms] */
export const MIN_RECORD_MS = 50;
/** the longest sample period accepted [ms] (one hour) */
export const MAX_RECORD_MS = 3_600_000;

/** Status words of every station recorded beside its tags. */
const STATUS_FIELDS = ['state', 'mode', 'fault', 'alarms', 'interlock', 'activity'] as const;

/** One recorded column. */
export interface ValueColumn {
  /** `station.field` */
  name: string;
  station: string;
  field: string;
  unit: string;
  description: string;
  access: 'r' | 'rw';
}

/** `run.json`: what was recorded, and from which line. */
export interface RunDescription {
  scenario: { id: string; title: string; file: string; seed: number };
  speed: number | 'max';
  profile: string;
  startedAtMs: number;
  /** tick length [s] */
  dt: number;
  /** sample period [ms]; 0: values were not recorded */
  sampleMs: number;
  columns: ValueColumn[];
  /** what the numbers of the coded status fields mean (`state`, `mode`, `fault`): name by number */
  codes?: Record<string, readonly string[]>;
}

/** Options of a `ValueRecorder`. */
export interface ValueRecorderOptions {
  dir: string;
  reader: World;
  columns: readonly ValueColumn[];
  /** index of each station id in the world */
  stationIndex: ReadonlyMap<string, number>;
  /** sample period [ms] */
  everyMs: number;
  rotateBytes?: number;
  keep?: number;
  /** also given every sample: wall time [ms], tick, the values in `columns` order (null: not finite) */
  onSample?: (ms: number, tick: number, values: (number | null)[]) => void;
}

/** Writes `run.json` (also when values are not recorded: the dataset's card names the scenario from it). */
export function describeRun(dir: string, d: RunDescription): void {
  const codes = { state: STATE_NAMES, mode: MODE_NAMES, fault: FAULT_NAMES };
  writeFileSync(join(dir, 'run.json'), `${JSON.stringify({ ...d, codes }, null, 2)}\n`, { mode: 0o600 });
}

/** The columns recorded for a line: per station its status words, then its tags. */
export function valueColumns(reader: World, line: LineInfo): ValueColumn[] {
  const out: ValueColumn[] = [];
  line.stations.forEach((s, k) => {
    const seen = new Set<string>();
    const add = (field: string): void => {
      if (seen.has(field)) return;
      const f = reader.fieldSpec(k, field);
      if (f === undefined) return;
      seen.add(field);
      out.push({ name: `${s.id}.${field}`, station: s.id, field, unit: f.unit, description: f.description, access: f.access });
    };
    for (const f of STATUS_FIELDS) add(f);
    for (const t of s.tags) add(t.name);
  });
  return out;
}

/** See the module comment. */
export class ValueRecorder {
  private readonly file: Rotating;
  private readonly timer: NodeJS.Timeout;
  private readonly index: { station: number; field: string; name: string }[];
  private closed = false;
  /** samples written */
  samples = 0;

  constructor(private readonly o: ValueRecorderOptions) {
    this.index = o.columns.map((c) => ({ station: o.stationIndex.get(c.station) ?? -1, field: c.field, name: c.name }));
    this.file = new Rotating(join(o.dir, 'values.ndjson'), o.rotateBytes ?? 64 * 1024 * 1024, o.keep ?? 8);
    this.sample();
    this.timer = setInterval(() => this.sample(), o.everyMs);
    this.timer.unref();
  }

  /** Takes one sample now (also on the timer). */
  sample(): void {
    if (this.closed) return;
    const r = this.o.reader;
    const read = r.readConsistent(() => {
      const values = this.index.map((c) => {
        const x = r.read(c.station, c.field);
        return Number.isFinite(x) ? x : null;
      });
      return { tick: r.hdr[H.tick] ?? 0, values };
    }).value;
    const ms = Date.now();
    const v: Record<string, number | null> = {};
    this.index.forEach((c, k) => (v[c.name] = read.values[k] ?? null));
    const simS = Math.round(read.tick * r.dt * 1e6) / 1e6;
    this.file.write(`${JSON.stringify({ ms, tick: read.tick, simS, v })}\n`);
    this.samples++;
    this.o.onSample?.(ms, read.tick, read.values);
  }

  close(): void {
    if (this.closed) return;
    this.sample();
    this.closed = true;
    clearInterval(this.timer);
    this.file.close();
  }
}
