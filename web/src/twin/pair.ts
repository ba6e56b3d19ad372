/**
 * Before and after side by side: two lines, each in its own Web Worker, on one timeline. Both
 * are warmed up (stepped as fast as they go, then their KPIs restarted, so the figures describe
 * the filled line and not its filling), then the page steps both to the same simulated time
 * several times a second at the chosen pace. Neither worker runs its own real-time loop, so
 * the two clocks never drift apart: when a step of either takes longer than the pace allows,
 * both fall behind together and the page shows the pace actually reached.
 */
import { openWorkerLine, type WorkerLine } from './standalone.ts';
import type { LineText } from './lines.ts';
import type { TwinSource } from './types.ts';

/** Paces the pair offers [× real time]. */
export const PAIR_SPEEDS = [1, 10, 60, 600] as const;
/** Default warm-up [simulated s]: as the lessons' and compare's predictions warm up. */
export const PAIR_WARMUP_S = 3 * 3600;
/** how often the page steps the pair [ms] */
const STEP_MS = 100;
/** longest stretch stepped at once [simulated s], so a slow machine still shows the line move */
const MAX_STRETCH_S = 120;
/** simulated seconds of one warm-up step: the page reports progress between them */
const WARM_CHUNK_S = 600;

/** What the pair reports to the page. */
export interface PairStatus {
  phase: 'warming' | 'running' | 'paused' | 'failed';
  /** why a worker's step failed (phase failed) */
  error?: string;
  /** the shared clock [simulated s] (both lines are there) */
  simTimeS: number;
  /** simulated seconds the KPIs leave out at the start */
  warmupS: number;
  /** pace asked for, and reached over the last seconds [× real time] */
  speed: number;
  rate: number;
}

/** Two lines stepped together; see the module comment. */
export class LinePair {
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy = false;
  private closed = false;
  private last = 0;
  /** the tick each line is at: only the pair steps them (both load paused at tick 0) */
  private readonly ticks = [0, 0];
  private status: PairStatus;
  private readonly listeners = new Set<(s: PairStatus) => void>();
  /** (wall ms, simulated s) a few seconds back, for the pace reached */
  private mark = { at: 0, simS: 0 };

  private constructor(private readonly lines: readonly [WorkerLine, WorkerLine], warmupS: number, speed: number) {
    this.status = { phase: 'warming', simTimeS: 0, warmupS, speed, rate: 0 };
  }

  get before(): TwinSource {
    return this.lines[0].source;
  }

  get after(): TwinSource {
    return this.lines[1].source;
  }

  get state(): PairStatus {
    return this.status;
  }

  /** Calls `f` on every change of the status; returns the unsubscribe. */
  subscribe(f: (s: PairStatus) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private set(s: Partial<PairStatus>): void {
    this.status = { ...this.status, ...s };
    for (const f of this.listeners) f(this.status);
  }

  /** Both lines to simulated time `s` (each in its own worker, at once). */
  private async stepTo(s: number): Promise<void> {
    await Promise.all(this.lines.map(async (l, k) => {
      const n = Math.round(s / l.dt) - this.ticks[k]!;
      if (n > 0) this.ticks[k] = await l.api.step(n);
    }));
  }

  /** Opens both lines, warms them up, then runs them at `speed`. */
  static async start(before: LineText, after: LineText, o: { warmupS: number; speed: number }): Promise<LinePair> {
    const lines = await Promise.all([openWorkerLine(before), openWorkerLine(after)]);
    const pair = new LinePair(lines, o.warmupS, o.speed);
    pair.warm().catch((e: unknown) => pair.fail(e));
    return pair;
  }

  private async warm(): Promise<void> {
    const to = this.status.warmupS;
    for (let s = 0; s < to && !this.closed;) {
      s = Math.min(to, s + WARM_CHUNK_S);
      await this.stepTo(s);
      this.set({ simTimeS: s });
    }
    if (this.closed) return;
    if (to > 0) await Promise.all(this.lines.map((l) => l.api.markKpiStart()));
    this.last = performance.now();
    this.mark = { at: this.last, simS: this.status.simTimeS };
    this.set({ phase: 'running' });
    this.timer = setInterval(() => void this.tick().catch((e: unknown) => this.fail(e)), STEP_MS);
  }

  /** A worker's step failed: both lines stop where they are, and the page says why. */
  private fail(e: unknown): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (!this.closed) this.set({ phase: 'failed', error: e instanceof Error ? e.message : String(e), rate: 0 });
  }

  private async tick(): Promise<void> {
    if (this.busy || this.closed) return;
    const now = performance.now();
    const wall = (now - this.last) / 1000;
    this.last = now;
    if (this.status.phase !== 'running') return;
    this.busy = true;
    try {
      const to = this.status.simTimeS + Math.min(MAX_STRETCH_S, wall * this.status.speed);
      await this.stepTo(to);
      if (this.closed) return;
      const rate = now - this.mark.at > 3000 ? (to - this.mark.simS) / ((now - this.mark.at) / 1000) : this.status.rate;
      if (now - this.mark.at > 3000) this.mark = { at: now, simS: to };
      this.set({ simTimeS: to, rate });
    } finally {
      this.busy = false;
    }
  }

  /** Sets the pace [× real time]. */
  setSpeed(speed: number): void {
    this.set({ speed });
  }

  /** Pauses or resumes both lines (not during the warm-up). */
  setRunning(on: boolean): void {
    if (this.status.phase === 'warming' || this.status.phase === 'failed') return;
    this.last = performance.now();
    this.mark = { at: this.last, simS: this.status.simTimeS };
    this.set({ phase: on ? 'running' : 'paused', rate: 0 });
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const l of this.lines) l.source.close();
    this.listeners.clear();
  }
}
