/**
 * The detectors' configuration file (YAML, `default.yaml` beside this module): allow-lists,
 * rate rules, physics rules and physics residuals. Every value is checked here, so a bad file is refused at the
 * host's start with the path of the bad value, never half-applied.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { TwinlineError } from '../../sim/core/errors.ts';
import { EVENT_TYPES } from '../../sim/core/events.ts';
import { T } from '../attacks/techniques.ts';
import type { ResidualConfig } from './residual.ts';

/** Alert severities, least to most severe. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The built-in configuration. */
export const DEFAULT_DETECTORS = fileURLToPath(new URL('./default.yaml', import.meta.url));

/** One allow-list entry: who (principal glob, role, sources) may send which commands and write which fields. */
export interface AllowEntry {
  principal: string | null;
  role: string | null;
  sources: string[] | null;
  commands: string[];
  fields: string[];
}

/**
 * What an event must be for a rule (every key given must hold; lists: any of; regular
 * expressions: found in the value, case-insensitive). `peer` is the address in the principal,
 * `field` and `writeLevel` the field a `set` command writes and its write level (operator,
 * engineer, safety), `minCount` a lower bound on the running count some audit entries carry.
 */
export interface Match {
  type: string[] | null;
  action: string[] | null;
  outcome: string[] | null;
  source: string[] | null;
  command: string[] | null;
  role: string[] | null;
  peer: string[] | null;
  writeLevel: string[] | null;
  principal: RegExp | null;
  target: RegExp | null;
  reason: RegExp | null;
  field: RegExp | null;
  minCount: number | null;
}

/** What a rule's events are counted and cooled down by (several: all of them together). */
export const RULE_KEYS = ['peer', 'principal', 'identity', 'source', 'station', 'target', 'command'] as const;
export type RuleKey = (typeof RULE_KEYS)[number];

/** A rate rule: `count` matching events in `windowS` from one key (`count` 1: every such event). */
export interface RateRule {
  id: string;
  title: string;
  match: Match;
  /** events that match this too are left out (null: none) */
  unless: Match | null;
  by: RuleKey[];
  count: number;
  windowS: number;
  /** after an alert, the same rule and key stays quiet this long [s] */
  cooldownS: number;
  severity: Severity;
  techniques: string[];
}

/** A recipe band: setpoint fields of a station kind paired with the recipe fields they must stay near. */
export interface RecipeBand {
  kind: string;
  pairs: Record<string, string>;
  /** tolerated distance between setpoint and recipe [the fields' unit, °C] */
  band: number;
}

/** The checked configuration. */
export interface DetectorConfig {
  allowList: { severity: Severity; techniques: string[]; setTechniques: string[]; cooldownS: number; entries: AllowEntry[] } | null;
  rates: RateRule[];
  physics: {
    recipeBands: RecipeBand[];
    bandSeverity: Severity;
    bandTechniques: string[];
    stops: { commands: string[]; usualSources: string[]; severity: Severity; techniques: string[] } | null;
    cooldownS: number;
  } | null;
  /** physics residuals of reported values (residual.ts) */
  residuals: ResidualConfig | null;
}

/** The keys of a rule's `match` and `unless`. */
const MATCH_KEYS = ['type', 'action', 'outcome', 'source', 'command', 'role', 'peer', 'writeLevel', 'principal', 'target', 'reason', 'field', 'minCount'] as const;

/** the file may be at most this big [bytes] */
const MAX_FILE = 256 * 1024;
/** rules and entries per list at most */
const MAX_RULES = 200;

type Obj = Record<string, unknown>;

function fail(file: string, path: string, msg: string): never {
  throw new TwinlineError('USAGE', `detectors: ${path}: ${msg}`, { file });
}

/** Parses and checks a configuration text; throws `TwinlineError` naming the bad value. */
export function parseDetectorConfig(text: string, file = '<detectors>'): DetectorConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    fail(file, '(file)', `not valid YAML (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  if (doc === null || doc === undefined) doc = {};
  const o = (v: unknown, path: string): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : fail(file, path, 'must be a mapping'));
  const root = o(doc, '(root)');
  const known = (m: Obj, keys: readonly string[], path: string): void => {
    for (const k of Object.keys(m)) if (!keys.includes(k)) fail(file, `${path}.${k}`, `unknown key (known: ${keys.join(', ')})`);
  };
  known(root, ['allowList', 'rates', 'physics', 'residuals'], '(root)');
  const strs = (v: unknown, path: string): string[] => {
    if (!Array.isArray(v) || v.length > MAX_RULES || !v.every((x) => typeof x === 'string' && x.length <= 200)) fail(file, path, 'must be a list of strings');
    return v as string[];
  };
  const optStrs = (v: unknown, path: string): string[] | null => (v === undefined ? null : strs(v, path));
  const num = (v: unknown, path: string, min: number, max: number, dflt?: number): number => {
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(file, path, `must be a number from ${min} to ${max}`);
    return v;
  };
  const sev = (v: unknown, path: string, dflt: Severity): Severity => {
    if (v === undefined) return dflt;
    if (typeof v !== 'string' || !(SEVERITIES as readonly string[]).includes(v)) fail(file, path, `must be one of ${SEVERITIES.join(', ')}`);
    return v as Severity;
  };
  const tech = (v: unknown, path: string): string[] => strs(v ?? [], path).map((name, k) => {
    const t = (T as Record<string, { id: string }>)[name];
    if (t === undefined) fail(file, `${path}[${k}]`, `no technique "${name}" in security/attacks/techniques.ts (known: ${Object.keys(T).join(', ')})`);
    return t.id;
  });
  const regex = (v: unknown, path: string): RegExp | null => {
    if (v === undefined) return null;
    if (typeof v !== 'string' || v.length > 300) fail(file, path, 'must be a regular expression (a string)');
    try {
      return new RegExp(v, 'i');
    } catch {
      fail(file, path, 'is not a valid regular expression');
    }
  };

  let allowList: DetectorConfig['allowList'] = null;
  if (root.allowList !== undefined) {
    const a = o(root.allowList, 'allowList');
    known(a, ['severity', 'techniques', 'setTechniques', 'cooldownS', 'entries'], 'allowList');
    if (!Array.isArray(a.entries) || a.entries.length > MAX_RULES) fail(file, 'allowList.entries', `must be a list (at most ${MAX_RULES})`);
    allowList = {
      severity: sev(a.severity, 'allowList.severity', 'high'), techniques: tech(a.techniques, 'allowList.techniques'),
      setTechniques: tech(a.setTechniques, 'allowList.setTechniques'), cooldownS: num(a.cooldownS, 'allowList.cooldownS', 0, 86_400, 60),
      entries: a.entries.map((e: unknown, k: number) => {
        const p = `allowList.entries[${k}]`;
        const m = o(e, p);
        known(m, ['principal', 'role', 'sources', 'commands', 'fields'], p);
        if (m.principal !== undefined && typeof m.principal !== 'string') fail(file, `${p}.principal`, 'must be a string (a glob)');
        if (m.role !== undefined && typeof m.role !== 'string') fail(file, `${p}.role`, 'must be a string');
        return {
          principal: (m.principal as string | undefined) ?? null, role: (m.role as string | undefined) ?? null, sources: optStrs(m.sources, `${p}.sources`),
          commands: strs(m.commands ?? [], `${p}.commands`), fields: strs(m.fields ?? [], `${p}.fields`),
        };
      }),
    };
  }

  const match = (v: unknown, path: string): Match => {
    const mt = o(v ?? {}, path);
    known(mt, MATCH_KEYS, path);
    const type = optStrs(mt.type, `${path}.type`);
    type?.forEach((t, k) => {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) fail(file, `${path}.type[${k}]`, `no event type "${t}" (known: ${EVENT_TYPES.join(', ')})`);
    });
    return {
      type, action: optStrs(mt.action, `${path}.action`), outcome: optStrs(mt.outcome, `${path}.outcome`), source: optStrs(mt.source, `${path}.source`),
      command: optStrs(mt.command, `${path}.command`), role: optStrs(mt.role, `${path}.role`), peer: optStrs(mt.peer, `${path}.peer`),
      writeLevel: optStrs(mt.writeLevel, `${path}.writeLevel`), principal: regex(mt.principal, `${path}.principal`), target: regex(mt.target, `${path}.target`),
      reason: regex(mt.reason, `${path}.reason`), field: regex(mt.field, `${path}.field`),
      minCount: mt.minCount === undefined ? null : Math.round(num(mt.minCount, `${path}.minCount`, 0, 1e9)),
    };
  };
  const keys = (v: unknown, path: string): RuleKey[] => {
    const list = v === undefined ? ['peer'] : typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.length === 0 || list.length > RULE_KEYS.length) fail(file, path, `must be one of ${RULE_KEYS.join(', ')}, or a list of them`);
    list.forEach((x: unknown, k: number) => {
      if (typeof x !== 'string' || !(RULE_KEYS as readonly string[]).includes(x)) fail(file, typeof v === 'string' ? path : `${path}[${k}]`, `must be one of ${RULE_KEYS.join(', ')}`);
    });
    return list as RuleKey[];
  };

  const rates: RateRule[] = [];
  if (root.rates !== undefined) {
    if (!Array.isArray(root.rates) || root.rates.length > MAX_RULES) fail(file, 'rates', `must be a list (at most ${MAX_RULES})`);
    root.rates.forEach((r: unknown, k: number) => {
      const p = `rates[${k}]`;
      const m = o(r, p);
      known(m, ['id', 'title', 'match', 'unless', 'by', 'count', 'windowS', 'cooldownS', 'severity', 'techniques'], p);
      if (typeof m.id !== 'string' || !/^[a-z0-9-]{1,60}$/.test(m.id)) fail(file, `${p}.id`, 'must be a kebab-case id');
      if (rates.some((x) => x.id === m.id)) fail(file, `${p}.id`, `"${m.id}" is used twice`);
      if (m.title !== undefined && (typeof m.title !== 'string' || m.title.length > 200)) fail(file, `${p}.title`, 'must be a string (at most 200 characters)');
      const windowS = num(m.windowS, `${p}.windowS`, 0.1, 86_400, 60);
      rates.push({
        id: m.id, title: typeof m.title === 'string' ? m.title : m.id,
        match: match(m.match, `${p}.match`), unless: m.unless === undefined ? null : match(m.unless, `${p}.unless`),
        by: keys(m.by, `${p}.by`), count: Math.round(num(m.count, `${p}.count`, 1, 10_000, 1)), windowS,
        cooldownS: num(m.cooldownS, `${p}.cooldownS`, 0, 86_400, windowS),
        severity: sev(m.severity, `${p}.severity`, 'medium'), techniques: tech(m.techniques, `${p}.techniques`),
      });
    });
  }

  let physics: DetectorConfig['physics'] = null;
  if (root.physics !== undefined) {
    const ph = o(root.physics, 'physics');
    known(ph, ['recipeBands', 'bandSeverity', 'bandTechniques', 'stops', 'cooldownS'], 'physics');
    const bands = ph.recipeBands ?? [];
    if (!Array.isArray(bands) || bands.length > MAX_RULES) fail(file, 'physics.recipeBands', 'must be a list');
    let stops: NonNullable<DetectorConfig['physics']>['stops'] = null;
    if (ph.stops !== undefined) {
      const s = o(ph.stops, 'physics.stops');
      known(s, ['commands', 'usualSources', 'severity', 'techniques'], 'physics.stops');
      stops = {
        commands: strs(s.commands, 'physics.stops.commands'), usualSources: strs(s.usualSources, 'physics.stops.usualSources'),
        severity: sev(s.severity, 'physics.stops.severity', 'high'), techniques: tech(s.techniques, 'physics.stops.techniques'),
      };
    }
    physics = {
      recipeBands: bands.map((b: unknown, k: number) => {
        const p = `physics.recipeBands[${k}]`;
        const m = o(b, p);
        known(m, ['kind', 'pairs', 'band'], p);
        if (typeof m.kind !== 'string') fail(file, `${p}.kind`, 'must be a station kind (kiln, induction-furnace …)');
        const pairs = o(m.pairs, `${p}.pairs`);
        for (const [sp, rc] of Object.entries(pairs)) if (typeof rc !== 'string') fail(file, `${p}.pairs.${sp}`, 'must name the recipe field');
        return { kind: m.kind, pairs: pairs as Record<string, string>, band: num(m.band, `${p}.band`, 0, 1e6) };
      }),
      bandSeverity: sev(ph.bandSeverity, 'physics.bandSeverity', 'critical'), bandTechniques: tech(ph.bandTechniques, 'physics.bandTechniques'),
      stops, cooldownS: num(ph.cooldownS, 'physics.cooldownS', 0, 86_400, 60),
    };
  }
  let residuals: ResidualConfig | null = null;
  if (root.residuals !== undefined) {
    const r = o(root.residuals, 'residuals');
    known(r, ['k', 'h', 'relativeFloor', 'absoluteFloor', 'severity', 'techniques', 'cooldownS'], 'residuals');
    residuals = {
      k: num(r.k, 'residuals.k', 0, 100, 0.5), h: num(r.h, 'residuals.h', 0.1, 1e6, 5),
      relativeFloor: num(r.relativeFloor, 'residuals.relativeFloor', 0, 1, 0.005), absoluteFloor: num(r.absoluteFloor, 'residuals.absoluteFloor', 1e-9, 1e9, 0.01),
      severity: sev(r.severity, 'residuals.severity', 'high'), techniques: tech(r.techniques, 'residuals.techniques'),
      cooldownS: num(r.cooldownS, 'residuals.cooldownS', 0, 86_400, 60),
    };
  }
  return { allowList, rates, physics, residuals };
}

/** Reads and checks a configuration file (the built-in one when `file` is omitted). */
export function loadDetectorConfig(file: string = DEFAULT_DETECTORS): DetectorConfig {
  let text: string;
  try {
    const buf = readFileSync(file);
    if (buf.length > MAX_FILE) throw new TwinlineError('CAPACITY', `detectors: the file is ${buf.length} bytes; at most ${MAX_FILE}`, { file });
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof TwinlineError) throw e;
    throw new TwinlineError('IO', `detectors: cannot read the file (${(e as { code?: string }).code ?? String(e)})`, { file });
  }
  return parseDetectorConfig(text, file);
}

/** The rule ids alerts of a configuration may carry (`Alert.rule`): the allow-list's, the rate rules', the physics rules', the residuals'. */
export function ruleIds(c: DetectorConfig): string[] {
  return [...(c.allowList !== null ? ['write', 'command'] : []), ...c.rates.map((r) => r.id), ...(c.physics !== null ? ['recipe-band', 'stop-source'] : []), ...(c.residuals !== null ? ['residual'] : [])];
}
