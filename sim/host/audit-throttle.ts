/**
 * One audit entry per key per window for refusals a client can cause by retrying (refused
 * certificates and channels, logins during a back-off, anonymous connects, requests from a
 * foreign origin): a flood cannot flood the audit trail, and the next entry tells how many
 * were left out. Shared by every face.
 */
import { capMap } from './cap.ts';

/** See the module comment. Memory is bounded (the oldest keys are forgotten first). */
export class AuditThrottle {
  private readonly seen = new Map<string, { at: number; skipped: number }>();

  constructor(
    /** one entry per key per this long [ms] */
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /**
   * Whether an entry for `key` is due now: null if not (it is counted), else the number of
   * entries left out since the last one (0 for the first).
   */
  pass(key: string): number | null {
    const t = this.now();
    const e = this.seen.get(key);
    if (e !== undefined && t - e.at < this.windowMs) {
      e.skipped++;
      return null;
    }
    const skipped = e?.skipped ?? 0;
    this.seen.delete(key);
    this.seen.set(key, { at: t, skipped: 0 });
    capMap(this.seen, this.maxKeys);
    return skipped;
  }

  /** `reason` with the count of entries left out, if any. */
  static note(reason: string, skipped: number, windowMs: number): string {
    return skipped === 0 ? reason : `${reason} (and ${skipped} more like it in the ${Math.round(windowMs / 1000)} s before, not logged one by one)`;
  }
}


/**
 * A running count per key that is worth an audit entry only at its milestones (1, 2, 4, 8 …):
 * a face reports how far a client got (nodes browsed, units identified, registers read, a
 * client id taken over) at once and at most log2(n) times, so the detectors can tell a sweep
 * from a glance without the face holding timers or flooding the trail. A key unused for
 * `windowMs` starts again at 0. Memory is bounded (the oldest keys are forgotten first).
 */
export class Milestones {
  private readonly counts = new Map<string, { n: number; at: number }>();

  constructor(
    /** a key idle this long starts again [ms] */
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Adds `by` (≥ 1) to `key`'s count; the new count when it reached a milestone (a power of two), else null. */
  add(key: string, by = 1): number | null {
    const t = this.now();
    const e = this.counts.get(key);
    const was = e !== undefined && t - e.at < this.windowMs ? e.n : 0;
    const n = was + Math.max(1, Math.floor(by));
    this.counts.delete(key);
    this.counts.set(key, { n, at: t });
    capMap(this.counts, this.maxKeys);
    // a milestone was passed when the highest power of two ≤ n exceeds the one ≤ was
    return Math.floor(Math.log2(n)) > (was === 0 ? -1 : Math.floor(Math.log2(was))) ? n : null;
  }

  /** Forgets `key` (its client is gone). */
  drop(key: string): void {
    this.counts.delete(key);
  }
}
