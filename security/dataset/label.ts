/**
 * How a dataset's rows and events get their labels: from the range's attack runs
 * (`attacks.ndjson`, written by `sim/host/range.ts`), each a window of line time
 * [startTick, endTick] from the run's start to its end, cleanup included. Pure.
 *
 * - An event is labelled with the run whose window holds its tick; the range's own start and
 *   result marks (audit entries of source `attack`) with the run they name.
 * - A row covers the line time since the previous row (prevTick, tick]; it is labelled with the
 *   run whose window overlaps that interval most (a tie: the later run), and `fraction` says how
 *   much of the interval the runs cover. The first row covers its instant only.
 * - Outside every window: `normal`. A run that has a start but no end (the host stopped while
 *   it ran) lasts until the end of the data (`open`).
 */

/** The label of what is not inside any attack window. */
export const NORMAL = 'normal';

/** One attack run as a window of line time. */
export interface AttackWindow {
  run: number;
  attack: string;
  techniques: string[];
  face: string;
  station: string;
  startTick: number;
  /** Infinity when the run never ended (see `open`) */
  endTick: number;
  startedAtMs: number;
  endedAtMs: number | null;
  outcome: string | null;
  /** no end record: the window lasts to the end of the data */
  open: boolean;
}

/** A label. */
export interface Label {
  label: string;
  techniques: string[];
  /** the run's number, or null (normal) */
  run: number | null;
}

const NONE: Label = { label: NORMAL, techniques: [], run: null };

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The windows from the lines of `attacks.ndjson` (parsed; anything else is a problem, named by
 * its line number): start and end records paired by run number, in start order.
 */
export function attackWindows(records: readonly unknown[]): { windows: AttackWindow[]; problems: string[] } {
  const byRun = new Map<number, AttackWindow>();
  const problems: string[] = [];
  records.forEach((r, k) => {
    const line = k + 1;
    if (typeof r !== 'object' || r === null) return void problems.push(`attacks.ndjson:${line}: not a JSON object`);
    const o = r as Record<string, unknown>;
    if (o.truncated === true) return void problems.push(`attacks.ndjson:${line}: the host stopped recording runs after ${String(o.limit)} lines (${String(o.more)} more not written)`);
    if ((o.event !== 'start' && o.event !== 'end') || !isNum(o.run) || typeof o.attack !== 'string' || !isNum(o.startTick) || !Array.isArray(o.techniques)) {
      return void problems.push(`attacks.ndjson:${line}: not an attack run record (event, run, attack, techniques, startTick)`);
    }
    const had = byRun.get(o.run);
    const w: AttackWindow = had ?? {
      run: o.run, attack: o.attack, techniques: o.techniques.filter((t): t is string => typeof t === 'string'), face: String(o.face ?? ''), station: String(o.station ?? ''),
      startTick: o.startTick, endTick: Infinity, startedAtMs: isNum(o.startedAtMs) ? o.startedAtMs : NaN, endedAtMs: null, outcome: null, open: true,
    };
    if (o.event === 'end') {
      if (!isNum(o.endTick)) return void problems.push(`attacks.ndjson:${line}: run ${o.run} ends without an endTick`);
      w.endTick = Math.max(o.endTick, w.startTick);
      w.endedAtMs = isNum(o.endedAtMs) ? o.endedAtMs : null;
      w.outcome = typeof o.outcome === 'string' ? o.outcome : null;
      w.open = false;
    }
    byRun.set(o.run, w);
  });
  const windows = [...byRun.values()].sort((a, b) => a.startTick - b.startTick || a.run - b.run);
  for (const w of windows) if (w.open) problems.push(`run ${w.run} (${w.attack}) has no end record: labelled to the end of the data`);
  return { windows, problems };
}

const of = (w: AttackWindow): Label => ({ label: w.attack, techniques: w.techniques, run: w.run });

/** The label of an event at `tick`. */
export function labelTick(tick: number, windows: readonly AttackWindow[]): Label {
  let best: AttackWindow | null = null;
  for (const w of windows) if (tick >= w.startTick && tick <= w.endTick) best = w;
  return best === null ? NONE : of(best);
}

/**
 * The label of an event: the range's own marks (audit, source `attack`, action `attack`, target
 * `… (run N)`) carry run N's label, whatever their tick; any other event is labelled by its tick.
 */
export function labelEvent(e: { tick: number; type: string; data: Record<string, unknown> }, windows: readonly AttackWindow[]): Label {
  if (e.type === 'audit' && e.data.source === 'attack' && e.data.action === 'attack') {
    const n = /\(run (\d+)\)$/.exec(String(e.data.target ?? ''))?.[1];
    const w = n === undefined ? undefined : windows.find((x) => x.run === Number(n));
    if (w !== undefined) return of(w);
  }
  return labelTick(e.tick, windows);
}

/**
 * The label of a row covering line time (fromTick, toTick] (fromTick null: the row's instant
 * only), and the fraction of the interval inside attack windows (0 … 1).
 */
export function labelInterval(fromTick: number | null, toTick: number, windows: readonly AttackWindow[]): Label & { fraction: number } {
  if (fromTick === null || fromTick >= toTick) {
    const l = labelTick(toTick, windows);
    return { ...l, fraction: l.run === null ? 0 : 1 };
  }
  let best: AttackWindow | null = null;
  let bestCover = 0;
  let covered = 0;
  for (const w of windows) {
    // ticks fromTick+1 … toTick against startTick … endTick, both ends included
    const cover = Math.min(toTick, w.endTick) - Math.max(fromTick + 1, w.startTick) + 1;
    if (cover <= 0) continue;
    covered += cover;
    if (cover >= bestCover) {
      best = w;
      bestCover = cover;
    }
  }
  if (best === null) return { ...NONE, fraction: 0 };
  return { ...of(best), fraction: Math.min(1, covered / (toTick - fromTick)) };
}
