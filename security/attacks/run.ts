/**
 * Runs one attack of the library: every target through the guard first (nothing is sent to a
 * target that is not the range's own), then the range's observer logs in, the attack runs,
 * its impact and evidence are collected, and the line is put back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TwinlineError } from '../../sim/core/errors.ts';
import { attackById } from './index.ts';
import { Observer } from './observer.ts';
import { checkTarget, loadRange, TARGET_SCHEMES, type Resolve, type Target } from './targets.ts';
import type { AttackContext, Credentials, Face, Impact, Outcome } from './types.ts';

/** What `runAttack` needs. */
export interface RunOptions {
  id: string;
  /** endpoint URLs: the attack's face, and the range's web address (http://) to measure the impact */
  targets: readonly string[];
  /** range file allowing hosts besides loopback */
  range?: string;
  credentials?: Credentials | null;
  /** the range's home (its accounts' initial passwords), for the observer */
  home: string;
  /** the observer's account as a bearer token the twin issued (a run the twin launches itself), instead of a login from `home` */
  observerToken?: { token: string; user: string; role: string };
  /** station to aim at (default: the line's first kiln, else its first machine) */
  station?: string;
  /** how long to watch the line for the effect [ms] (default 5,000) */
  watchMs?: number;
  /**
   * put the line back afterwards (default true); false leaves it as the attack left it, for an
   * exercise whose responders put it back (their containment is what is measured)
   */
  cleanup?: boolean;
  log?: (line: string) => void;
  /** resolver of the target guard (tests) */
  resolve?: Resolve;
}

/** The report of one run. */
export interface AttackReport {
  attack: string;
  title: string;
  /** technique ids */
  techniques: string[];
  face: Face;
  /** the endpoint attacked, as given */
  target: string;
  station: string;
  /** the twin's security profile as it reports it, or null when the line was not observed */
  profile: string | null;
  outcome: Outcome;
  impact: Impact;
  evidence: string[];
  /** wall time of the run [ms] */
  durationMs: number;
  /** what the cleanup did */
  cleanup: string[];
  /** wall time the attack's first step began [ms since the epoch]: the clock of the twin's alerts */
  startedAtMs: number;
  /**
   * the twin's detectors that fired on the run, each with its time-to-detect (alert time − the
   * attack's start, wall ms), first first; null when the line was not observed or serves no alerts
   */
  detections: Detection[] | null;
}

/** One alert raised during a run. */
export interface Detection {
  alert: number;
  detector: string;
  rule: string;
  severity: string;
  techniques: string[];
  title: string;
  /** alert time − the attack's start [ms, wall] */
  ttdMs: number;
}

/** how long to wait after the attack for its alerts: the host drains events every 200 ms [ms] */
const ALERT_SETTLE_MS = 600;
/** when none came by then, how much longer (a busy host drains late) [ms] */
const ALERT_LATE_MS = 1000;

const SCHEME_OF: Readonly<Record<Face, string>> = { opcua: 'opc.tcp://', mqtt: 'mqtt:// (or ws://)', rest: 'http://', modbus: 'modbus://' };

/** The station an attack aims at when none is named: the line's first kiln, else its first machine. */
function defaultStation(o: Observer | null): string {
  const st = o?.line.stations ?? [];
  return (st.find((s) => s.kind === 'kiln') ?? st.find((s) => s.kind !== 'source' && s.kind !== 'sink') ?? st[0])?.id ?? 'kiln';
}

/** Runs one attack (see the module comment); throws `TwinlineError` for bad input and refused targets. */
export async function runAttack(o: RunOptions): Promise<AttackReport> {
  const attack = attackById(o.id);
  if (attack === undefined) throw new TwinlineError('USAGE', `no attack "${o.id}" (twinline attack list shows them)`);
  if (o.targets.length === 0) throw new TwinlineError('USAGE', `${attack.id} needs a --target ${SCHEME_OF[attack.face]} URL`);
  const range = o.range === undefined ? null : loadRange(o.range);
  // every target is checked before anything is sent to any of them
  const checked: Target[] = [];
  for (const t of o.targets) checked.push(await checkTarget(t, range, o.resolve));
  const mine = checked.filter((t) => t.face === attack.face);
  if (mine.length !== 1) {
    throw new TwinlineError('USAGE', `${attack.id} goes through ${attack.face}: give exactly one --target ${SCHEME_OF[attack.face]} URL (got ${mine.length}; targets may be ${TARGET_SCHEMES})`);
  }
  const web = checked.filter((t) => t.face === 'rest');
  if (web.length > 1) throw new TwinlineError('USAGE', 'give at most one --target http:// URL (the range\'s web address)');
  const log = o.log ?? (() => undefined);
  const observer = web[0] === undefined ? null : o.observerToken !== undefined ? await Observer.attach(web[0].url, o.observerToken, o.home) : await Observer.open(web[0].url, o.home);
  if (observer === null) log('the line is not observed: add --target http://… (the range\'s web address) to measure the impact and read the audit trail');
  const station = o.station ?? defaultStation(observer);
  if (observer !== null && !observer.line.stations.some((s) => s.id === station)) {
    await observer.close();
    throw new TwinlineError('UNKNOWN_TARGET', `the line has no station "${station}" (stations: ${observer.line.stations.map((s) => s.id).join(', ')})`);
  }
  const workDir = mkdtempSync(join(tmpdir(), 'twinline-attack-'));
  const cleanup: string[] = [];
  const releases: (() => Promise<void>)[] = [];
  const ctx: AttackContext = {
    target: mine[0]!.url, credentials: o.credentials ?? null, station, observer, workDir, watchMs: o.watchMs ?? 5000,
    memo: new Map(),
    atEnd: (release) => void releases.push(release),
    log: (line) => {
      if (line.startsWith('cleanup: ')) cleanup.push(line.slice(9));
      log(line);
    },
  };
  const t0 = performance.now();
  const startedAtMs = Date.now();
  try {
    log(`${attack.id} → ${mine[0]!.given} (station ${station})`);
    const r = await attack.run(ctx);
    const durationMs = Math.round(performance.now() - t0);
    // read before the cleanup, so an alert on the clean-up itself is not counted as a detection
    const detections = observer === null ? null : await detected(observer, startedAtMs);
    if (o.cleanup === false) ctx.log('cleanup: none: the line is left as the attack left it (the responders put it back)');
    else await attack.cleanup(ctx).catch((e: unknown) => ctx.log(`cleanup: failed: ${e instanceof Error ? e.message : String(e)}`));
    return {
      attack: attack.id, title: attack.title, techniques: attack.techniques.map((t) => t.id), face: attack.face, target: mine[0]!.given, station,
      profile: observer?.profile ?? null, outcome: r.outcome, impact: r.impact, evidence: r.evidence, durationMs, cleanup,
      startedAtMs, detections,
    };
  } catch (e) {
    if (o.cleanup !== false) await attack.cleanup(ctx).catch(() => undefined);
    throw e;
  } finally {
    for (const release of releases) await release().catch(() => undefined);
    await observer?.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The alerts the twin raised since `startedAtMs`, as detections with their time-to-detect. */
async function detected(observer: Observer, startedAtMs: number): Promise<Detection[] | null> {
  await new Promise((r) => setTimeout(r, ALERT_SETTLE_MS));
  let alerts = await observer.alerts(startedAtMs);
  if (alerts !== null && alerts.length === 0) {
    await new Promise((r) => setTimeout(r, ALERT_LATE_MS));
    alerts = await observer.alerts(startedAtMs);
  }
  if (alerts === null) return null;
  return alerts.map((a) => ({
    alert: a.id, detector: a.detector, rule: a.rule, severity: a.severity, techniques: a.techniques, title: a.title,
    ttdMs: Math.max(0, a.alertMs - startedAtMs),
  })).sort((a, b) => a.ttdMs - b.ttdMs);
}
