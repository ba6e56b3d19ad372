/**
 * A one-line progress bar on a terminal: simulated time, share done, simulation speed
 * (simulated seconds per wall second). Drawn only on a TTY and at most every 100 ms, so it
 * costs nothing in a pipe or a test.
 */

/** Where the bar is drawn: a terminal stream (`process.stderr`). */
export interface BarStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean;
}

/** Formats simulated seconds as `h:mm:ss`. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** The text of the bar (without cursor control), `width` cells for the bar itself. */
export function progressLine(simS: number, totalS: number, wallS: number, width = 24): string {
  const f = totalS > 0 ? Math.min(1, simS / totalS) : 1;
  const full = Math.round(f * width);
  const speed = wallS > 0 ? simS / wallS : 0;
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${(f * 100).toFixed(1).padStart(5)} %  sim ${clock(simS)} / ${clock(totalS)}  ×${Math.round(speed).toLocaleString('en-US')}`;
}

/** A progress bar that redraws in place. */
export class ProgressBar {
  private lastDraw = -Infinity;
  private readonly on: boolean;

  /** `totalS`: simulated seconds of the whole run [s]; `now()`: wall clock [ms]. */
  constructor(
    private readonly out: BarStream,
    private readonly totalS: number,
    private readonly now: () => number,
    private readonly started = now(),
  ) {
    this.on = out.isTTY === true;
  }

  /** Redraws for `simS` simulated seconds done (throttled). */
  update(simS: number): void {
    if (!this.on) return;
    const t = this.now();
    if (t - this.lastDraw < 100) return;
    this.lastDraw = t;
    this.out.write(`\r\x1b[K${progressLine(simS, this.totalS, (t - this.started) / 1000)}`);
  }

  /** Clears the bar so the report starts on a clean line. */
  done(): void {
    if (this.on) this.out.write('\r\x1b[K');
  }
}
