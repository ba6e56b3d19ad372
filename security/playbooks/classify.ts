/**
 * Grades an incident as the emergency plan does: the level (I–IV) and its warning colour from
 * the impact the twin measured (the most serious level any one of whose thresholds is
 * reached; level IV when none is), and the playbook that answers its alerts (the one whose
 * detector rules and techniques the alerts match best, weighted by severity). The playbook's
 * phases come back with their deadlines at that level, absolute from the detection time, and
 * each step's action body with `${station}`, `${account}`, `${mqttClient}` and `${face}`
 * filled in from the alerts. Pure: no clock, no I/O.
 */
import { ISOLATABLE, PLACEHOLDER, type ActionArgs } from '../respond/actions.ts';
import { LEVEL_INFO, LEVELS, type Bilingual, type Book, type Colour, type Impact, type Level, type Metric, type Phase, type Playbook } from './playbook.ts';

/** An alert as `classify` reads it (security/detectors/engine.ts `Alert`). */
export interface AlertLike {
  id?: number;
  detector: string;
  rule: string;
  severity: string;
  /** ATT&CK for ICS technique ids */
  techniques: readonly string[];
  station: string | null;
  principal: string;
  evidence?: { lines: readonly string[] };
  /** wall time the alert was raised [ms since the epoch] */
  alertMs: number;
}

/** A step as the responders should carry it out now. */
export interface PlannedStep {
  id: string;
  /** `phase.step`, as the action log's `step` names it */
  step: string;
  by: string;
  title: Bilingual;
  do: string | null;
  /** the action's body, placeholders filled in where the alerts tell */
  with: ActionArgs;
  /** placeholders the alerts could not fill */
  unresolved: string[];
  /** the step applies to this incident: its `when` holds and every placeholder is filled */
  applies: boolean;
}

/** A phase with its deadline at the incident's level. */
export interface PlannedPhase {
  id: Phase;
  title: Bilingual;
  lead: string;
  deadlineS: number;
  /** detection time + the deadline [ms since the epoch], or null without alerts */
  dueAtMs: number | null;
  steps: PlannedStep[];
}

/** The grading of an incident. */
export interface Classification {
  /** an alert was raised, or the impact reached level III or above */
  incident: boolean;
  level: Level;
  name: Bilingual;
  colour: Colour;
  colourName: Bilingual;
  /** why this level: the thresholds reached, or that none of levels I–III was */
  reasons: string[];
  impact: Impact;
  playbook: { id: string; title: Bilingual; file: string } | null;
  /** alerts the playbook answers, of `alerts` */
  matched: number;
  alerts: number;
  /** when the incident was detected: its first answered alert (else its first alert) [ms since the epoch] */
  detectedAtMs: number | null;
  phases: PlannedPhase[];
}

const SEVERITY_WEIGHT: Readonly<Record<string, number>> = { low: 1, medium: 2, high: 3, critical: 4 };
/** a rule named by the playbook counts this much more than one shared technique */
const RULE_WEIGHT = 3;

/** The level the impact reaches, and the thresholds that put it there. */
export function gradeImpact(impact: Impact, grading: Book['grading']): { level: Level; reasons: string[] } {
  for (const level of ['I', 'II', 'III'] as const) {
    const reached = Object.entries(grading.thresholds[level])
      .filter(([m, t]) => impact[m as Metric] >= t)
      .map(([m, t]) => `${m} ${impact[m as Metric]} ≥ ${t} (level ${level})`);
    if (reached.length > 0) return { level, reasons: reached };
  }
  return { level: 'IV', reasons: ['no threshold of levels I–III reached'] };
}

/** How well `p` answers `a` (0: not at all). */
export function matchScore(p: Playbook, a: AlertLike): number {
  const rule = p.match.rules.includes(a.rule) ? RULE_WEIGHT : 0;
  const tech = a.techniques.filter((t) => p.match.techniques.includes(t)).length;
  return (rule + tech) * (SEVERITY_WEIGHT[a.severity] ?? 1);
}

/** The account and MQTT client id a principal names: `user/client@peer` (MQTT), `user@…` (REST, OPC UA). */
export function principalParts(p: string): { account: string | null; mqttClient: string | null } {
  const mqtt = /^([^/@\s]+)\/([^@\s]+)(@.*)?$/.exec(p);
  if (mqtt !== null) return { account: mqtt[1]!, mqttClient: mqtt[2]! };
  const at = /^([^@\s]+)@/.exec(p);
  // `modbus@peer` names no account: Modbus has none
  if (at !== null && at[1] !== 'modbus' && at[1] !== '?') return { account: at[1]!, mqttClient: null };
  return { account: null, mqttClient: null };
}

/** `key=value` of an evidence line (`#12 command kiln source=opcua principal=…`). */
function evidenceField(a: AlertLike, key: string): string | null {
  for (const line of a.evidence?.lines ?? []) {
    const m = new RegExp(`(?:^| )${key}=(\\S+)`).exec(line);
    if (m !== null) return m[1]!;
  }
  return null;
}

/** What the placeholders stand for in this incident, from its lead alert first. */
function facts(alerts: readonly AlertLike[]): Record<string, string | null> {
  const out: Record<string, string | null> = { station: null, account: null, mqttClient: null, face: null };
  for (const a of alerts) {
    out.station ??= a.station;
    const who = principalParts(a.principal);
    const fromEvidence = principalParts(evidenceField(a, 'principal') ?? '');
    out.account ??= who.account ?? fromEvidence.account;
    out.mqttClient ??= who.mqttClient ?? fromEvidence.mqttClient;
    const source = evidenceField(a, 'source');
    if (out.face === null && source !== null && (ISOLATABLE as readonly string[]).includes(source)) out.face = source;
  }
  return out;
}

function fill(args: ActionArgs, f: Record<string, string | null>): { with: ActionArgs; unresolved: string[] } {
  const unresolved: string[] = [];
  const sub = (s: string): string => s.replace(PLACEHOLDER, (whole, name: string) => {
    const v = f[name];
    if (v === null || v === undefined) {
      if (!unresolved.includes(name)) unresolved.push(name);
      return whole;
    }
    return v;
  });
  const out: ActionArgs = {};
  for (const [k, v] of Object.entries(args)) out[k] = typeof v === 'string' ? sub(v) : Array.isArray(v) ? v.map(sub) : v;
  return { with: out, unresolved };
}

/** See the module comment. */
export function classify(input: { alerts: readonly AlertLike[]; impact: Impact }, book: Pick<Book, 'grading' | 'playbooks'>): Classification {
  const { alerts, impact } = input;
  const { level, reasons } = gradeImpact(impact, book.grading);
  let best: Playbook | null = null;
  let bestScore = 0;
  for (const p of book.playbooks) {
    const score = alerts.reduce((s, a) => s + matchScore(p, a), 0);
    if (score > bestScore) {
      best = p;
      bestScore = score;
    }
  }
  const answered = best === null ? [] : alerts.filter((a) => matchScore(best!, a) > 0);
  // the lead alert first: the most severe, then the earliest
  const lead = [...answered].sort((x, y) => (SEVERITY_WEIGHT[y.severity] ?? 0) - (SEVERITY_WEIGHT[x.severity] ?? 0) || x.alertMs - y.alertMs);
  const times = (answered.length > 0 ? answered : alerts).map((a) => a.alertMs).filter(Number.isFinite);
  const detectedAtMs = times.length > 0 ? Math.min(...times) : null;
  const f = facts([...lead, ...alerts]);
  const info = LEVEL_INFO[level];
  return {
    incident: alerts.length > 0 || LEVELS.indexOf(level) < LEVELS.indexOf('IV'),
    level, name: info.name, colour: info.colour, colourName: info.colourName, reasons, impact,
    playbook: best === null ? null : { id: best.id, title: best.title, file: best.file },
    matched: answered.length, alerts: alerts.length, detectedAtMs,
    phases: (best?.phases ?? []).map((ph) => ({
      id: ph.id, title: ph.title, lead: ph.lead, deadlineS: ph.deadlineS[level],
      dueAtMs: detectedAtMs === null ? null : detectedAtMs + ph.deadlineS[level] * 1000,
      steps: ph.steps.map((s) => {
        const filled = fill(s.with, f);
        const when = s.when === 'always' || (s.when === 'account') === (f.account !== null);
        return { id: s.id, step: `${ph.id}.${s.id}`, by: s.by, title: s.title, do: s.do, ...filled, applies: when && filled.unresolved.length === 0 };
      }),
    })),
  };
}
