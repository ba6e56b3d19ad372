/**
 * The comparison behind `twinline gateway check`: what a gateway delivered against the twin's
 * ground truth. Truth is the twin's own report-by-exception stream (its UNS messages, each a
 * change past the tag's deadband); every delivered value is matched to the newest truth change
 * of its tag with that value. Both streams reach the checker over one broker connection, so
 * a delivery's latency is its arrival minus the arrival of the change it carries: what the
 * gateway adds on top of the twin's own publishing.
 *
 * Counted: tag coverage (tags delivered at least once), missing tags (the twin changed them,
 * the gateway never delivered them), quiet tags (never changed, nothing to deliver), stale
 * tags (the gateway's last value is not the twin's current one, changed long enough ago),
 * missed changes (truth changes of covered tags never delivered), latency p50/p99, out-of-order
 * and duplicate deliveries, value errors (a value the tag never had), and messages that name
 * no tag of the line. Pure: times are passed in [ms], so tests drive it with fake time.
 */
import type { WireValue } from './extract.ts';

/** What the checker needs of a tag. */
export interface CheckTag {
  key: string;
  dataType: 'Double' | 'Int32' | 'Boolean' | 'String';
  /** the twin's deadband [unit], or a share of the value when `relative` */
  deadband: number;
  relative: boolean;
}

/** Tuning of the comparison. */
export interface CheckOptions {
  /** truth changes older than this are forgotten (and, if never delivered, missed) [ms] */
  windowMs: number;
  /** a delivered value that matches no truth yet waits this long for the twin's change [ms] */
  lookaheadMs: number;
  /** changes younger than this at the end are in flight, neither delivered nor missed [ms] */
  graceMs: number;
  /** a tag whose delivered value lags the twin's for longer than this is stale [ms] */
  staleMs: number;
  /** deliveries in the first this-many ms may carry changes from before the check began [ms] */
  warmupMs: number;
}

export const DEFAULT_CHECK: CheckOptions = { windowMs: 60_000, lookaheadMs: 300, graceMs: 2000, staleMs: 5000, warmupMs: 1000 };

/** Examples kept per kind of finding. */
const EXAMPLES = 10;

/** The result of a check. */
export interface CheckReport {
  durationS: number;
  tags: { total: number; covered: number; missing: number; quiet: number; stale: number; coverage: number };
  messages: { truth: number; delivered: number; values: number; retainedIgnored: number; unattributed: number };
  changes: { published: number; delivered: number; missed: number; inFlight: number; lossRate: number };
  latencyMs: { n: number; p50: number; p99: number; max: number; mean: number };
  outOfOrder: number;
  duplicates: number;
  valueErrors: number;
  examples: {
    missing: string[];
    stale: { tag: string; delivered: WireValue; twin: WireValue }[];
    valueErrors: { tag: string; delivered: WireValue; twin: WireValue }[];
    duplicates: { tag: string; value: WireValue }[];
    unattributed: string[];
  };
}

interface Change {
  at: number;
  value: WireValue;
  /** how often it was delivered */
  hits: number;
  /** a retained value seen at subscribe time: matchable, never counted as a change */
  retained: boolean;
  /** position in the tag's change sequence */
  n: number;
}

interface TagState {
  tag: CheckTag;
  changes: Change[];
  next: number;
  /** highest change position delivered so far */
  lastN: number;
  delivered: number;
  lastValue: WireValue | undefined;
  everChanged: boolean;
  /** deliveries waiting for their truth change */
  pending: { at: number; value: WireValue }[];
}

/** Nearest-rank quantile of sorted `xs`. */
function q(xs: readonly number[], p: number): number {
  return xs.length === 0 ? NaN : (xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))] ?? NaN);
}

/** Compares a gateway's deliveries with the twin's changes. */
export class DeliveryCheck {
  private readonly tags = new Map<string, TagState>();
  private readonly latencies: number[] = [];
  private readonly o: CheckOptions;
  private start = NaN;
  private truthMsgs = 0;
  private deliveredMsgs = 0;
  private values = 0;
  private retainedIgnored = 0;
  private unattributed = 0;
  private published = 0;
  private missedOld = 0;
  private matched = 0;
  private outOfOrder = 0;
  private duplicates = 0;
  private valueErrors = 0;
  private readonly ex: CheckReport['examples'] = { missing: [], stale: [], valueErrors: [], duplicates: [], unattributed: [] };

  constructor(tags: readonly CheckTag[], o: Partial<CheckOptions> = {}) {
    this.o = { ...DEFAULT_CHECK, ...o };
    for (const tag of tags) this.tags.set(tag.key, { tag, changes: [], next: 0, lastN: -1, delivered: 0, lastValue: undefined, everChanged: false, pending: [] });
  }

  /** Marks the beginning of the check [ms]. */
  begin(at: number): void {
    this.start = at;
  }

  /** The twin changed tag `key` to `value` (its UNS message arrived at `at`). */
  truth(key: string, value: WireValue, at: number, retained: boolean): void {
    const s = this.tags.get(key);
    if (s === undefined) return;
    this.truthMsgs++;
    this.expire(s, at);
    s.changes.push({ at, value, hits: 0, retained, n: s.next++ });
    if (!retained) {
      this.published++;
      s.everChanged = true;
    }
    // deliveries that ran ahead of the twin's own publishing (a gateway sampling between its samples)
    if (s.pending.length > 0) {
      const waiting = s.pending;
      s.pending = [];
      for (const p of waiting) if (!this.match(s, p.value, p.at, at)) s.pending.push(p);
    }
  }

  /** A message from the gateway arrived at `at` and carried nothing the line knows. */
  noTag(topic: string): void {
    this.deliveredMsgs++;
    this.unattributed++;
    if (this.ex.unattributed.length < EXAMPLES && !this.ex.unattributed.includes(topic)) this.ex.unattributed.push(topic);
  }

  /** A message from the gateway arrived at `at` (counted once, whatever it carries). */
  message(retained: boolean): void {
    this.deliveredMsgs++;
    if (retained) this.retainedIgnored++;
  }

  /** The gateway delivered `value` for tag `key` at `at`. */
  delivered(key: string, value: WireValue, at: number): void {
    const s = this.tags.get(key);
    if (s === undefined) return;
    this.values++;
    s.delivered++;
    s.lastValue = value;
    this.expire(s, at);
    this.flushPending(s, at);
    if (!this.match(s, value, at, at)) s.pending.push({ at, value });
  }

  /** Ends the check at `at` and reports. */
  report(at: number): CheckReport {
    let missing = 0;
    let quiet = 0;
    let covered = 0;
    let stale = 0;
    let missed = this.missedOld;
    let inFlight = 0;
    for (const s of this.tags.values()) {
      this.flushPending(s, at + this.o.lookaheadMs + 1);
      if (s.delivered === 0) {
        if (s.everChanged) {
          missing++;
          if (this.ex.missing.length < EXAMPLES) this.ex.missing.push(s.tag.key);
        } else quiet++;
        continue;
      }
      covered++;
      for (const c of s.changes) {
        if (c.retained || c.hits > 0) continue;
        if (at - c.at < this.o.graceMs) inFlight++;
        else missed++;
      }
      const current = s.changes[s.changes.length - 1];
      if (current !== undefined && at - current.at >= this.o.staleMs && s.lastValue !== undefined && !this.same(s.tag, s.lastValue, current.value)) {
        stale++;
        if (this.ex.stale.length < EXAMPLES) this.ex.stale.push({ tag: s.tag.key, delivered: s.lastValue, twin: current.value });
      }
    }
    const lat = [...this.latencies].sort((a, b) => a - b);
    const counted = this.matched;
    return {
      durationS: Number.isNaN(this.start) ? 0 : (at - this.start) / 1000,
      tags: { total: this.tags.size, covered, missing, quiet, stale, coverage: covered + missing === 0 ? 0 : covered / (covered + missing) },
      messages: { truth: this.truthMsgs, delivered: this.deliveredMsgs, values: this.values, retainedIgnored: this.retainedIgnored, unattributed: this.unattributed },
      changes: { published: this.published, delivered: counted, missed, inFlight, lossRate: counted + missed === 0 ? 0 : missed / (counted + missed) },
      latencyMs: { n: lat.length, p50: q(lat, 0.5), p99: q(lat, 0.99), max: lat[lat.length - 1] ?? NaN, mean: lat.length === 0 ? NaN : lat.reduce((a, b) => a + b, 0) / lat.length },
      outOfOrder: this.outOfOrder,
      duplicates: this.duplicates,
      valueErrors: this.valueErrors,
      examples: this.ex,
    };
  }

  /** True if `a` and `b` are the same value of `tag` (numbers within half the deadband). */
  private same(tag: CheckTag, a: WireValue, b: WireValue): boolean {
    if (typeof a === 'number' && typeof b === 'number') {
      if (tag.dataType !== 'Double') return Math.round(a) === Math.round(b);
      const band = tag.relative ? tag.deadband * Math.abs(b) : tag.deadband;
      return Math.abs(a - b) <= Math.max(band / 2, 1e-6 * Math.max(1, Math.abs(b)));
    }
    if (typeof a === 'boolean' && typeof b === 'number') return (b !== 0) === a;
    if (typeof a === 'number' && typeof b === 'boolean') return (a !== 0) === b;
    return a === b;
  }

  /**
   * Matches a delivery to the newest change with its value that was not delivered yet; a
   * value whose changes were all delivered already is a duplicate. False if no change matches.
   */
  private match(s: TagState, value: WireValue, arrived: number, now: number): boolean {
    let seen = false;
    for (let k = s.changes.length - 1; k >= 0; k--) {
      const c = s.changes[k]!;
      if (!this.same(s.tag, value, c.value)) continue;
      seen = true;
      if (c.hits > 0) continue;
      c.hits++;
      if (!c.retained) {
        this.matched++;
        this.latencies.push(Math.max(0, arrived - c.at));
      }
      if (c.n < s.lastN) this.outOfOrder++;
      else s.lastN = c.n;
      return true;
    }
    if (seen) {
      this.duplicates++;
      if (this.ex.duplicates.length < EXAMPLES) this.ex.duplicates.push({ tag: s.tag.key, value });
      return true;
    }
    // a value from before the check began cannot be matched, and is no error
    return now === arrived && arrived - this.start < this.o.warmupMs;
  }

  /** Pending deliveries whose wait is over are value errors. */
  private flushPending(s: TagState, at: number): void {
    while (s.pending.length > 0 && at - s.pending[0]!.at > this.o.lookaheadMs) {
      const p = s.pending.shift()!;
      this.valueErrors++;
      if (this.ex.valueErrors.length < EXAMPLES) this.ex.valueErrors.push({ tag: s.tag.key, delivered: p.value, twin: s.changes[s.changes.length - 1]?.value ?? null });
    }
  }

  /** Forgets changes older than the window; those never delivered are missed. */
  private expire(s: TagState, at: number): void {
    let k = 0;
    // keep the newest change however old: it is the tag's current value
    while (k < s.changes.length - 1 && at - s.changes[k]!.at > this.o.windowMs) {
      const c = s.changes[k]!;
      if (!c.retained && c.hits === 0 && s.delivered > 0) this.missedOld++;
      k++;
    }
    if (k > 0) s.changes.splice(0, k);
  }
}
