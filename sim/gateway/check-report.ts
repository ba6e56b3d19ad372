/**
 * The report of a delivery check (check.ts): coverage over the whole catalog with the tags
 * never delivered grouped by station, missed changes and the loss windows they form, stale
 * tags with when they were stale, value errors and duplicates per tag, latency; and the
 * verdict against limits the user sets (`gateway check --max-…`).
 */
import type { CheckOptions, CheckTag } from './check.ts';
import type { WireValue } from './extract.ts';

/** A published value of the twin in effect from its arrival until the next one. */
export interface Seg {
  /** arrival [ms] */
  at: number;
  value: WireValue;
  /** the value before it (the true value passed from one to the other) */
  prev: WireValue | undefined;
  /** a retained value seen at subscribe time: matchable, never counted as a change */
  retained: boolean;
  /** a delivery carried it */
  covered: boolean;
  /** the gateway's last delivered value when it arrived */
  standing: WireValue | undefined;
  /** position in the tag's sequence */
  n: number;
}

/** The checker's state of one tag. */
export interface TagState {
  tag: CheckTag;
  station: string;
  segs: Seg[];
  /** segments before this one are all covered */
  open: number;
  /** deliveries waiting to be judged */
  queue: { at: number; value: WireValue }[];
  delivered: number;
  /** arrival of its first delivered value [ms] */
  firstAt: number;
  /** last delivered value (judged or not) */
  standing: WireValue | undefined;
  /** last judged delivery: arrival, value, newest consistent segment, newest segment at arrival */
  last: { at: number; value: WireValue; k: number; segAtArrival: number } | null;
  latencies: number[];
  errors: { at: number; delivered: WireValue; twin: WireValue; off: number }[];
  duplicates: number;
  outOfOrder: number;
  /** times the tag's delivered value was stale [ms] */
  stale: { from: number; to: number; delivered: WireValue; twin: WireValue }[];
}

/** Limits beyond which `gateway check` exits 3. */
export interface CheckLimits {
  /** tags that changed in the twin and were never delivered */
  missingTags: number;
  /** tags stale at some time of the check */
  staleTags: number;
  /** share of the twin's changes never delivered */
  lossRate: number;
  /** delivered values the tag never had */
  valueErrors: number;
  /** share of delivered values that were re-sends */
  duplicateRate: number;
  /** share of delivered values older than one delivered before */
  outOfOrderRate: number;
}

export const DEFAULT_LIMITS: CheckLimits = { missingTags: 0, staleTags: 0, lossRate: 0.01, valueErrors: 0, duplicateRate: 0.01, outOfOrderRate: 0.01 };

/** The result of a check. Times `…S` are seconds since the check began. */
export interface CheckReport {
  durationS: number;
  tags: {
    /** tags in the catalog */
    total: number;
    /** delivered at least once */
    delivered: number;
    /** delivered / total */
    coverage: number;
    /** never delivered although the twin changed them */
    missing: number;
    /** never delivered, never changed in the twin (nothing to deliver, unless the gateway sends on start only) */
    quiet: number;
    /** stale at some time of the check */
    stale: number;
  };
  /** never-delivered tags by station; `all` when the station delivered none of its tags */
  neverDelivered: { station: string; all: boolean; changed: string[]; quiet: string[] }[];
  /** `unjudged`: values from before the check began or whose twin value had not arrived at its end */
  messages: { truth: number; delivered: number; values: number; retainedIgnored: number; unattributed: number; unjudged: number };
  /** `beforeGateway`: changes of a tag over before the gateway first delivered it (when it started within the window), not counted */
  changes: { published: number; delivered: number; missed: number; inFlight: number; beforeGateway: number; lossRate: number };
  /** spans of the check where most of the twin's changes were not delivered */
  lossWindows: { startS: number; endS: number; missed: number; tags: string[] }[];
  /** tags whose delivered value was older than the twin's by more than the stale limit */
  stale: { tag: string; staleS: number; fromS: number; toS: number; delivered: WireValue; twin: WireValue }[];
  latencyMs: { n: number; p50: number; p99: number; max: number; mean: number };
  outOfOrder: number;
  duplicates: number;
  duplicatesByTag: { tag: string; count: number }[];
  valueErrors: number;
  /** per tag, most errors first; `worst` are the values farthest from any the twin had */
  valueErrorsByTag: { tag: string; count: number; worst: { atS: number; delivered: WireValue; twin: WireValue }[] }[];
  examples: { unattributed: string[] };
  limits: CheckLimits;
  /** what exceeded the limits; empty when the gateway passes */
  problems: string[];
}

/** Nearest-rank quantile of sorted `xs`. */
function q(xs: readonly number[], p: number): number {
  return xs.length === 0 ? NaN : (xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(p * xs.length) - 1))] ?? NaN);
}

const s3 = (ms: number): number => Math.round(ms) / 1000;

interface Context {
  start: number;
  end: number;
  /** arrival of the gateway's first value */
  first: number;
  counts: CheckReport['messages'];
  unattributed: string[];
  consistent(tag: CheckTag, v: WireValue, g: Seg): boolean;
}

/** Builds the report from the tags' state at the end of the check. */
export function buildReport(states: readonly TagState[], o: CheckOptions, c: Context, limits: CheckLimits = DEFAULT_LIMITS): CheckReport {
  const { start, end } = c;
  const never = new Map<string, { station: string; all: boolean; changed: string[]; quiet: string[]; total: number }>();
  const bins = new Map<number, { n: number; missed: number; first: number; last: number; tags: Set<string> }>();
  const latencies: number[] = [];
  let published = 0;
  let delivered = 0;
  let missed = 0;
  let inFlight = 0;
  let before = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  const stale: CheckReport['stale'] = [];
  const errorsByTag: CheckReport['valueErrorsByTag'] = [];
  const dupByTag: CheckReport['duplicatesByTag'] = [];
  for (const s of states) {
    const key = s.tag.key;
    const g = never.get(s.station) ?? { station: s.station, all: true, changed: [], quiet: [], total: 0 };
    never.set(s.station, g);
    g.total++;
    const changes = s.segs.filter((x) => !x.retained);
    published += changes.length;
    if (s.delivered === 0) {
      (changes.length > 0 ? g.changed : g.quiet).push(key);
      continue;
    }
    g.all = false;
    latencies.push(...s.latencies);
    duplicates += s.duplicates;
    outOfOrder += s.outOfOrder;
    if (s.duplicates > 0) dupByTag.push({ tag: key, count: s.duplicates });
    // the gateway had not read the tag yet (it started within the window)
    const from = Math.min(s.firstAt, c.first + o.settleMs);
    for (const x of changes) {
      const next = s.segs[x.n + 1]?.at ?? Infinity;
      if (!x.covered && next < from) {
        before++;
        continue;
      }
      if (x.covered || (x.standing !== undefined && c.consistent(s.tag, x.standing, x))) {
        delivered++;
        continue;
      }
      if (end - x.at < o.graceMs) {
        inFlight++;
        continue;
      }
      missed++;
      const b = Math.floor((x.at - start) / o.binMs);
      const bin = bins.get(b) ?? { n: 0, missed: 0, first: x.at, last: x.at, tags: new Set<string>() };
      bins.set(b, bin);
      bin.missed++;
      bin.first = Math.min(bin.first, x.at);
      bin.last = Math.max(bin.last, x.at);
      bin.tags.add(key);
    }
    for (const x of changes) {
      if (end - x.at < o.graceMs || (s.segs[x.n + 1]?.at ?? Infinity) < from) continue;
      const b = Math.floor((x.at - start) / o.binMs);
      const bin = bins.get(b);
      if (bin !== undefined) bin.n++;
    }
    if (s.stale.length > 0) {
      const total = s.stale.reduce((a, x) => a + x.to - x.from, 0);
      const longest = s.stale.reduce((a, x) => (x.to - x.from > a.to - a.from ? x : a));
      stale.push({ tag: key, staleS: s3(total), fromS: s3(longest.from - start), toS: s3(longest.to - start), delivered: longest.delivered, twin: longest.twin });
    }
    if (s.errors.length > 0) {
      const worst = [...s.errors].sort((a, b) => b.off - a.off).slice(0, 3).map((e) => ({ atS: s3(e.at - start), delivered: e.delivered, twin: e.twin }));
      errorsByTag.push({ tag: key, count: s.errors.length, worst });
    }
  }
  const neverDelivered = [...never.values()].filter((g) => g.changed.length + g.quiet.length > 0).map(({ station, all, changed, quiet }) => ({ station, all, changed, quiet }));
  const lossWindows = windows(bins, o, start);
  latencies.sort((a, b) => a - b);
  errorsByTag.sort((a, b) => b.count - a.count);
  dupByTag.sort((a, b) => b.count - a.count);
  stale.sort((a, b) => b.staleS - a.staleS);
  const missing = neverDelivered.reduce((a, g) => a + g.changed.length, 0);
  const quiet = neverDelivered.reduce((a, g) => a + g.quiet.length, 0);
  const deliveredTags = states.filter((s) => s.delivered > 0).length;
  const report: CheckReport = {
    durationS: s3(end - start),
    tags: { total: states.length, delivered: deliveredTags, coverage: states.length === 0 ? 0 : deliveredTags / states.length, missing, quiet, stale: stale.length },
    neverDelivered,
    messages: { ...c.counts },
    changes: { published, delivered, missed, inFlight, beforeGateway: before, lossRate: delivered + missed === 0 ? 0 : missed / (delivered + missed) },
    lossWindows,
    stale,
    latencyMs: { n: latencies.length, p50: q(latencies, 0.5), p99: q(latencies, 0.99), max: latencies[latencies.length - 1] ?? NaN, mean: latencies.length === 0 ? NaN : latencies.reduce((a, b) => a + b, 0) / latencies.length },
    outOfOrder,
    duplicates,
    duplicatesByTag: dupByTag,
    valueErrors: errorsByTag.reduce((a, e) => a + e.count, 0),
    valueErrorsByTag: errorsByTag,
    examples: { unattributed: c.unattributed },
    limits,
    problems: [],
  };
  report.problems = verdict(report, limits);
  return report;
}

/** Merges runs of lost bins (most changes missed, at least 3) into windows. */
function windows(bins: Map<number, { n: number; missed: number; first: number; last: number; tags: Set<string> }>, o: CheckOptions, start: number): CheckReport['lossWindows'] {
  const out: CheckReport['lossWindows'] = [];
  let cur: { first: number; last: number; missed: number; tags: Set<string>; bin: number } | null = null;
  const close = (): void => {
    if (cur !== null) out.push({ startS: s3(cur.first - start), endS: s3(cur.last - start), missed: cur.missed, tags: [...cur.tags].sort() });
    cur = null;
  };
  for (const b of [...bins.keys()].sort((x, y) => x - y)) {
    const bin = bins.get(b)!;
    if (bin.missed < 3 || bin.missed < o.lossShare * bin.n) continue;
    if (cur !== null && b - cur.bin > 1) close();
    if (cur === null) cur = { first: bin.first, last: bin.last, missed: 0, tags: new Set<string>(), bin: b };
    cur.last = bin.last;
    cur.missed += bin.missed;
    cur.bin = b;
    for (const t of bin.tags) cur.tags.add(t);
  }
  close();
  return out;
}

/** What in `r` exceeds `limits` (empty: the gateway passes). */
export function verdict(r: CheckReport, limits: CheckLimits): string[] {
  const out: string[] = [];
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
  if (r.tags.missing > limits.missingTags) out.push(`${r.tags.missing} tags changed but were never delivered (limit ${limits.missingTags})`);
  if (r.tags.stale > limits.staleTags) out.push(`${r.tags.stale} tags were stale (limit ${limits.staleTags})`);
  if (r.changes.lossRate > limits.lossRate) out.push(`${pct(r.changes.lossRate)} of the twin's changes were missed (limit ${pct(limits.lossRate)})`);
  if (r.valueErrors > limits.valueErrors) out.push(`${r.valueErrors} value errors in ${r.valueErrorsByTag.length} tags (limit ${limits.valueErrors})`);
  const values = Math.max(1, r.messages.values);
  if (r.duplicates / values > limits.duplicateRate) out.push(`${pct(r.duplicates / values)} of the values were duplicates (limit ${pct(limits.duplicateRate)})`);
  if (r.outOfOrder / values > limits.outOfOrderRate) out.push(`${pct(r.outOfOrder / values)} of the values came out of order (limit ${pct(limits.outOfOrderRate)})`);
  return out;
}
