/**
 * `twinline exercise run`: a scripted incident exercise on a twin of its own. The runner starts
 * `twinline serve` (the exercise's line and profile, detectors and playbooks on, values
 * recorded) with its home in the output folder, tells the trainees where the twin is and where
 * their accounts are, launches the exercise's attacks through the range at their seconds, and
 * watches the response: the exercise ends when every phase of the playbook the twin picked has
 * all its applying steps done (`responded`), at `durationS` (`time`), or when the instructor
 * interrupts it (`interrupted`). Then it writes the incident's report (en and zh), the score and
 * a labelled dataset of the run, and stops the twin.
 *
 * Score (each 0–100; the total is their mean, a part that does not apply left out):
 * - detection: the first alert after the first attack; 100 within 10 s, falling linearly to 0
 *   at the detect phase's deadline; 0 when nothing was detected;
 * - containment: the contain phase: on time 100, late 50, overdue or open 0;
 * - recovery: the recover phase scored so, and 0 unless every attacked station is producing
 *   again at the end;
 * - production: 100 × (1 − station downtime ÷ the line time the attacked stations had).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TwinlineError } from '../../sim/core/errors.ts';
import { restCall, type Answer } from '../attacks/clients/rest.ts';
import type { Credentials } from '../attacks/types.ts';
import { rangeAccountOf } from '../attacks/observer.ts';
import { resolveRun } from '../dataset/cli.ts';
import { exportDataset, type DatasetSummary } from '../dataset/export.ts';
import { startTwin } from '../matrix/twin.ts';
import type { Classification } from '../playbooks/classify.ts';
import { PRODUCING } from '../playbooks/impact.ts';
import { gatherReport } from '../report/gather.ts';
import { incidentReport, scorePhases, type PhaseScore } from '../report/incident-report.ts';
import type { ActionRecord } from '../respond/action-log.ts';
import type { Exercise } from './exercise.ts';

/** An attack as launched. */
export interface Launched {
  attack: string;
  station: string | null;
  /** the range's run number, or null when the range refused it */
  run: number | null;
  atMs: number;
  status: string;
  outcome: string | null;
  error: string | null;
}

/** What an exercise came to. */
export interface ExerciseResult {
  exercise: string;
  web: string;
  startedAtMs: number;
  endedAtMs: number;
  ended: 'responded' | 'time' | 'interrupted';
  attacks: Launched[];
  detection: { detected: boolean; ttdMs: number | null; firstAlert: string | null };
  level: string | null;
  playbook: string | null;
  phases: PhaseScore[];
  impact: Record<string, number>;
  /** every attacked station producing again at the end */
  restored: boolean;
  stations: Record<string, string>;
  score: { detection: number; containment: number | null; recovery: number; production: number; total: number };
  files: { report: string; reportZh: string; score: string; dataset: string | null };
  datasetProblems: string[];
}

export interface ExerciseOptions {
  exercise: Exercise;
  out: string;
  readyMs: number;
  /** how often the response is read [ms] */
  pollMs?: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((res) => {
  const t = setTimeout(done, ms);
  function done(): void {
    clearTimeout(t);
    signal.removeEventListener('abort', done);
    res();
  }
  signal.addEventListener('abort', done, { once: true });
});

const phaseScore = (p: PhaseScore | undefined): number | null => (p === undefined ? null : p.status === 'on time' ? 100 : p.status === 'late' ? 50 : 0);

/** The score from what was measured (see the module comment). */
export function scoreExercise(o: { ttdMs: number | null; classification: Classification | null; phases: readonly PhaseScore[]; restored: boolean; stationDowntimeS: number; lineTimeS: number }): ExerciseResult['score'] {
  const detectS = o.classification?.phases.find((p) => p.id === 'detect')?.deadlineS ?? 300;
  const detection = o.ttdMs === null ? 0 : Math.round(100 * Math.min(1, Math.max(0, 1 - (o.ttdMs / 1000 - 10) / Math.max(1, detectS - 10))));
  const containment = phaseScore(o.phases.find((p) => p.id === 'contain'));
  const recover = phaseScore(o.phases.find((p) => p.id === 'recover'));
  const recovery = o.restored ? (recover ?? 100) : 0;
  const production = Math.round(100 * Math.max(0, 1 - o.stationDowntimeS / Math.max(1e-9, o.lineTimeS)));
  const parts = [detection, containment, recovery, production].filter((x): x is number => x !== null);
  return { detection, containment, recovery, production, total: Math.round(parts.reduce((a, b) => a + b, 0) / parts.length) };
}

/** A REST call as the exercise's instructor (GET, or POST with a JSON body). */
export type ExerciseCall = (path: string, body?: unknown) => Promise<Answer>;

/** Calls on the twin at `base` with `headers` (a bearer token) or `creds` (HTTP Basic). */
export function exerciseCall(base: URL, auth: { headers?: Record<string, string>; creds?: Credentials }): ExerciseCall {
  const headers = auth.headers ?? {};
  return (path, body) => restCall(base, path, body === undefined ? { headers } : { method: 'POST', body: JSON.stringify(body), headers: { ...headers, 'content-type': 'application/json' } }, auth.creds ?? null);
}

/** What the drive of an exercise came to. */
export interface Driven {
  /** its start [ms since the epoch] */
  t0: number;
  launched: Launched[];
  ended: ExerciseResult['ended'];
}

/** Options of `driveExercise`. */
export interface DriveOptions {
  exercise: Exercise;
  call: ExerciseCall;
  signal: AbortSignal;
  log: (line: string) => void;
  /** how often the response is read [ms] */
  pollMs: number;
  /** the exercise's own time [ms since its start]; paused time left out (default: wall time since the start) */
  elapsed?: () => number;
  /** seen as each attack is launched or ends */
  onChange?: (launched: readonly Launched[]) => void;
}

/**
 * Launches the exercise's attacks through the range at their seconds (of exercise time: a
 * pause holds them back, and the end) and watches the response, until every phase of the
 * playbook the twin picked has its applying steps done, the exercise's time is up, or `signal`.
 */
export async function driveExercise(o: DriveOptions): Promise<Driven> {
  const ex = o.exercise;
  const { call } = o;
  const t0 = Date.now();
  const elapsed = o.elapsed ?? ((): number => Date.now() - t0);
  const launched: Launched[] = [];
  const at = (): string => `${(elapsed() / 1000).toFixed(1)} s`;
  let next = 0;
  let ended: ExerciseResult['ended'] = 'time';
  while (!o.signal.aborted && elapsed() < ex.durationS * 1000) {
    // the range runs one attack at a time: a due attack waits while another runs
    while (next < ex.attacks.length && elapsed() >= ex.attacks[next]!.atS * 1000) {
      const a = ex.attacks[next]!;
      // left in place: undoing the attack is the trainees' work
      const r = await call('api/attacks/run', { id: a.attack, cleanup: false, ...(a.station === null ? {} : { station: a.station }) });
      if (r.status === 409 && (r.body.error as { code?: string } | undefined)?.code === 'BUSY') break;
      const run = r.status === 202 ? Number(r.body.run) : null;
      const error = run === null ? `refused: HTTP ${r.status} ${JSON.stringify(r.body.error ?? r.body).slice(0, 200)}` : null;
      launched.push({ attack: a.attack, station: a.station, run, atMs: Date.now(), status: run === null ? 'refused' : 'running', outcome: null, error });
      o.log(`${at()}: ${a.attack} ${run === null ? error : `launched (range run ${run})`}`);
      o.onChange?.(launched);
      next++;
    }
    for (const l of launched.filter((x) => x.status === 'running' && x.run !== null)) {
      const r = await call(`api/attacks/runs/${l.run}`);
      if (r.status !== 200 || r.body.status === 'running') continue;
      l.status = String(r.body.status);
      l.station = String(r.body.station);
      l.outcome = (r.body.report as { outcome?: string } | null)?.outcome ?? null;
      l.error = typeof r.body.error === 'string' ? r.body.error : null;
      o.log(`${at()}: ${l.attack} ${l.status}${l.outcome === null ? '' : `: ${l.outcome}`}`);
      o.onChange?.(launched);
    }
    const first = launched[0]?.atMs;
    if (first !== undefined && next === ex.attacks.length && launched.every((x) => x.status !== 'running')) {
      const inc = (await call(`api/incident?from=${first}`)).body as { classification: Classification | null };
      const actions = ((await call('api/respond/log?limit=1000')).body.actions ?? []) as ActionRecord[];
      const phases = scorePhases(inc.classification, actions, first, Date.now(), 'en');
      if (inc.classification?.incident === true && phases.length > 0 && phases.every((p) => p.status === 'on time' || p.status === 'late')) {
        ended = 'responded';
        break;
      }
    }
    await sleep(o.pollMs, o.signal);
  }
  if (o.signal.aborted) ended = 'interrupted';
  o.log(`${at()}: the exercise ends (${ended})`);
  return { t0, launched, ended };
}

/** Options of `concludeExercise`. */
export interface ConcludeOptions {
  exercise: Exercise;
  call: ExerciseCall;
  driven: Driven;
  /** the folder of report.html, report.zh.html (and score.json, written by the caller) */
  out: string;
  web: string;
  /** wall time the exercise spent paused after its first attack [ms]: not line time */
  pausedMs?: number;
}

/** The report (en and zh, written to `out`) and the score of a driven exercise. */
export async function concludeExercise(o: ConcludeOptions): Promise<Omit<ExerciseResult, 'files' | 'datasetProblems'> & { files: Omit<ExerciseResult['files'], 'dataset'> }> {
  const { exercise: ex, call, driven } = o;
  const { launched, t0, ended } = driven;
  const refused = (a: Answer): Error => new Error(`the twin answered HTTP ${a.status}: ${JSON.stringify(a.body).slice(0, 300)}`);
  const first = launched[0]?.atMs ?? t0;
  const query = new URLSearchParams({ from: String(first) });
  const input = await gatherReport((p) => call(p), refused, { lang: 'en', query });
  const en = incidentReport(input);
  const zh = incidentReport(await gatherReport((p) => call(p), refused, { lang: 'zh', query }));
  const state = (await call('api/state')).body as { stations: { id: string; state: string }[] };
  const attacked = new Set(launched.map((l) => l.station).filter((s): s is string => s !== null));
  const stations = Object.fromEntries(state.stations.map((s) => [s.id, s.state]));
  const restored = [...attacked].every((s) => PRODUCING.has(stations[s] ?? ''));
  const firstAlert = input.alerts.filter((a) => a.alertMs >= first).sort((a, b) => a.alertMs - b.alertMs)[0];
  const ttdMs = firstAlert === undefined ? null : firstAlert.alertMs - first;
  const endedAtMs = Date.now();
  const impact = input.incident.impact;
  const lineTimeS = (Math.max(0, endedAtMs - first - (o.pausedMs ?? 0)) / 1000) * ex.speed * Math.max(1, attacked.size);
  const score = scoreExercise({ ttdMs, classification: en.classification, phases: en.phases, restored, stationDowntimeS: impact.stationDowntimeS ?? 0, lineTimeS });
  mkdirSync(o.out, { recursive: true });
  const files = { report: join(o.out, 'report.html'), reportZh: join(o.out, 'report.zh.html'), score: join(o.out, 'score.json') };
  writeFileSync(files.report, en.html);
  writeFileSync(files.reportZh, zh.html);
  return {
    exercise: ex.id, web: o.web, startedAtMs: t0, endedAtMs, ended, attacks: launched,
    detection: { detected: firstAlert !== undefined, ttdMs, firstAlert: firstAlert === undefined ? null : `${firstAlert.detector}/${firstAlert.rule}` },
    level: en.classification?.level ?? null, playbook: en.classification?.playbook?.id ?? null, phases: en.phases, impact, restored, stations, score, files,
  };
}

/** Runs the exercise on a twin of its own (see the module comment). */
export async function runExercise(o: ExerciseOptions): Promise<ExerciseResult> {
  const ex = o.exercise;
  const home = join(o.out, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const twin = await startTwin({ scenario: ex.scenario, base: ex.profile, flags: ['--speed', String(ex.speed), '--record-values', '500'], home, readyMs: o.readyMs });
  let result: Awaited<ReturnType<typeof concludeExercise>>;
  try {
    const instructor = rangeAccountOf(home, 'instructor');
    if (instructor === null) throw new Error(`the twin's home ${home} has no instructor account`);
    const base = new URL(twin.web);
    const call = exerciseCall(base, { creds: instructor });
    o.log(`exercise ${ex.id}: ${ex.title.en} / ${ex.title.zh}`);
    o.log(`  line ${ex.scenario}, profile ${ex.profile}, ${ex.speed} × real time, at most ${ex.durationS} s`);
    o.log(`  attacks: ${ex.attacks.map((a) => `${a.attack}${a.station === null ? '' : ` on ${a.station}`} at ${a.atS} s`).join('; ')}`);
    o.log(`  accounts for the trainees: ${join(home, 'initial-passwords.txt')}`);
    o.log(`ready ${twin.web}`);
    const driven = await driveExercise({ exercise: ex, call, signal: o.signal, log: o.log, pollMs: o.pollMs ?? 1000 });
    result = await concludeExercise({ exercise: ex, call, driven, out: o.out, web: twin.web });
  } finally {
    await twin.stop();
  }
  // the twin has stopped: its records are complete
  let dataset: DatasetSummary | null = null;
  let datasetProblems: string[] = [];
  try {
    dataset = await exportDataset({ dir: resolveRun('last', home), out: join(o.out, 'dataset'), rateMs: 1000 });
    datasetProblems = dataset.problems;
  } catch (e) {
    datasetProblems = [e instanceof TwinlineError ? e.message : String(e)];
  }
  const out: ExerciseResult = { ...result, files: { ...result.files, dataset: dataset === null ? null : join(o.out, 'dataset') }, datasetProblems };
  writeFileSync(out.files.score, `${JSON.stringify(out, null, 2)}\n`);
  return out;
}
