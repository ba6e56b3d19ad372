/**
 * The posture matrix: every attack of the library (or the ones chosen) against a twin started
 * once per profile. For each profile a real `twinline serve` comes up in a fresh home; each
 * attack runs against its face's endpoint with the range's observer on the web address, the
 * attack's cleanup puts the line back, and the matrix checks that the line runs again before
 * the next attack, restarting the twin when an attack left it unusable. Each row holds the
 * outcome, the impact the attack measured on the line, the evidence (the twin's audit trail
 * among it), the duration, and whether the twin's detectors raised an alert during the run
 * and how long after the attack's start (its time-to-detect); each profile's promise (the
 * attacks it blocks) is checked.
 */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { TwinlineError } from '../../sim/core/errors.ts';
import { runAttack, type Detection } from '../attacks/run.ts';
import { Observer, PRODUCING } from '../attacks/observer.ts';
import type { Attack, Face, Impact } from '../attacks/types.ts';
import type { MatrixProfile } from './profiles.ts';
import { makeHome, removeHome, startTwin, type Twin } from './twin.ts';

/** One attack under one profile. */
export interface MatrixRow {
  attack: string;
  title: string;
  techniques: string[];
  face: Face;
  profile: string;
  /** `skipped`: the profile's twin does not serve the attack's face; `error`: the run failed (see `error`) */
  outcome: 'succeeded' | 'blocked' | 'skipped' | 'error';
  /** whether the profile promises to block it */
  promised: boolean;
  impact: Impact;
  evidence: string[];
  /** the evidence lines that are the twin's own audit entries and rejected commands */
  audit: string[];
  durationMs: number;
  /**
   * whether the twin's detectors (its default configuration unless the profile names another)
   * raised an alert during the run; null when not measured (the twin runs no detectors, the
   * row was skipped or failed)
   */
  detected: boolean | null;
  /** the first alert's time-to-detect (alert time − the attack's start) [ms, wall], or null */
  ttdMs: number | null;
  /** every alert raised during the run, first first (null when not measured) */
  detections: Detection[] | null;
  /** how the line was afterwards: `running`, or what the matrix had to do to get it back */
  lineAfter: string;
  error?: string;
}

/** One profile's run. */
export interface ProfileRun {
  name: string;
  base: string;
  flags: readonly string[];
  source: string;
  promise: string;
  /** attack ids it promises to block */
  blocks: string[];
  /** wall time of the profile's run, twin start and stop included [ms] */
  wallMs: number;
  /** wall time of the twin's (first) start [ms] */
  startMs: number;
  /** twins started for the profile (1 + restarts) */
  twins: number;
}

/** What the matrix found. */
export interface MatrixResult {
  rows: MatrixRow[];
  profiles: ProfileRun[];
  /** rows of attacks that succeeded although their profile promised to block them */
  broken: MatrixRow[];
}

/** Options of `runMatrix`. */
export interface MatrixOptions {
  profiles: readonly MatrixProfile[];
  attacks: readonly Attack[];
  scenario?: string;
  /** serve's --speed unless a profile sets it */
  speed: number;
  /** how long each attack watches the line [ms] */
  watchMs: number;
  /** how long a twin may take to come up [ms] */
  readyMs: number;
  /** where to copy each profile's run records (events, audit trail, commands), or none */
  out?: string;
  log: (line: string) => void;
  /** called once per profile before its twin starts and after it stopped (bench) */
  onProfile?: (p: MatrixProfile, phase: 'start' | 'end') => void;
}

/** how long the line may take to run again after an attack's cleanup [ms] */
const LINE_BACK_MS = 60_000;
/**
 * The faces audit a refusal a client can repeat (an anonymous CONNECT, a missing login) once
 * per 5 s per address; attacks on one face are spaced that far apart so that each finds its
 * own refusal in the trail [ms].
 */
const AUDIT_SPACING_MS = 5500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const UNMEASURED = { detected: null, ttdMs: null, detections: null } as const;

/** Whether the twin at `web` runs detectors (its alert page names them); false when it does not answer. */
async function runsDetectors(web: string, home: string): Promise<boolean> {
  let o: Observer | null = null;
  try {
    o = await Observer.open(new URL(web), home);
    return await o.detectors();
  } catch {
    return false;
  } finally {
    await o?.close();
  }
}

/** Evidence lines from the twin's audit trail and event log that are refusals or audit entries. */
export function auditLines(evidence: readonly string[]): string[] {
  return evidence.filter((l) => /^(event #\d+|events #\d+–#\d+ \d+ ×) (audit: |command rejected: )/.test(l));
}

/** Stations making (or waiting for) parts, as the range's account sees them; null when the twin does not answer. */
async function producing(web: string, home: string): Promise<Set<string> | null> {
  let o: Observer | null = null;
  try {
    o = await Observer.open(new URL(web), home);
    const v = await o.view();
    return new Set([...v.stations.values()].filter((s) => PRODUCING.has(s.state)).map((s) => s.id));
  } catch {
    return null;
  } finally {
    await o?.close();
  }
}

/** Waits until every station of `want` produces again (up to `ms`); the ones that do not, or null when the twin does not answer. */
async function waitLine(web: string, home: string, want: ReadonlySet<string>, ms: number, signal?: AbortSignal): Promise<string[] | null> {
  const end = Date.now() + ms;
  for (;;) {
    signal?.throwIfAborted();
    const now = await producing(web, home);
    const missing = now === null ? null : [...want].filter((s) => !now.has(s));
    if ((missing !== null && missing.length === 0) || Date.now() > end) return missing;
    await sleep(500);
  }
}

/** A line start as the range's account (what an operator does after an incident). */
async function startLine(web: string, home: string): Promise<void> {
  const o = await Observer.open(new URL(web), home).catch(() => null);
  if (o === null) return;
  await o.command('line', 'start').catch(() => undefined);
  await o.close();
}

/** Runs the matrix (see the module comment). Twins are stopped on every path; `signal` aborts between attacks. */
export async function runMatrix(o: MatrixOptions, signal?: AbortSignal): Promise<MatrixResult> {
  const rows: MatrixRow[] = [];
  const profiles: ProfileRun[] = [];
  for (const p of o.profiles) {
    signal?.throwIfAborted();
    o.onProfile?.(p, 'start');
    const t0 = performance.now();
    const home = makeHome();
    const flags = p.flags.includes('--speed') ? p.flags : [...p.flags, '--speed', String(o.speed)];
    const start = (): Promise<Twin> => startTwin({ ...(o.scenario !== undefined ? { scenario: o.scenario } : {}), base: p.base, flags, home, readyMs: o.readyMs });
    let twin: Twin | null = null;
    let twins = 0;
    let startMs = 0;
    try {
      o.log(`${p.name}: starting twinline serve --profile ${p.base}${p.flags.length > 0 ? ` ${p.flags.join(' ')}` : ''}`);
      twin = await start();
      twins++;
      startMs = twin.startMs;
      o.log(`${p.name}: up in ${(startMs / 1000).toFixed(1)} s at ${twin.web}`);
      // the line is running before the first attack: what "put back" means afterwards
      let want = new Set<string>();
      const ready = await waitLine(twin.web, twin.home, new Set(), LINE_BACK_MS, signal);
      if (ready === null) throw new Error(`${p.name}: the twin does not answer the range's account at ${twin.web}`);
      const detectorsRun = await runsDetectors(twin.web, twin.home);
      if (!detectorsRun) o.log(`${p.name}: the twin runs no detectors: the rows' detection is not measured`);
      const lastOnFace = new Map<Face, number>();
      for (const a of o.attacks) {
        signal?.throwIfAborted();
        const base = { attack: a.id, title: a.title, techniques: a.techniques.map((t) => t.id), face: a.face, profile: p.name, promised: p.blocks.has(a.id) };
        const target = twin.endpoints[a.face];
        if (target === null) {
          rows.push({ ...base, outcome: 'skipped', impact: {}, evidence: [`the twin serves no ${a.face} face under this profile: nothing to attack`], audit: [], durationMs: 0, lineAfter: 'running', ...UNMEASURED });
          o.log(`${p.name} ${a.id}: skipped (no ${a.face} face)`);
          continue;
        }
        const wait = (lastOnFace.get(a.face) ?? 0) + AUDIT_SPACING_MS - Date.now();
        if (wait > 0) await sleep(wait);
        want = (await producing(twin.web, twin.home)) ?? want;
        let row: MatrixRow;
        try {
          const r = await runAttack({
            id: a.id, targets: a.face === 'rest' ? [twin.web] : [target, twin.web], home: twin.home, watchMs: o.watchMs,
            log: (l) => o.log(`${p.name} ${a.id}: ${l}`),
          });
          // a twin that runs no detectors serves an empty alert list: not measured, rather than "not detected"
          const measured = r.detections !== null && (r.detections.length > 0 || detectorsRun);
          row = {
            ...base, outcome: r.outcome, impact: r.impact, evidence: r.evidence, audit: auditLines(r.evidence), durationMs: r.durationMs, lineAfter: 'running',
            detected: measured ? r.detections!.length > 0 : null, ttdMs: measured ? (r.detections![0]?.ttdMs ?? null) : null, detections: measured ? r.detections : null,
          };
        } catch (e) {
          if (e instanceof TwinlineError && e.code === 'USAGE') throw e;
          const msg = e instanceof Error ? e.message : String(e);
          row = { ...base, outcome: 'error', impact: {}, evidence: [], audit: [], durationMs: 0, lineAfter: 'running', error: msg, ...UNMEASURED };
        }
        lastOnFace.set(a.face, Date.now());
        // the attack's cleanup put the line back; check it, and get it back if it did not
        signal?.throwIfAborted();
        let missing = twin.alive() ? await waitLine(twin.web, twin.home, want, LINE_BACK_MS, signal) : null;
        if (missing !== null && missing.length > 0) {
          o.log(`${p.name} ${a.id}: ${missing.join(', ')} not producing after the cleanup: starting the line`);
          await startLine(twin.web, twin.home);
          missing = await waitLine(twin.web, twin.home, want, LINE_BACK_MS, signal);
          row.lineAfter = missing !== null && missing.length === 0 ? 'running after a line start by the matrix' : row.lineAfter;
        }
        if (missing === null || missing.length > 0) {
          const why = !twin.alive() ? 'the twin exited' : missing === null ? 'the twin stopped answering' : `${missing.join(', ')} would not produce again`;
          o.log(`${p.name} ${a.id}: ${why}: restarting the twin for the next attack`);
          await twin.stop();
          twin = await start();
          twins++;
          if ((await waitLine(twin.web, twin.home, want, LINE_BACK_MS, signal)) === null) throw new Error(`${p.name}: the restarted twin does not answer at ${twin.web}`);
          row.lineAfter = `${why}; the twin was restarted`;
        }
        rows.push(row);
        o.log(`${p.name} ${a.id}: ${row.outcome}${row.error !== undefined ? ` (${row.error})` : ''} in ${(row.durationMs / 1000).toFixed(1)} s${row.lineAfter === 'running' ? '' : `; ${row.lineAfter}`}`);
      }
    } finally {
      await twin?.stop();
      if (o.out !== undefined && existsSync(join(home, 'runs'))) cpSync(join(home, 'runs'), join(o.out, p.name, 'runs'), { recursive: true });
      removeHome(home);
    }
    profiles.push({
      name: p.name, base: p.base, flags: p.flags, source: p.source, promise: p.promise, blocks: o.attacks.filter((a) => p.blocks.has(a.id)).map((a) => a.id),
      wallMs: Math.round(performance.now() - t0), startMs: Math.round(startMs), twins,
    });
    o.onProfile?.(p, 'end');
  }
  return { rows, profiles, broken: rows.filter((r) => r.promised && r.outcome === 'succeeded') };
}
