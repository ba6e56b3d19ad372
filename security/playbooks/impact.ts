/**
 * The measured impact of an incident: read from the line's own event log as the host drains
 * it (the same events the detectors read), never typed in. Over a wall-time window it gives
 * line time each station spent out of production, parts scrapped and escaped with a defect,
 * safety-interlock trips and alarms, and how many stations (and lines) were hit: the figures
 * `classify` grades. Pure: the host passes the wall time of each drain and the line's tick.
 *
 * Memory is bounded: each station keeps its last `MAX_INTERVALS` down intervals, the part,
 * trip and alarm records their last `MAX_RECORDS`, the wall-to-tick samples their last
 * `MAX_SAMPLES` (one per `SAMPLE_MS`); what is older is left out of a measurement, and the
 * measurement says so (`partial`).
 */
import type { Impact } from './playbook.ts';

/** PackML states in which a station makes (or waits for) parts: anything else is downtime. */
export const PRODUCING: ReadonlySet<string> = new Set(['Execute', 'Suspending', 'Suspended', 'Unsuspending']);

/** down intervals kept per station */
export const MAX_INTERVALS = 2000;
/** part, trip and alarm records kept (each) */
export const MAX_RECORDS = 100_000;
/** wall-to-tick samples kept, and their spacing [ms] (≈ 14 h) */
export const MAX_SAMPLES = 100_000;
export const SAMPLE_MS = 500;

/** An event as the meter reads it (the line's events, drained). */
export interface MeterEvent {
  tick: number;
  type: string;
  station: string | null;
  data: Record<string, unknown>;
}

/** What a station suffered over a window. */
export interface StationImpact {
  /** line time out of production [s] */
  downtimeS: number;
  scrapped: number;
  defective: number;
  interlockTrips: number;
  alarms: number;
}

/** A measurement: the graded figures, per station, and the window in wall and line time. */
export interface Measured {
  impact: Impact;
  stations: Record<string, StationImpact>;
  window: { fromMs: number; toMs: number; fromTick: number; toTick: number };
  /** records older than the window's start were dropped (bounded memory): the figures may be low */
  partial: boolean;
}

/** A ring of numbers in insertion order, bounded; `dropped` counts what fell out. */
class Ring<T> {
  items: T[] = [];
  dropped = false;
  constructor(private readonly max: number) {}
  push(x: T): void {
    this.items.push(x);
    // trimmed in batches: a splice per push would cost O(n) each
    if (this.items.length > this.max * 1.25) {
      this.items.splice(0, this.items.length - this.max);
      this.dropped = true;
    }
  }
}

interface StationTrack {
  /** ever seen producing (a station that never started is not "down") */
  wasProducing: boolean;
  producing: boolean;
  /** tick the current down interval began, or null */
  downSince: number | null;
  intervals: Ring<[number, number]>;
}

interface PartRecord { tick: number; station: string; kind: 'scrapped' | 'defective' | 'trip' | 'alarm' }

/** See the module comment. */
export class ImpactMeter {
  private readonly tracks = new Map<string, StationTrack>();
  private readonly records = new Ring<PartRecord>(MAX_RECORDS);
  private readonly samples = new Ring<[number, number]>(MAX_SAMPLES);

  constructor(
    stations: readonly string[],
    /** tick length [s] */
    private readonly dt: number,
  ) {
    for (const s of stations) this.tracks.set(s, { wasProducing: false, producing: false, downSince: null, intervals: new Ring(MAX_INTERVALS) });
  }

  /** Feeds drained events; `ms` is the wall time of the drain, `tick` the line's tick then. */
  onEvents(evs: readonly MeterEvent[], ms: number, tick: number): void {
    for (const e of evs) {
      if (typeof e !== 'object' || e === null || typeof e.tick !== 'number' || typeof e.station !== 'string') continue;
      const t = this.tracks.get(e.station);
      if (t === undefined) continue;
      switch (e.type) {
        case 'state': {
          const producing = PRODUCING.has(String(e.data.to));
          if (producing && !t.producing && t.downSince !== null) {
            t.intervals.push([t.downSince, e.tick]);
            t.downSince = null;
          } else if (!producing && t.producing) t.downSince = e.tick;
          t.producing = producing;
          if (producing) t.wasProducing = true;
          break;
        }
        case 'part-scrapped':
          this.records.push({ tick: e.tick, station: e.station, kind: 'scrapped' });
          break;
        case 'part-completed':
          if (Number(e.data.defects) !== 0 && Number.isFinite(Number(e.data.defects))) this.records.push({ tick: e.tick, station: e.station, kind: 'defective' });
          break;
        case 'interlock':
          if (e.data.tripped === true) this.records.push({ tick: e.tick, station: e.station, kind: 'trip' });
          break;
        case 'alarm':
          this.records.push({ tick: e.tick, station: e.station, kind: 'alarm' });
          break;
        default:
          break;
      }
    }
    const last = this.samples.items[this.samples.items.length - 1];
    if (Number.isFinite(ms) && Number.isFinite(tick) && (last === undefined || ms - last[0] >= SAMPLE_MS)) this.samples.push([ms, tick]);
  }

  /** The line's tick at wall time `ms`, interpolated between drains. */
  tickAt(ms: number): number {
    const s = this.samples.items;
    if (s.length === 0) return 0;
    if (ms <= s[0]![0]) return s[0]![1];
    let lo = 0;
    let hi = s.length - 1;
    if (ms >= s[hi]![0]) return s[hi]![1];
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (s[mid]![0] <= ms) lo = mid;
      else hi = mid;
    }
    const [m0, t0] = s[lo]!;
    const [m1, t1] = s[hi]!;
    return Math.round(t0 + ((ms - m0) * (t1 - t0)) / Math.max(1, m1 - m0));
  }

  /**
   * The impact over wall times [fromMs, toMs]; `toTick` is the line's tick at `toMs` when the
   * caller knows it (now), `setpointsOff` what the host counts against its snapshot.
   */
  measure(fromMs: number, toMs: number, o: { toTick?: number; setpointsOff?: number } = {}): Measured {
    const a = this.tickAt(fromMs);
    const b = Math.max(a, o.toTick ?? this.tickAt(toMs));
    const stations: Record<string, StationImpact> = {};
    let partial = this.records.dropped && (this.records.items[0]?.tick ?? 0) > a;
    for (const [id, t] of this.tracks) {
      let down = 0;
      for (const [s, e] of t.intervals.items) down += Math.max(0, Math.min(e, b) - Math.max(s, a));
      if (t.downSince !== null) down += Math.max(0, b - Math.max(t.downSince, a));
      if (t.intervals.dropped && (t.intervals.items[0]?.[0] ?? 0) > a) partial = true;
      stations[id] = { downtimeS: round(down * this.dt), scrapped: 0, defective: 0, interlockTrips: 0, alarms: 0 };
    }
    for (const r of this.records.items) {
      if (r.tick < a || r.tick > b) continue;
      const s = stations[r.station];
      if (s === undefined) continue;
      if (r.kind === 'scrapped') s.scrapped++;
      else if (r.kind === 'defective') s.defective++;
      else if (r.kind === 'trip') s.interlockTrips++;
      else s.alarms++;
    }
    const all = Object.values(stations);
    const sum = (f: (s: StationImpact) => number): number => all.reduce((x, s) => x + f(s), 0);
    const affected = all.filter((s) => s.downtimeS > 0 || s.scrapped > 0 || s.defective > 0 || s.interlockTrips > 0).length;
    return {
      impact: {
        downtimeS: round(Math.max(0, ...all.map((s) => s.downtimeS))),
        stationDowntimeS: round(sum((s) => s.downtimeS)),
        scrapped: sum((s) => s.scrapped),
        defective: sum((s) => s.defective),
        interlockTrips: sum((s) => s.interlockTrips),
        alarms: sum((s) => s.alarms),
        stationsAffected: affected,
        linesAffected: affected > 0 ? 1 : 0,
        setpointsOff: o.setpointsOff ?? 0,
      },
      stations,
      window: { fromMs, toMs, fromTick: a, toTick: b },
      partial,
    };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
