/**
 * The historian: a served line's process values and events in a real database, so trend
 * screens and gateways can backfill (`GET /api/history`, OPC UA HistoryRead raw and processed).
 *
 * - Values come from the host's value sampler (value-recorder.ts: every station's numeric
 *   fields every `--record-values` ms of wall time, read in one consistent read). A value is
 *   stored when it changed, and at least once per `HEARTBEAT_MS` while it holds (so a reader
 *   always finds a value near any time; OPC UA's MaxTimeInterval). Events are stored as drained.
 * - Writes are batched: one transaction per `FLUSH_MS`. The batch waiting for the database is
 *   bounded (`MAX_PENDING` rows); when the database falls that far behind, the oldest waiting
 *   rows are dropped and counted, never the host's memory.
 * - Rows older than the retention (`--history-hours`, default 24 h of wall time) are deleted
 *   once a minute, so the disk is bounded by time.
 * - Stores (historian-store.ts): SQLite embedded (better-sqlite3, `<run folder>/history.sqlite`,
 *   the default) or PostgreSQL (`--historian postgres://…`, tables `twinline_*`, shared by runs
 *   and hosts). Each row names its run, so one database holds many.
 */
import type { SimEvent } from '../core/events.ts';
import type { ValueColumn } from './value-recorder.ts';
import type { HistorianStore, StoreEventQuery, StoredEvent, StoredValue, StoreValueQuery, ValueRow, EventRow } from './historian-store.ts';

export type { StoredEvent, StoredValue } from './historian-store.ts';

/** a value that holds is stored again after this long [ms] */
export const HEARTBEAT_MS = 60_000;
/** how often the waiting rows are written, in one transaction [ms] */
const FLUSH_MS = 1000;
/** rows waiting for the database at most (values and events); beyond, the oldest are dropped */
export const MAX_PENDING = 500_000;
/** how often rows past the retention are deleted [ms] */
const PRUNE_MS = 60_000;
/** the default retention [h] */
export const DEFAULT_HISTORY_HOURS = 24;
/** the longest retention accepted [h] (a year) */
export const MAX_HISTORY_HOURS = 24 * 366;
/** rows one read returns at most (a longer range is paged: `next`) */
export const MAX_READ = 100_000;
/** reads waiting for the database at most; one more is refused (`HistoryBusy`) */
export const MAX_WAITING_READS = 16;

/** A read refused because too many wait already. */
export class HistoryBusy extends Error {
  constructor() {
    super(`the historian is busy: ${MAX_WAITING_READS} reads wait already; ask again shortly`);
  }
}

/**
 * Runs reads one at a time, the next after the event loop has turned (so the faces' own work
 * runs between two reads of a flood), with at most `max` waiting.
 */
class ReadGate {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  constructor(private readonly max: number) {}

  run<T>(read: () => Promise<T>): Promise<T> {
    if (this.waiting >= this.max) return Promise.reject(new HistoryBusy());
    this.waiting++;
    const next = this.tail.then(() => new Promise<void>((r) => setImmediate(r))).then(read).finally(() => this.waiting--);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** Options of a `Historian`. */
export interface HistorianOptions {
  store: HistorianStore;
  /** the run's id (its folder's name) */
  run: string;
  scenario: string;
  columns: readonly ValueColumn[];
  /** tick length [s] */
  dt: number;
  /** retention [h] */
  hours?: number;
  /** rows waiting for the database at most (default MAX_PENDING) */
  maxPending?: number;
  /** the wall clock [ms] (tests) */
  now?: () => number;
}

/** What `GET /api/history` says of the historian. */
export interface HistorianStatus {
  store: 'sqlite' | 'postgres';
  /** the SQLite file, or the PostgreSQL URL without its password */
  where: string;
  run: string;
  /** retention [h] */
  hours: number;
  written: { values: number; events: number };
  /** rows dropped because the database fell behind by more than MAX_PENDING */
  dropped: number;
  /** rows waiting for the next write */
  pending: number;
  /** the last write's error, or null once a write succeeds again */
  error: string | null;
}

/** A range of one tag's stored values (`limit` ≤ MAX_READ). */
export type ValueQuery = StoreValueQuery;
/** A range of stored events (`limit` ≤ MAX_READ). */
export type EventQuery = StoreEventQuery;

/** See the module comment. */
export class Historian {
  private readonly store: HistorianStore;
  private readonly now: () => number;
  private readonly hours: number;
  /** per column: last stored value and when */
  private readonly last: { v: number | null; ms: number }[];
  private readonly ids: number[] = [];
  private values: ValueRow[] = [];
  private events: EventRow[] = [];
  private writing: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly counts = { values: 0, events: 0, dropped: 0 };
  private error: string | null = null;
  private readonly byName: Map<string, number>;
  /** reads one at a time, a bounded number waiting (a flood of reads is refused, not queued without end) */
  private readonly reads = new ReadGate(MAX_WAITING_READS);

  private constructor(private readonly o: HistorianOptions) {
    this.store = o.store;
    this.now = o.now ?? Date.now;
    this.hours = o.hours ?? DEFAULT_HISTORY_HOURS;
    this.last = o.columns.map(() => ({ v: null, ms: -Infinity }));
    this.byName = new Map(o.columns.map((c, k) => [c.name, k]));
  }

  /** Opens the store (tables made when missing), registers the run and its tags, starts the timers. */
  static async open(o: HistorianOptions): Promise<Historian> {
    const h = new Historian(o);
    const ids = await o.store.init(o.run, o.scenario, o.columns.map((c) => ({ name: c.name, unit: c.unit, description: c.description })));
    h.ids.push(...ids);
    h.flushTimer = setInterval(() => void h.flush(), FLUSH_MS);
    h.flushTimer.unref();
    h.pruneTimer = setInterval(() => void h.prune(), PRUNE_MS);
    h.pruneTimer.unref();
    return h;
  }

  /** The recorded tags. */
  get columns(): readonly ValueColumn[] {
    return this.o.columns;
  }

  /** Whether `tag` (`station.field`) is recorded. */
  has(tag: string): boolean {
    return this.byName.has(tag);
  }

  /** One sample of every column (as `columns`; null: not a finite number), taken at wall time `ms`. */
  sample(ms: number, tick: number, values: readonly (number | null)[]): void {
    if (this.closed) return;
    const simS = Math.round(tick * this.o.dt * 1e6) / 1e6;
    for (let k = 0; k < this.last.length; k++) {
      const v = values[k] ?? null;
      const l = this.last[k]!;
      if (v === l.v && ms - l.ms < HEARTBEAT_MS) continue;
      l.v = v;
      l.ms = ms;
      this.values.push({ tag: this.ids[k]!, ms, simS, v });
    }
    this.bound();
  }

  /** Events as drained (stored with the wall time they were drained at). */
  onEvents(events: readonly SimEvent[]): void {
    if (this.closed || events.length === 0) return;
    const ms = this.now();
    for (const e of events) {
      this.events.push({ seq: e.seq, ms, tick: e.tick, simS: Math.round(e.tick * this.o.dt * 1e6) / 1e6, type: e.type, station: e.station, data: JSON.stringify(e.data) });
    }
    this.bound();
  }

  /** The oldest waiting rows go when the database is this far behind. */
  private bound(): void {
    const over = this.values.length + this.events.length - (this.o.maxPending ?? MAX_PENDING);
    if (over <= 0) return;
    const fromValues = Math.min(over, this.values.length);
    this.values.splice(0, fromValues);
    this.events.splice(0, over - fromValues);
    this.counts.dropped += over;
  }

  /** Writes the waiting rows in one transaction (one write at a time). */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.values.length === 0 && this.events.length === 0) return;
      const values = this.values;
      const events = this.events;
      this.values = [];
      this.events = [];
      try {
        await this.store.write(this.o.run, values, events);
        this.counts.values += values.length;
        this.counts.events += events.length;
        this.error = null;
      } catch (e) {
        // kept for the next write (still bounded by MAX_PENDING)
        this.values = values.concat(this.values);
        this.events = events.concat(this.events);
        this.bound();
        this.error = e instanceof Error ? e.message : String(e);
      }
    });
    return this.writing;
  }

  /** Deletes rows past the retention (also on its timer). */
  prune(): Promise<void> {
    this.writing = this.writing.then(async () => {
      try {
        await this.store.prune(this.o.run, this.now() - this.hours * 3_600_000);
      } catch (e) {
        this.error = e instanceof Error ? e.message : String(e);
      }
    });
    return this.writing;
  }

  /** A tag's stored values in a range (what was written so far: call `flush` first to include the last second). */
  async readValues(tag: string, q: ValueQuery): Promise<StoredValue[]> {
    const k = this.byName.get(tag);
    if (k === undefined) return [];
    return this.reads.run(() => this.store.readValues(this.ids[k]!, { ...q, limit: Math.min(MAX_READ, Math.max(1, q.limit)) }));
  }

  /** Stored events in a range. */
  readEvents(q: EventQuery): Promise<StoredEvent[]> {
    return this.reads.run(() => this.store.readEvents(this.o.run, { ...q, limit: Math.min(MAX_READ, Math.max(1, q.limit)) }));
  }

  status(): HistorianStatus {
    return {
      store: this.store.kind, where: this.store.where, run: this.o.run, hours: this.hours,
      written: { values: this.counts.values, events: this.counts.events },
      dropped: this.counts.dropped, pending: this.values.length + this.events.length, error: this.error,
    };
  }

  /** Writes what waits and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer !== null) clearInterval(this.flushTimer);
    if (this.pruneTimer !== null) clearInterval(this.pruneTimer);
    await this.flush();
    await this.store.close();
  }
}
