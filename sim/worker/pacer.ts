/**
 * Real-time pacing of the tick loop. Timers in a JS event loop fire a millisecond or more
 * late, so between ticks the worker blocks in `Atomics.wait` (sub-millisecond timeout), then
 * spins the last few microseconds. A period shorter than `MIN_WAKE_MS` (a 1 ms tick run
 * faster than real time) is not paced tick by tick, which would leave nothing but spinning
 * (a 10× kiln cell kept half a core busy): the loop wakes once a millisecond and runs the
 * ticks due by then back to back, so the wall clock is kept to the millisecond and the
 * thread sleeps in between. The pacer also keeps the tick period error statistics (ticks of
 * such a group count as a whole period off). The clock is injected so tests can drive it
 * with fake time.
 */

/** Wall clock and blocking sleep of the thread that runs the loop. */
export interface PaceClock {
  /** monotonic wall time [ms] */
  now(): number;
  /** blocks the thread for about `ms` [ms]; may return early */
  sleep(ms: number): void;
}

/** The clock of a worker: `performance.now()` and `Atomics.wait` on a private shared cell. */
export function atomicsClock(): PaceClock {
  const canBlock = typeof SharedArrayBuffer !== 'undefined';
  const cell = canBlock ? new Int32Array(new SharedArrayBuffer(4)) : null;
  return {
    now: () => performance.now(),
    // Nobody ever notifies the cell, so the wait always runs to its timeout.
    sleep: (ms) => {
      if (cell !== null && ms > 0) Atomics.wait(cell, 0, 0, ms);
    },
  };
}

/** Wake-up latency of `Atomics.wait` is ~0.05–0.1 ms; spinning covers the tail [ms]. */
const SPIN_MS = 0.08;
/** Below this period ticks are run in groups, one wake-up per this interval [ms]. */
export const MIN_WAKE_MS = 1;
/** Behind schedule by more than this, the pacer gives the schedule up and starts afresh [ms]. */
const MAX_LAG_MS = 1000;
/** Histogram bin width of the period error [ms]. */
const BIN_MS = 0.01;
const BINS = 10_000;

/** Histogram of tick period errors: constant memory, no allocation per tick. */
export class PeriodStats {
  private readonly bins = new Uint32Array(BINS);
  private count = 0;
  private worst = 0;

  /** Records one period error [ms] (absolute value). */
  record(errMs: number): void {
    const e = Math.abs(errMs);
    const b = Math.min(BINS - 1, Math.floor(e / BIN_MS));
    this.bins[b] = (this.bins[b] ?? 0) + 1;
    this.count++;
    if (e > this.worst) this.worst = e;
  }

  reset(): void {
    this.bins.fill(0);
    this.count = 0;
    this.worst = 0;
  }

  get ticks(): number {
    return this.count;
  }

  get max(): number {
    return this.worst;
  }

  /** The `q` quantile (0…1) [ms], as the upper edge of its bin (at most the maximum). */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < BINS; b++) {
      seen += this.bins[b] ?? 0;
      if (seen >= rank) return Math.min(this.worst, (b + 1) * BIN_MS);
    }
    return this.worst;
  }
}

/** Decides when ticks are due at a given period and blocks until then. */
export class Pacer {
  /** ideal tick period [ms] */
  periodMs = 1;
  readonly stats = new PeriodStats();
  /** times the schedule was given up */
  slips = 0;
  /** behind schedule at the last decision [ms] */
  lagMs = 0;
  private base = 0;
  private done = 0;
  private lastAt = -1;

  constructor(private readonly clock: PaceClock) {}

  /** Starts a new schedule at `periodMs` from now; `keepStats` keeps the statistics. */
  restart(periodMs: number, keepStats = false): void {
    this.periodMs = periodMs;
    this.base = this.clock.now();
    this.done = 0;
    this.lastAt = -1;
    this.lagMs = 0;
    if (!keepStats) {
      this.stats.reset();
      this.slips = 0;
    }
  }

  /**
   * Blocks until the next tick is due, or until `deadline` [ms, clock time] if that comes
   * first. Returns how many ticks to run now: 0 when the deadline came first, more than 1
   * when behind (at most `maxBatch`, so a late loop catches up in bounded batches).
   */
  next(deadline: number, maxBatch: number): number {
    // a whole group of ticks due at once when the period is below a millisecond
    const group = this.periodMs < MIN_WAKE_MS ? Math.min(maxBatch, Math.ceil(MIN_WAKE_MS / this.periodMs)) : 1;
    const due = this.base + (this.done + group) * this.periodMs;
    let t = this.clock.now();
    if (t < due) {
      const until = Math.min(due, deadline);
      if (group > 1) {
        // to the millisecond is the aim here: block, no spinning for the last microseconds
        while (t < until) {
          this.clock.sleep(until - t);
          t = this.clock.now();
        }
      } else {
        if (until - t > SPIN_MS) this.clock.sleep(until - t - SPIN_MS);
        t = this.clock.now();
        while (t < until) t = this.clock.now();
      }
      if (t < due) return 0;
    }
    let late = t - due;
    if (late > MAX_LAG_MS) {
      this.slips++;
      this.base = t - (this.done + group) * this.periodMs;
      late = 0;
    }
    this.lagMs = late;
    const n = Math.max(1, Math.min(maxBatch, Math.floor(late / this.periodMs) + group));
    if (this.lastAt >= 0) {
      this.stats.record(t - this.lastAt - this.periodMs);
      // ticks run back to back in a catch-up batch are each a whole period off
      for (let k = 1; k < n; k++) this.stats.record(this.periodMs);
    }
    this.lastAt = t;
    this.done += n;
    return n;
  }
}
