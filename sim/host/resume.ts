/**
 * A served line that survives its host: `twinline serve` keeps, in the run's folder, the
 * scenario it runs (`scenario.yaml`, as it was read) and a snapshot of the whole line
 * (`snapshot.bin`: state bytes, queued and scheduled commands) at the start and every
 * `--snapshot-every` seconds of wall time, written to a temporary file and renamed, so a kill -9
 * leaves the previous one or the new one, never half of one.
 *
 * `twinline serve --resume <run>` rebuilds the line from them: the snapshot is restored, the
 * commands the run logged from the snapshot's tick on (`commands.ndjson`) are replayed at the
 * ticks they were applied at, and the line is stepped to the last tick the run recorded (its
 * last event, or its last sample in `values.ndjson` when that is later). The simulation is deterministic for a seed and its commands, so the events it derives
 * again are the ones already in `events.ndjson`: each is compared with the logged line, byte for
 * byte, and none is written twice. What cannot come back is stated: the simulated time between
 * the last record and the kill (at most one sample period of the values, 1 s of wall time by
 * default; without values, since the last event), the wall time the
 * host was down (the line did not run), and a divergence if the re-derived events ever differ
 * from the log (the seq where they do).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoggedCommand } from '../core/commands.ts';
import { TwinlineError } from '../core/errors.ts';
import { eventToJson, type SimEvent } from '../core/events.ts';
import type { KpiBase } from '../core/kpi.ts';
import type { NodeSim } from '../worker/node-host.ts';
import type { RunDescription } from './value-recorder.ts';

/** the line's snapshot in the run folder */
export const SNAPSHOT_FILE = 'snapshot.bin';
/** the scenario text the run was started from */
export const SCENARIO_FILE = 'scenario.yaml';
/** the KPIs' start after a warm-up (the accumulators `markKpiStart` kept), so a resumed run's KPIs still leave the warm-up out */
export const KPI_START_FILE = 'kpi-start.json';
/** the default snapshot period [s of wall time] */
export const DEFAULT_SNAPSHOT_S = 60;
/** the shortest and longest snapshot periods accepted [s] */
export const MIN_SNAPSHOT_S = 1;
export const MAX_SNAPSHOT_S = 86_400;
/** rotated log files the host keeps (run-log.ts) */
const KEEP = 8;
/** ticks per step while replaying, the events drained in between */
const REPLAY_CHUNK = 60_000;

type Api = NodeSim['api'];

/** Writes `bytes` to `file` through a temporary file and a rename (a crash leaves the old or the new file). */
function writeAtomic(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Takes the line's snapshot every `everyS` seconds into the run folder (and when asked). The
 * events and commands logged before the snapshot are drained to the run's log (`flush`) before
 * its file is written, so a snapshot on disk never counts an event the log does not hold.
 */
export class Snapshotter {
  private readonly timer: NodeJS.Timeout;
  private busy: Promise<void> = Promise.resolve();
  /** snapshots written, and the last one's tick */
  written = 0;
  lastTick = -1;
  /** the last failure, or null */
  error: string | null = null;

  constructor(private readonly api: Api, private readonly dir: string, everyS: number, private readonly flush: () => Promise<void>) {
    this.timer = setInterval(() => void this.take(), everyS * 1000);
    this.timer.unref();
  }

  /** Takes one snapshot (one at a time). */
  take(): Promise<void> {
    this.busy = this.busy.then(async () => {
      try {
        const bytes = await this.api.snapshot();
        await this.flush();
        writeAtomic(join(this.dir, SNAPSHOT_FILE), bytes);
        this.lastTick = (await this.api.state()).tick;
        this.written++;
        this.error = null;
      } catch (e) {
        this.error = e instanceof Error ? e.message : String(e);
      }
    });
    return this.busy;
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return this.busy;
  }
}

/** Keeps the scenario text the run starts from. */
export function keepScenario(dir: string, text: string): void {
  writeAtomic(join(dir, SCENARIO_FILE), new TextEncoder().encode(text));
}

/** Keeps the KPIs' start of a run that warmed up. */
export function keepKpiStart(dir: string, base: KpiBase): void {
  writeAtomic(join(dir, KPI_START_FILE), new TextEncoder().encode(`${JSON.stringify(base)}\n`));
}

/** A run folder found for `--resume`, with what the line is rebuilt from. */
export interface ResumableRun {
  dir: string;
  description: RunDescription & { resumes?: unknown[] };
  scenarioText: string;
  snapshot: Uint8Array;
  /** where the KPIs start (the run warmed up), or null: they cover the whole run */
  kpiStart: KpiBase | null;
}

/** Finds the run `ref` (a folder, or a run's name under `<home>/runs`) and reads what resuming needs. */
export function findRun(home: string, ref: string): ResumableRun {
  const candidates = [resolve(ref), join(home, 'runs', ref)];
  const dir = candidates.find((d) => existsSync(join(d, 'run.json')));
  if (dir === undefined) throw new TwinlineError('USAGE', `--resume ${ref}: no run there (looked for run.json in ${candidates.join(' and ')})`);
  const need = (file: string, what: string): Buffer => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new TwinlineError('USAGE', `--resume ${ref}: ${path} is missing (${what}); a run started before snapshots were kept cannot be resumed`);
    return readFileSync(path);
  };
  let description: ResumableRun['description'];
  try {
    description = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as ResumableRun['description'];
  } catch (e) {
    throw new TwinlineError('USAGE', `--resume ${ref}: ${join(dir, 'run.json')} is not readable JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  let kpiStart: KpiBase | null = null;
  if (existsSync(join(dir, KPI_START_FILE))) {
    try {
      kpiStart = JSON.parse(readFileSync(join(dir, KPI_START_FILE), 'utf8')) as KpiBase;
    } catch (e) {
      throw new TwinlineError('USAGE', `--resume ${ref}: ${join(dir, KPI_START_FILE)} is not readable JSON (${e instanceof Error ? e.message : String(e)}); without it the KPIs would count the warm-up`);
    }
  }
  return { dir, description, scenarioText: need(SCENARIO_FILE, 'the scenario the run started from').toString('utf8'), snapshot: new Uint8Array(need(SNAPSHOT_FILE, 'the line\'s snapshot')), kpiStart };
}

/**
 * The lines of a rotating NDJSON log (`<base>.ndjson`, then `<base>.1.ndjson` …) from the newest
 * file back until a file starts at or before what `enough` accepts; oldest first. A line cut by a
 * kill (the last one) is left out.
 */
function tailLines<T>(dir: string, base: string, parse: (line: string) => T | null, enough: (first: T, rows: number) => boolean): { line: string; value: T }[] {
  const files = [join(dir, `${base}.ndjson`), ...Array.from({ length: KEEP }, (_, k) => join(dir, `${base}.${k + 1}.ndjson`))];
  const out: { line: string; value: T }[][] = [];
  for (const file of files) {
    if (!existsSync(file)) break;
    const rows: { line: string; value: T }[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      const value = parse(line);
      if (value !== null) rows.push({ line, value });
    }
    out.unshift(rows);
    if (rows[0] !== undefined && enough(rows[0].value, out.reduce((a, r) => a + r.length, 0))) break;
  }
  return out.flat();
}

/** The run's logged events with seq > `after`, oldest first, as their lines. */
export function loggedEventsAfter(dir: string, after: number): { seq: number; line: string; type: string }[] {
  return tailLines(dir, 'events', (l) => parseJson<SimEvent>(l), (e) => e.seq <= after + 1)
    .filter((r) => r.value.seq > after)
    .map((r) => ({ seq: r.value.seq, line: r.line, type: r.value.type }));
}

/**
 * The run's logged commands after line `after` of its commands.ndjson (-1: all; counted over
 * the rotated files too), oldest first, with their positions; `total` is how many lines it holds.
 */
export function loggedCommandsAfter(dir: string, total: number, after: number): { at: number; line: string }[] {
  const want = total - after - 1;
  if (want <= 0) return [];
  const rows = tailLines(dir, 'commands', (l) => l, (_first, n) => n >= want);
  return rows.slice(-want).map((r, k, all) => ({ at: total - all.length + k, line: r.line }));
}

/** How many lines the run's commands.ndjson holds (with its rotated files). */
export function loggedCommandCount(dir: string): number {
  return tailLines(dir, 'commands', (l) => l, () => false).length;
}

const parseJson = <T>(line: string): T | null => {
  try {
    return JSON.parse(line) as T;
  } catch {
    return null;
  }
};

/** The tick of the last whole sample in `values.ndjson` (-1: none). */
function lastSampledTick(dir: string): number {
  const file = join(dir, 'values.ndjson');
  if (!existsSync(file)) return -1;
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const n = Math.min(size, 1 << 20);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    const lines = buf.toString('utf8').split('\n');
    for (let k = lines.length - 1; k >= 0; k--) {
      const row = parseJson<{ tick?: number }>(lines[k]!);
      if (typeof row?.tick === 'number') return row.tick;
    }
    return -1;
  } finally {
    closeSync(fd);
  }
}

/** What resuming did, for the banner and `run.json`. */
export interface ResumeReport {
  atMs: number;
  /** the snapshot's tick and next event seq */
  fromTick: number;
  fromSeq: number;
  /** the tick the line was stepped to (past the last one the run recorded) */
  toTick: number;
  /** logged commands replayed */
  commands: number;
  /** logged events derived again and found identical */
  matched: number;
  /** the first seq whose re-derived event differs from the log (null: none) */
  divergedAt: number | null;
  /** the last seq in the log before the resume */
  loggedThrough: number;
  /** wall time from the last write to the run's events or values to the resume [s] (the line did not run) */
  downS: number;
}

/**
 * Restores `run`'s snapshot into the loaded line, replays its logged commands and steps to the
 * last logged tick; returns the report and the re-derived events after the log's last (none
 * unless the log lost its tail).
 */
export async function resumeLine(api: Api, run: ResumableRun): Promise<{ report: ResumeReport; fresh: SimEvent[] }> {
  await api.restore(run.snapshot);
  // the restore forgets the KPIs' start (it may come from another timeline); this one is the run's own
  if (run.kpiStart !== null) await api.setKpiStart(run.kpiStart);
  const at = await api.state();
  const fromTick = at.tick;
  const fromSeq = at.events;
  const logged = tailLines(run.dir, 'events', (l) => parseJson<SimEvent>(l), (e) => e.seq <= fromSeq).filter((r) => r.value.seq >= fromSeq);
  const commands = tailLines(run.dir, 'commands', (l) => parseJson<LoggedCommand>(l), (c) => c.tick < fromTick).map((r) => r.value).filter((c) => c.tick >= fromTick);
  const replayed = await api.replay(commands);
  const last = logged[logged.length - 1]?.value;
  // the line ran on after its last event: values.ndjson's last sample says how far (a line may log nothing for minutes)
  const toTick = Math.max(fromTick, last === undefined ? fromTick : last.tick + 1, lastSampledTick(run.dir) + 1);
  let matched = 0;
  let divergedAt: number | null = null;
  const fresh: SimEvent[] = [];
  const check = (evs: readonly SimEvent[]): void => {
    for (const e of evs) {
      const k = e.seq - fromSeq;
      const want = logged[k];
      if (want === undefined) fresh.push(e);
      else if (want.line === eventToJson(e)) matched++;
      else divergedAt ??= e.seq;
    }
  };
  for (let t = fromTick; t < toTick;) {
    t = await api.step(Math.min(REPLAY_CHUNK, toTick - t));
    check(await api.drainEvents());
  }
  // logged events the replay did not derive again: the timelines part where the first of them is
  if (divergedAt === null && matched < logged.length) divergedAt = fromSeq + matched;
  // the last write to the run's records: events, or values when the line logged nothing for a while
  const lastWrite = Math.max(0, ...['events.ndjson', 'values.ndjson'].map((f) => join(run.dir, f)).filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs));
  const downS = lastWrite === 0 ? 0 : Math.max(0, (Date.now() - lastWrite) / 1000);
  return {
    report: { atMs: Date.now(), fromTick, fromSeq, toTick, commands: replayed, matched, divergedAt, loggedThrough: last?.seq ?? fromSeq - 1, downS: Math.round(downS * 10) / 10 },
    fresh,
  };
}

/** The banner's line for a resumed run. */
export function describeResume(r: ResumeReport, dt: number): string {
  const s = (tick: number): string => `${(tick * dt).toFixed(1)} s`;
  const checked = r.divergedAt === null
    ? `${r.matched} logged events derived again, identical`
    : `!!! the re-derived events differ from the log from seq ${r.divergedAt} on (${r.matched} identical before): the log after it is of the lost timeline`;
  return `  resumed   from the snapshot at tick ${r.fromTick} (${s(r.fromTick)}), ${r.commands} logged commands replayed to tick ${r.toTick} (${s(r.toTick)}); ${checked}; down ${r.downS} s of wall time (not simulated)`;
}

/** Adds the resume to the run's `run.json` (`resumes`, oldest first). */
export function recordResume(dir: string, description: ResumableRun['description'], r: ResumeReport): void {
  const next = { ...description, resumes: [...(description.resumes ?? []), r] };
  writeAtomic(join(dir, 'run.json'), new TextEncoder().encode(`${JSON.stringify(next, null, 2)}\n`));
}
