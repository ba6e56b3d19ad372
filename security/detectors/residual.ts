/**
 * Physics residuals: a value reported for one of the line's tags by someone other than the twin
 * (a message on its UNS topics at an external broker, a gateway's relay) against what the twin's
 * model holds for that tag now. The residual is scaled by the tag's noise: the larger of the
 * deadband the twin publishes with (a subscriber may legitimately see a value that far from the
 * model), a share of the value and an absolute floor. A two-sided CUSUM (Page's test) sums the
 * scaled residuals less an allowance `k` on each side and raises an alert when a sum passes `h`:
 * one forged value far off the model is caught at once, a small bias kept up (a zone reported a
 * few degrees low) after a few messages, and noise inside the allowance never.
 */
import { capSet, MAX_KEYS, MAX_LINE, type EngineHost, type Finding } from './engine.ts';
import type { Severity } from './config.ts';

/** The residual detector's settings (detectors file, `residuals:`). */
export interface ResidualConfig {
  /** allowance per message [scaled units]: residuals inside it never accumulate */
  k: number;
  /** decision threshold of either CUSUM sum [scaled units] */
  h: number;
  /** the scale is at least this share of the model's value */
  relativeFloor: number;
  /** …and at least this, in the tag's unit */
  absoluteFloor: number;
  severity: Severity;
  techniques: string[];
  cooldownS: number;
}

/** One value reported for a tag of the line. */
export interface Report {
  station: string;
  /** the tag's field name */
  field: string;
  value: number;
  /** the tag's unit, for the alert's text */
  unit: string;
  /** the deadband the twin publishes the tag with, in its unit (0: every change) */
  deadband: number;
  /** the face it came through (`mqtt`) */
  source: string;
  /** who reported it, as well as the face knows (`unverified@broker:1883` behind an external broker) */
  principal: string;
  /** where it was reported (the topic) */
  where: string;
  /** wall time it arrived [ms since the epoch] */
  ms: number;
}

/** A CUSUM's state for one tag. */
interface Sums {
  up: number;
  down: number;
  /** messages summed since the last reset */
  n: number;
  /** the first message of the current run of a sum above zero */
  since: number;
  /** the most scaled residual seen in that run */
  worst: number;
}

const round = (v: number): number => (Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100);

/** See the module comment. */
export class ResidualDetector {
  readonly name = 'residual';
  private readonly sums = new Map<string, Sums>();
  /** reports compared with the model */
  compared = 0;

  constructor(private readonly c: ResidualConfig, private readonly host: EngineHost) {}

  /** The scale of a tag's residual at model value `model`. */
  scale(r: Pick<Report, 'deadband'>, model: number): number {
    return Math.max(r.deadband, this.c.relativeFloor * Math.abs(model), this.c.absoluteFloor);
  }

  /** Compares one report with the model; a finding when a CUSUM sum passes `h`. */
  observe(r: Report): Finding[] {
    if (!Number.isFinite(r.value)) return [];
    const model = this.host.read(r.station, r.field);
    if (model === null) return [];
    this.compared++;
    const key = `${r.station}.${r.field}`;
    const s = this.sums.get(key) ?? { up: 0, down: 0, n: 0, since: r.ms, worst: 0 };
    const z = (r.value - model) / this.scale(r, model);
    if (s.up === 0 && s.down === 0) {
      s.since = r.ms;
      s.worst = 0;
      s.n = 0;
    }
    s.up = Math.max(0, s.up + z - this.c.k);
    s.down = Math.max(0, s.down - z - this.c.k);
    s.n++;
    if (Math.abs(z) > Math.abs(s.worst)) s.worst = z;
    capSet(this.sums, key, s, MAX_KEYS);
    if (s.up <= this.c.h && s.down <= this.c.h) return [];
    const side = s.up > this.c.h ? 'above' : 'below';
    const n = s.n;
    const since = s.since;
    this.sums.set(key, { up: 0, down: 0, n: 0, since: r.ms, worst: 0 });
    const u = r.unit === '' ? '' : ` ${r.unit}`;
    const line = `${r.where} = ${round(r.value)}${u} from ${r.principal} (${r.source}); the model holds ${round(model)}${u}; ${n} message${n === 1 ? '' : 's'} ${side} it by up to ${round(Math.abs(s.worst))}× the tag's noise`;
    return [{
      detector: this.name, rule: 'residual', severity: this.c.severity, techniques: this.c.techniques,
      title: `${key} reported ${side} what the model predicts (${round(r.value)}${u} against ${round(model)}${u}, CUSUM over ${n} message${n === 1 ? '' : 's'})`,
      station: r.station, principal: r.principal,
      evidence: { seqs: [], lines: [line.slice(0, MAX_LINE)] },
      firstEvidenceMs: since, cooldownKey: `residual|${key}|${side}`, cooldownS: this.c.cooldownS,
    }];
  }
}
