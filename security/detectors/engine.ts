/**
 * The detector engine: runs in the serve host over the events it drains from the line (the
 * event log, of which the audit trail is the `audit` and `rejected` events) as they are
 * written, and raises alerts with their ATT&CK for ICS technique ids, evidence (event seqs
 * and lines) and wall times. It never polls a protocol face.
 *
 * Garbage never throws: an input that is not a well-formed event is counted (`malformed`)
 * and skipped; a detector that fails on one event is counted (`errors`) and the others go on.
 *
 * Memory is bounded: every map is capped (`MAX_KEYS` keys per rate rule, each holding at most
 * `count` entries of ≤ `MAX_LINE` characters; `MAX_COOLDOWNS` cool-down keys; evidence of an
 * alert at most `MAX_EVIDENCE` seqs and lines); the oldest key is dropped first.
 */
import type { DetectorConfig, Severity } from './config.ts';
import { ResidualDetector, type Report } from './residual.ts';
import { AllowListDetector, PhysicsDetector, RateDetector } from './rules.ts';

/** keys one rate rule tracks at most (peers, principals) */
export const MAX_KEYS = 1024;
/** cool-down keys (detector, principal, station …) held at most */
export const MAX_COOLDOWNS = 4096;
/** evidence seqs and lines one alert carries at most */
export const MAX_EVIDENCE = 20;
/** characters of one evidence line at most */
export const MAX_LINE = 300;

/** An event as the engine reads it (checked from untrusted input). */
export interface DetEvent {
  seq: number;
  tick: number;
  type: string;
  station: string | null;
  data: Record<string, unknown>;
  /** wall time the host drained it [ms since the epoch] */
  ms: number;
}

/** One alert. */
export interface Alert {
  /** 1, 2, … in the host's order */
  id: number;
  /** the detector family: `allow-list`, `rate`, `physics`, `residual` */
  detector: string;
  /** the rule inside it (`login-failures`, `recipe-band`, `stop-source` …) */
  rule: string;
  severity: Severity;
  /** ATT&CK for ICS technique ids */
  techniques: string[];
  title: string;
  station: string | null;
  /** who it is about (principal or peer) */
  principal: string;
  evidence: { seqs: number[]; lines: string[] };
  /** wall time the first evidence was drained [ms since the epoch] */
  firstEvidenceMs: number;
  /** wall time the alert was raised [ms since the epoch] */
  alertMs: number;
  /**
   * the security range's attack run that was going on in this host when the alert was raised
   * (set by the serve host, absent otherwise), and the time from the run's start to the alert
   * (its time-to-detect) [ms]
   */
  during?: { run: number; attack: string; startedAtMs: number; ttdMs: number };
}

/** What a detector hands the engine (the engine numbers and stamps it). */
export type Finding = Omit<Alert, 'id' | 'alertMs' | 'during'> & { cooldownKey: string; cooldownS: number };

/** What the engine needs of the line. */
export interface EngineHost {
  /** the stations and their kinds */
  stations: readonly { id: string; kind: string }[];
  /** a field's current value of a station, or null when it has none */
  read(station: string, field: string): number | null;
  /** who may write a field of a station (`operator`, `engineer`, `safety`), or null when it is not writable or unknown */
  writeLevel?(station: string, field: string): string | null;
  /** wall clock [ms since the epoch] */
  now?(): number;
}

/** A detector family. */
export interface Detector {
  readonly name: string;
  onEvent(e: DetEvent): Finding[];
}

/** `e` checked as an event, or null. */
export function toEvent(v: unknown, ms: number): DetEvent | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.seq !== 'number' || !Number.isFinite(o.seq) || typeof o.type !== 'string') return null;
  if (typeof o.data !== 'object' || o.data === null || Array.isArray(o.data)) return null;
  const station = typeof o.station === 'string' ? o.station : null;
  return { seq: o.seq, tick: typeof o.tick === 'number' ? o.tick : 0, type: o.type, station, data: o.data as Record<string, unknown>, ms };
}

/** A data value as text ('' when absent or not a scalar), clipped. */
export function str(e: DetEvent, key: string): string {
  const v = e.data[key];
  return typeof v === 'string' ? v.slice(0, MAX_LINE) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** One evidence line for an event. */
export function evidenceLine(e: DetEvent): string {
  const d = e.data;
  const parts = [`#${e.seq}`, e.type, e.station ?? 'line'];
  for (const k of ['source', 'principal', 'action', 'outcome', 'command', 'target', 'args', 'reason']) {
    const v = d[k];
    if (typeof v === 'string' && v !== '') parts.push(`${k}=${v}`);
  }
  return parts.join(' ').slice(0, MAX_LINE);
}

/** A Map capped at `max` keys: inserting past it drops the oldest key. */
export function capSet<K, V>(m: Map<K, V>, k: K, v: V, max: number): void {
  m.delete(k);
  m.set(k, v);
  while (m.size > max) {
    const first = m.keys().next();
    if (first.done === true) break;
    m.delete(first.value);
  }
}

/** See the module comment. */
export class DetectorEngine {
  private readonly detectors: Detector[] = [];
  private readonly cooldowns = new Map<string, number>();
  private nextId = 1;
  private readonly now: () => number;
  /** inputs that were not events */
  malformed = 0;
  /** detector failures on one event */
  errors = 0;
  /** findings held back by a cool-down (the same thing seen again) */
  suppressed = 0;
  /** events seen */
  seen = 0;
  /** the physics residuals of reported values, when configured */
  private readonly residual: ResidualDetector | null;

  constructor(readonly config: DetectorConfig, host: EngineHost) {
    this.now = host.now ?? Date.now;
    if (config.allowList !== null) this.detectors.push(new AllowListDetector(config.allowList));
    if (config.rates.length > 0) this.detectors.push(new RateDetector(config.rates, host));
    if (config.physics !== null) this.detectors.push(new PhysicsDetector(config.physics, host));
    this.residual = config.residuals === null ? null : new ResidualDetector(config.residuals, host);
  }

  /** The detector families that run. */
  get names(): string[] {
    return [...this.detectors.map((d) => d.name), ...(this.residual === null ? [] : [this.residual.name])];
  }

  /** Whether reported values are compared with the model (a face need not hand them over otherwise). */
  get watchesReports(): boolean {
    return this.residual !== null;
  }

  /** Feeds values reported for the line's tags (residual.ts); returns the alerts raised. Never throws. */
  onReports(rs: readonly Report[]): Alert[] {
    const out: Alert[] = [];
    if (this.residual === null) return out;
    const ms = this.now();
    for (const r of rs) {
      this.collect(() => this.residual!.observe(r), ms, out);
    }
    return out;
  }

  /** Feeds drained events (any input; garbage is counted and skipped); returns the alerts raised. */
  onEvents(evs: readonly unknown[]): Alert[] {
    const ms = this.now();
    const out: Alert[] = [];
    if (!Array.isArray(evs)) {
      this.malformed++;
      return out;
    }
    for (const raw of evs) {
      const e = toEvent(raw, ms);
      if (e === null) {
        this.malformed++;
        continue;
      }
      this.seen++;
      for (const d of this.detectors) this.collect(() => d.onEvent(e), ms, out);
    }
    return out;
  }

  /** Feeds one NDJSON line (a line of events.ndjson or audit.ndjson); never throws. */
  onLine(line: string): Alert[] {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      this.malformed++;
      return [];
    }
    return this.onEvents([v]);
  }

  /** Runs one detector on one input into `out`; a detector that throws is counted, never passed on. */
  private collect(run: () => Finding[], ms: number, out: Alert[]): void {
    let found: Finding[];
    try {
      found = run();
    } catch {
      this.errors++;
      return;
    }
    for (const f of found) {
      const a = this.raise(f, ms);
      if (a !== null) out.push(a);
    }
  }

  private raise(f: Finding, ms: number): Alert | null {
    const until = this.cooldowns.get(f.cooldownKey);
    if (until !== undefined && until > ms) {
      this.suppressed++;
      return null;
    }
    capSet(this.cooldowns, f.cooldownKey, ms + f.cooldownS * 1000, MAX_COOLDOWNS);
    // one key order for every alert (alerts.ndjson is read by people too)
    return {
      id: this.nextId++, detector: f.detector, rule: f.rule, severity: f.severity, techniques: f.techniques, title: f.title,
      station: f.station, principal: f.principal,
      evidence: { seqs: f.evidence.seqs.slice(0, MAX_EVIDENCE), lines: f.evidence.lines.slice(0, MAX_EVIDENCE) },
      firstEvidenceMs: f.firstEvidenceMs, alertMs: ms,
    };
  }
}
