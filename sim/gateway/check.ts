/**
 * The comparison behind `twinline gateway check`: what a gateway delivered against the twin's
 * ground truth. Truth is the twin's own report-by-exception stream (its UNS messages): per tag
 * a sequence of segments, each a published value in effect from its arrival until the next.
 * A gateway that reads OPC UA sees the true value between those publications, which lies
 * within the deadband of the published one, or on the way from the previous published value
 * to the next. So a delivered value is judged against the twin's values around its time:
 *
 *  - consistent with a segment: numbers within [min(previous, value) − tolerance,
 *    max(previous, value) + tolerance], tolerance = the twin's deadband + the tag's resolution;
 *    integers equal to the value or strictly between the previous and the value (a change the
 *    twin's sampling passed over); booleans and strings exactly;
 *  - a value error: consistent with no segment of the tag (within the window's history);
 *  - a duplicate: the same value re-sent while the twin published no change of the tag;
 *  - stale: the gateway's value of a tag is older than the twin's by more than `staleMs`
 *    (consistent with no segment in effect during the last `staleMs`), over time, so a gateway
 *    that stops delivering makes the tags that change meanwhile stale;
 *  - a twin change is delivered when a delivery consistent with it arrives from `lookaheadMs`
 *    before it until `staleMs` after its segment ends, or the gateway's standing value already
 *    lies within the deadband of it (a gateway with its own deadband need not re-send);
 *    changes never delivered are missed, and bins of the window where most changes were missed
 *    form loss windows (start, end, tags).
 * Deliveries are judged `lookaheadMs` after arrival, when the twin's publication of the same
 * change has arrived too. One that matches none of the twin's values by then waits up to
 * `catchUpMs` for the twin's stream to catch up: on a busy host the twin's own publications
 * (worker, host, broker) can run seconds behind the OPC UA reads a gateway makes, and a rising
 * counter read ahead of them is no error. A value the twin never had is still one, named
 * `catchUpMs` later. So the window closes (`close`) before the report: the twin's messages
 * heard after it only judge the deliveries still waiting (they are no changes to deliver), and
 * the gateway's are not counted. Pure: times are passed in [ms], so tests drive it with fake time.
 */
import type { WireValue } from './extract.ts';
import { buildReport, DEFAULT_LIMITS, type CheckLimits, type CheckReport, type Seg, type TagState } from './check-report.ts';

export { DEFAULT_LIMITS, verdict, type CheckLimits, type CheckReport } from './check-report.ts';

/** What the checker needs of a tag. */
export interface CheckTag {
  key: string;
  /** station id, for grouping (default: the key before its first `.`) */
  station?: string;
  dataType: 'Double' | 'Int32' | 'Boolean' | 'String';
  /** the twin's deadband [unit], or a share of the value when `relative` */
  deadband: number;
  relative: boolean;
  /** smallest step the gateway may round to [unit] (default: 1e-9 of the value) */
  resolution?: number;
}

/** Tuning of the comparison. */
export interface CheckOptions {
  /** how far back a delivered value is looked up in the twin's history [ms] */
  windowMs: number;
  /** a delivery may carry a value the twin publishes up to this much later [ms] */
  lookaheadMs: number;
  /**
   * a delivery matching none of the twin's values after `lookaheadMs` waits up to this long for
   * the twin's stream to catch up before it is a value error [ms]
   */
  catchUpMs: number;
  /** changes younger than this at the end are in flight, neither delivered nor missed [ms] */
  graceMs: number;
  /** a delivered value older than the twin's by more than this is stale [ms] */
  staleMs: number;
  /** deliveries in the first this-many ms may carry values from before the check began [ms] */
  warmupMs: number;
  /** width of the bins loss windows are made of [ms] */
  binMs: number;
  /** a bin where at least this share of the changes was missed (and 3 or more) is lost */
  lossShare: number;
  /**
   * a gateway that starts within the window reads its tags one after another: changes of a tag
   * over before its first value are not counted if that came within this of the gateway's first [ms]
   */
  settleMs: number;
}

export const DEFAULT_CHECK: CheckOptions = { windowMs: 60_000, lookaheadMs: 300, catchUpMs: 5000, graceMs: 2000, staleMs: 5000, warmupMs: 1000, binMs: 1000, lossShare: 0.5, settleMs: 5000 };

/** Absolute distance between a number and the interval [lo, hi]. */
const outside = (v: number, lo: number, hi: number): number => (v < lo ? lo - v : v > hi ? v - hi : 0);

const asNumber = (v: WireValue): number | null => (typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null);

/** Compares a gateway's deliveries with the twin's changes. */
export class DeliveryCheck {
  private readonly tags = new Map<string, TagState>();
  private readonly o: CheckOptions;
  private start = NaN;
  /** end of the window [ms] once closed */
  private end = Infinity;
  /** arrival of the gateway's first value [ms] */
  private first = Infinity;
  private readonly counts = { truth: 0, delivered: 0, values: 0, retainedIgnored: 0, unattributed: 0, unjudged: 0 };
  private readonly unattributed: string[] = [];

  constructor(tags: readonly CheckTag[], o: Partial<CheckOptions> = {}) {
    this.o = { ...DEFAULT_CHECK, ...o };
    for (const tag of tags) {
      this.tags.set(tag.key, {
        tag, station: tag.station ?? tag.key.split('.')[0] ?? tag.key, segs: [], open: 0, queue: [], delivered: 0, firstAt: Infinity, standing: undefined, last: null,
        latencies: [], errors: [], duplicates: 0, outOfOrder: 0, stale: [],
      });
    }
  }

  /** Marks the beginning of the check [ms]. */
  begin(at: number): void {
    this.start = at;
  }

  /**
   * Closes the window at `at`: from now on the gateway's messages are not counted, and the
   * twin's only serve the deliveries still waiting for it. Hear the twin for `catchUpMs` more,
   * or until `waiting()` is false, then `report`.
   */
  close(at: number): void {
    this.end = Math.min(this.end, at);
  }

  /** True while a delivery waits to be judged (for the twin's stream, or its lookahead). */
  waiting(): boolean {
    for (const s of this.tags.values()) if (s.queue.length > 0) return true;
    return false;
  }

  /** The twin changed tag `key` to `value` (its UNS message arrived at `at`). */
  truth(key: string, value: WireValue, at: number, retained: boolean): void {
    const s = this.tags.get(key);
    if (s === undefined) return;
    if (at <= this.end) this.counts.truth++;
    const prev = s.segs[s.segs.length - 1];
    s.segs.push({ at, value, prev: prev?.value, retained, covered: false, standing: s.standing, n: s.segs.length });
    this.judge(s, at);
  }

  /** A message from the gateway carried nothing the line knows. */
  noTag(topic: string): void {
    if (this.closed()) return;
    this.counts.delivered++;
    this.counts.unattributed++;
    if (this.unattributed.length < 10 && !this.unattributed.includes(topic)) this.unattributed.push(topic);
  }

  /** A message from the gateway arrived (counted once, whatever it carries). */
  message(retained: boolean): void {
    if (this.closed()) return;
    this.counts.delivered++;
    if (retained) this.counts.retainedIgnored++;
  }

  /** The gateway delivered `value` for tag `key` at `at`. */
  delivered(key: string, value: WireValue, at: number): void {
    const s = this.tags.get(key);
    if (s === undefined || this.closed()) return;
    this.counts.values++;
    if (at < this.first) this.first = at;
    if (s.delivered === 0) s.firstAt = at;
    s.delivered++;
    s.standing = value;
    s.queue.push({ at, value });
    this.judge(s, at);
  }

  /** Judges every delivery whose wait is over (call now and then, so queues stay short). */
  tick(at: number): void {
    for (const s of this.tags.values()) this.judge(s, at);
  }

  /**
   * Reports at `at`, with the problems beyond `limits`, on the window up to `close` (or `at`).
   * Deliveries still waiting are judged if they match, left unjudged (in flight) if not.
   */
  report(at: number, limits: CheckLimits = DEFAULT_LIMITS): CheckReport {
    const end = Math.min(at, this.end);
    for (const s of this.tags.values()) {
      this.judge(s, at);
      for (const d of s.queue) this.judgeOne(s, d.at, d.value, this.match(s, d.at, d.value, Math.min(at, d.at + this.o.catchUpMs)), true);
      s.queue.length = 0;
      if (s.last !== null) this.staleSpans(s, end);
      // what the twin published after the window only served the deliveries waiting for it
      let n = s.segs.length;
      while (n > 0 && s.segs[n - 1]!.at > end) n--;
      s.segs.length = n;
    }
    return buildReport([...this.tags.values()], this.o, { start: Number.isNaN(this.start) ? end : this.start, end, first: this.first, counts: this.counts, unattributed: this.unattributed, consistent: (t, v, g) => this.consistent(t, v, g, true) }, limits);
  }

  private closed(): boolean {
    return this.end !== Infinity;
  }

  /** Tolerance of a number against the published `value` of `tag`: deadband plus resolution. */
  private tolerance(tag: CheckTag, value: number): number {
    const band = tag.relative ? tag.deadband * Math.abs(value) : tag.deadband;
    return band + Math.max(tag.resolution ?? 0, 1e-9 * Math.abs(value), 1e-12);
  }

  /** True if `v` is a value the tag may have had while segment `g` was in effect. */
  private consistent(tag: CheckTag, v: WireValue, g: Seg, strict = false): boolean {
    if (tag.dataType === 'String' || v === null || g.value === null || typeof v === 'string' || typeof g.value === 'string') return v === g.value;
    const x = asNumber(v);
    const y = asNumber(g.value);
    if (x === null || y === null) return false;
    if (tag.dataType === 'Boolean') return (x !== 0) === (y !== 0);
    const p = strict || g.prev === undefined ? null : asNumber(g.prev);
    const lo = p === null ? y : Math.min(p, y);
    const hi = p === null ? y : Math.max(p, y);
    if (tag.dataType === 'Int32') return x === y || (Number.isInteger(x) && x > lo && x < hi);
    return outside(x, lo, hi) <= this.tolerance(tag, y);
  }

  /**
   * Judges the queued deliveries of `s` in order: each once `lookaheadMs` old, or, matching none
   * of the twin's values yet, once the twin's stream has caught up with it or `catchUpMs` passed.
   */
  private judge(s: TagState, now: number): void {
    const o = this.o;
    while (s.queue.length > 0 && now - s.queue[0]!.at >= o.lookaheadMs) {
      const d = s.queue[0]!;
      let found = this.match(s, d.at, d.value, d.at + o.lookaheadMs);
      if (found.k < 0) {
        found = this.match(s, d.at, d.value, Math.min(now, d.at + o.catchUpMs));
        if (found.k < 0 && now - d.at < o.catchUpMs) break;
      }
      s.queue.shift();
      this.judgeOne(s, d.at, d.value, found);
    }
  }

  /**
   * The newest segment of `s` that delivery `v` arriving at `a` may carry, among those published
   * up to `horizon` and in effect within the window (k, or −1), and the newest of those (top).
   */
  private match(s: TagState, a: number, v: WireValue, horizon: number): { k: number; top: number } {
    const segs = s.segs;
    let top = segs.length - 1;
    while (top >= 0 && segs[top]!.at > horizon) top--;
    for (let j = top; j >= 0; j--) {
      const end = segs[j + 1]?.at ?? Infinity;
      if (end < a - this.o.windowMs) break;
      if (this.consistent(s.tag, v, segs[j]!)) return { k: j, top };
    }
    return { k: -1, top };
  }

  /**
   * Judges delivery `v` arriving at `a` with its `match` (the segments it may carry: published up
   * to lookahead after its arrival, or later when it waited for the twin's stream to catch up).
   */
  private judgeOne(s: TagState, a: number, v: WireValue, { k, top }: { k: number; top: number }, tail = false): void {
    const o = this.o;
    const segs = s.segs;
    if (k < 0) {
      // a value from before the check began (or before the twin's first value) is no error
      if (a - this.start < o.warmupMs || top < 0 || tail) {
        this.counts.unjudged++;
        return;
      }
      s.errors.push({ at: a, delivered: v, twin: this.valueAt(s, a), off: this.offBy(s, v, top) });
      return;
    }
    // the twin's changes this delivery carries (first delivery of each sets its latency)
    while (s.open < segs.length && segs[s.open]!.covered) s.open++;
    for (let j = top; j >= s.open; j--) {
      const g = segs[j]!;
      const end = segs[j + 1]?.at ?? Infinity;
      if (end + o.staleMs < a) break;
      if (g.covered || !this.consistent(s.tag, v, g)) continue;
      g.covered = true;
      if (!g.retained) s.latencies.push(Math.max(0, a - g.at));
    }
    // the newest segment published by the arrival: no new one since the last delivery → a re-send
    let atArrival = top;
    while (atArrival >= 0 && segs[atArrival]!.at > a) atArrival--;
    const last = s.last;
    if (last !== null) {
      this.staleSpans(s, a);
      if (last.value === v && last.segAtArrival === atArrival) s.duplicates++;
      else if (k < last.k) s.outOfOrder++;
    }
    s.last = { at: a, value: v, k, segAtArrival: atArrival };
  }

  /** How far `v` lies from the twin's values in the window, for ranking value errors. */
  private offBy(s: TagState, v: WireValue, top: number): number {
    const x = asNumber(v);
    if (x === null) return Infinity;
    let best = Infinity;
    for (let j = top; j >= 0; j--) {
      const y = asNumber(s.segs[j]!.value);
      if (y !== null) best = Math.min(best, Math.abs(x - y) / Math.max(1e-9, Math.abs(y)));
    }
    return best;
  }

  /**
   * Records when the last delivered value of `s` was stale between its arrival and `until`:
   * from `staleMs` after the end of the newest segment it is consistent with, until a segment
   * it is consistent with begins again (or `until`).
   */
  private staleSpans(s: TagState, until: number): void {
    const last = s.last!;
    const segs = s.segs;
    const X = this.o.staleMs;
    const endOf = (j: number): number => Math.min(until, segs[j + 1]?.at ?? until);
    let fresh = last.at;
    const matchedEnd = segs[last.k + 1]?.at;
    if (matchedEnd !== undefined && matchedEnd <= last.at) fresh = matchedEnd;
    else fresh = endOf(last.k);
    const push = (from: number, to: number): void => {
      if (to > from) s.stale.push({ from, to, delivered: last.value, twin: this.valueAt(s, from) });
    };
    for (let j = last.k + 1; j < segs.length && segs[j]!.at <= until; j++) {
      const g = segs[j]!;
      if (!this.consistent(s.tag, last.value, g)) continue;
      if (fresh + X < g.at) push(Math.max(fresh + X, last.at), g.at);
      fresh = Math.max(fresh, endOf(j));
    }
    if (fresh + X < until) push(Math.max(fresh + X, last.at), until);
  }

  /** The twin's published value of `s` in effect at `at`. */
  private valueAt(s: TagState, at: number): WireValue {
    let j = s.segs.length - 1;
    while (j > 0 && s.segs[j]!.at > at) j--;
    return s.segs[j]?.value ?? null;
  }
}
