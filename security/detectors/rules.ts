/**
 * The detector families: allow-lists of who may command what from where; rates, bursts and
 * signatures over the event log and the audit trail in sliding windows (the faces' own
 * observations among them: sessions and the channel they run over, logins, takeovers, browse,
 * identify and read counts); and physics (a setpoint written out of its recipe band, a station
 * stopped from an unusual face). Each takes one checked event at a time and returns findings;
 * the engine numbers, stamps and cools them down.
 */
import type { DetectorConfig, Match, RateRule, RuleKey } from './config.ts';
import { capSet, evidenceLine, MAX_KEYS, str, type DetEvent, type Detector, type EngineHost, type Finding } from './engine.ts';

/** compiled globs, by pattern (the patterns are the configuration's: a bounded set) */
const GLOBS = new Map<string, RegExp>();

/** `*`-globs of a config list matched against a value (case-sensitive; `*` = any characters). */
export function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*')) return pattern === value;
  let re = GLOBS.get(pattern);
  if (re === undefined) {
    re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (GLOBS.size < 10_000) GLOBS.set(pattern, re);
  }
  return re.test(value);
}

/** The network address a principal names (`user@10.0.0.5:4711` → `10.0.0.5`), else the principal. */
export function peerOfPrincipal(p: string): string {
  let s = p.includes('@') ? p.slice(p.lastIndexOf('@') + 1) : p;
  s = s.split('#')[0] ?? s;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(s);
  if (v4 !== null) return v4[1]!;
  const v6 = /^\[(.+)\]:\d+$/.exec(s);
  return v6 !== null ? v6[1]! : s;
}

/** The `args` of a command event (a JSON text), or {} when it is not one. */
function argsOf(e: DetEvent): Record<string, unknown> {
  const a = e.data.args;
  if (typeof a !== 'string' || a.length > 10_000) return {};
  try {
    const v: unknown = JSON.parse(a);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** (a) Accepted commands checked against the declared allow-list. */
export class AllowListDetector implements Detector {
  readonly name = 'allow-list';
  constructor(private readonly c: NonNullable<DetectorConfig['allowList']>) {}

  onEvent(e: DetEvent): Finding[] {
    if (e.type !== 'command') return [];
    const source = str(e, 'source');
    const principal = str(e, 'principal');
    const role = str(e, 'role');
    const command = str(e, 'command');
    const field = command === 'set' ? String(argsOf(e).field ?? '') : '';
    const who = this.c.entries.filter((a) => (a.principal === null || globMatch(a.principal, principal))
      && (a.role === null || a.role === role) && (a.sources === null || a.sources.includes(source)));
    const permitted = who.some((a) => a.commands.some((p) => globMatch(p, command)) && (command !== 'set' || a.fields.some((p) => globMatch(p, field))));
    if (permitted) return [];
    const what = command === 'set' ? `write of ${e.station ?? 'line'}.${field}` : `command ${command} to ${e.station ?? 'the line'}`;
    const why = who.length === 0 ? `no allow-list entry for ${role === '' ? 'no role' : `role ${role}`} from ${source}` : 'outside the entries that match it';
    return [{
      detector: this.name, rule: command === 'set' ? 'write' : 'command', severity: this.c.severity,
      techniques: command === 'set' && this.c.setTechniques.length > 0 ? this.c.setTechniques : this.c.techniques,
      title: `${what} by ${principal || '?'} (${source}): ${why}`, station: e.station, principal,
      evidence: { seqs: [e.seq], lines: [evidenceLine(e)] }, firstEvidenceMs: e.ms,
      cooldownKey: `allow|${principal}|${command}|${field}|${e.station ?? ''}`, cooldownS: this.c.cooldownS,
    }];
  }
}

/**
 * Who a principal is, without what changes from one connection to the next (the port, an OPC
 * UA session id): `anonymous@ns=1;g=…@10.0.0.5:4711` → `anonymous@10.0.0.5`,
 * `viewer/hmi-1@10.0.0.5:5000` → `viewer/hmi-1@10.0.0.5` (an MQTT client id is part of who it
 * is), `?@10.0.0.5:4711#ab12…` → `?@10.0.0.5#ab12…` (a certificate thumbprint too).
 */
export function identityOfPrincipal(p: string): string {
  if (!p.includes('@')) return p;
  const user = p.slice(0, p.indexOf('@'));
  const hash = p.indexOf('#', p.lastIndexOf('@'));
  return `${user}@${peerOfPrincipal(p)}${hash < 0 ? '' : p.slice(hash)}`;
}

/** One entry of a sliding window. */
interface Hit { seq: number; ms: number; line: string }

/** What rules read of one event, each computed once and only when a rule asks. */
class Facts {
  private argsMemo: Record<string, unknown> | null = null;
  constructor(readonly e: DetEvent, private readonly host: EngineHost) {}

  str(key: string): string {
    return str(this.e, key);
  }

  get args(): Record<string, unknown> {
    if (this.argsMemo === null) this.argsMemo = argsOf(this.e);
    return this.argsMemo;
  }

  /** the field a `set` writes ('' otherwise) */
  get field(): string {
    const f = this.str('command') === 'set' ? this.args.field : undefined;
    return typeof f === 'string' ? f.slice(0, 100) : '';
  }

  get writeLevel(): string {
    const f = this.field;
    return f === '' || this.e.station === null ? '' : (this.host.writeLevel?.(this.e.station, f) ?? '');
  }

  get count(): number {
    const c = this.e.data.count;
    return typeof c === 'number' && Number.isFinite(c) ? c : -1;
  }

  key(k: RuleKey): string {
    const principal = this.str('principal');
    switch (k) {
      case 'peer': return peerOfPrincipal(principal);
      case 'principal': return principal;
      case 'identity': return identityOfPrincipal(principal);
      case 'station': return this.e.station ?? '';
      case 'target': return this.str('target');
      case 'command': return this.str('command') === 'set' ? `set ${this.field}` : this.str('command');
      case 'source': return this.str('source');
    }
  }
}

/** Whether `f`'s event matches every key of `m` (no closures: this runs for every event a rule's type admits). */
function holds(m: Match, f: Facts): boolean {
  if (m.type !== null && !m.type.includes(f.e.type)) return false;
  if (m.action !== null && !m.action.includes(f.str('action'))) return false;
  if (m.outcome !== null && !m.outcome.includes(f.str('outcome'))) return false;
  if (m.source !== null && !m.source.includes(f.str('source'))) return false;
  if (m.command !== null && !m.command.includes(f.str('command'))) return false;
  if (m.role !== null && !m.role.includes(f.str('role'))) return false;
  if (m.minCount !== null && f.count < m.minCount) return false;
  if (m.peer !== null && !m.peer.includes(peerOfPrincipal(f.str('principal')))) return false;
  if (m.writeLevel !== null && !m.writeLevel.includes(f.writeLevel)) return false;
  if (m.principal !== null && !m.principal.test(f.str('principal'))) return false;
  if (m.target !== null && !m.target.test(f.str('target'))) return false;
  if (m.reason !== null && !m.reason.test(f.str('reason'))) return false;
  return m.field === null || m.field.test(f.field);
}

/** What an event was, in a few words, for an alert's title. */
function what(f: Facts): string {
  const e = f.e;
  const parts: string[] = [];
  const principal = f.str('principal');
  if (e.type === 'audit') parts.push(`${f.str('source')} ${f.str('action')} ${f.str('outcome')}`);
  else if (e.type === 'command' || e.type === 'rejected') parts.push(`${f.str('source')} ${f.key('command')}${e.type === 'rejected' ? ' (rejected)' : ''}`);
  else parts.push(e.type);
  if (e.station !== null) parts.push(`on ${e.station}`);
  const target = f.str('target');
  if (target !== '') parts.push(`on ${target.slice(0, 120)}`);
  if (principal !== '') parts.push(`by ${principal.slice(0, 120)}`);
  if (f.count >= 0) parts.push(`(count ${f.count})`);
  return parts.join(' ');
}

/**
 * (b) Rates, bursts and signatures: `count` matching events from one key (its `by`) within a
 * sliding window; a rule of count 1 fires on every matching event (as its cool-down allows).
 * Rules are indexed by the event types they name, so the events of the process (parts,
 * states, KPIs) cost a map lookup each.
 */
export class RateDetector implements Detector {
  readonly name = 'rate';
  /** per rule: key → the last `count` hits (capped at `MAX_KEYS` keys) */
  private readonly windows: Map<string, Hit[]>[];
  /** rule indices by event type; `any` for rules that name none */
  private readonly byType = new Map<string, number[]>();
  private readonly any: number[] = [];
  constructor(private readonly rules: readonly RateRule[], private readonly host: EngineHost) {
    this.windows = rules.map(() => new Map());
    rules.forEach((r, k) => {
      if (r.match.type === null) this.any.push(k);
      else for (const t of r.match.type) this.byType.set(t, [...(this.byType.get(t) ?? []), k]);
    });
  }

  onEvent(e: DetEvent): Finding[] {
    const typed = this.byType.get(e.type);
    if (typed === undefined && this.any.length === 0) return [];
    const f = new Facts(e, this.host);
    const out: Finding[] = [];
    for (const k of typed ?? []) this.apply(k, f, out);
    for (const k of this.any) this.apply(k, f, out);
    return out;
  }

  private apply(k: number, f: Facts, out: Finding[]): void {
    const r = this.rules[k]!;
    if (!holds(r.match, f) || (r.unless !== null && holds(r.unless, f))) return;
    const e = f.e;
    const key = r.by.map((b) => f.key(b)).join(' ');
    const m = this.windows[k]!;
    const hits = m.get(key) ?? [];
    const from = e.ms - r.windowS * 1000;
    const kept = hits.filter((h) => h.ms >= from);
    kept.push({ seq: e.seq, ms: e.ms, line: evidenceLine(e) });
    // only the last `count` hits can decide the next alert
    if (kept.length > r.count) kept.splice(0, kept.length - r.count);
    capSet(m, key, kept, MAX_KEYS);
    if (kept.length < r.count) return;
    m.delete(key);
    out.push({
      detector: this.name, rule: r.id, severity: r.severity, techniques: r.techniques,
      title: r.count === 1 ? `${r.title}: ${what(f)}` : `${r.title}: ${r.count} in ${r.windowS} s from ${key || '?'} (the last: ${what(f)})`,
      station: e.station, principal: key,
      evidence: { seqs: kept.map((h) => h.seq), lines: kept.map((h) => h.line) }, firstEvidenceMs: kept[0]!.ms,
      cooldownKey: `rate|${r.id}|${key}`, cooldownS: r.cooldownS,
    });
  }
}

/** (c) Physics: setpoints against the recipe band, stops from unusual faces. */
export class PhysicsDetector implements Detector {
  readonly name = 'physics';
  private readonly kinds: Map<string, string>;
  constructor(private readonly c: NonNullable<DetectorConfig['physics']>, private readonly host: EngineHost) {
    this.kinds = new Map(host.stations.map((s) => [s.id, s.kind]));
  }

  onEvent(e: DetEvent): Finding[] {
    if (e.type !== 'command' || e.station === null) return [];
    const command = str(e, 'command');
    const source = str(e, 'source');
    const principal = str(e, 'principal');
    const base = { station: e.station, principal, evidence: { seqs: [e.seq], lines: [evidenceLine(e)] }, firstEvidenceMs: e.ms, cooldownS: this.c.cooldownS };
    const stops = this.c.stops;
    if (stops !== null && stops.commands.includes(command) && !stops.usualSources.includes(source)) {
      return [{
        ...base, detector: this.name, rule: 'stop-source', severity: stops.severity, techniques: stops.techniques,
        title: `${e.station} ${command} from ${source} (${principal || '?'}); its operators use ${stops.usualSources.join(', ')}`,
        cooldownKey: `stop|${e.station}|${source}|${principal}`,
      }];
    }
    if (command !== 'set') return [];
    const args = argsOf(e);
    const field = typeof args.field === 'string' ? args.field : '';
    const value = typeof args.value === 'number' ? args.value : Number(args.value);
    const kind = this.kinds.get(e.station);
    if (field === '' || !Number.isFinite(value) || kind === undefined) return [];
    const out: Finding[] = [];
    for (const b of this.c.recipeBands) {
      if (b.kind !== kind) continue;
      for (const [sp, recipe] of Object.entries(b.pairs)) {
        // a setpoint written against the recipe, or a recipe written against the setpoint
        const spv = field === sp ? value : field === recipe ? this.host.read(e.station, sp) : null;
        const rv = field === recipe ? value : field === sp ? this.host.read(e.station, recipe) : null;
        if (spv === null || rv === null || !Number.isFinite(spv) || !Number.isFinite(rv)) continue;
        const off = spv - rv;
        if (Math.abs(off) <= b.band) continue;
        out.push({
          ...base, detector: this.name, rule: 'recipe-band', severity: this.c.bandSeverity, techniques: this.c.bandTechniques,
          title: `${e.station}.${sp} ${Math.round(spv * 10) / 10} is ${Math.round(Math.abs(off))} ${off > 0 ? 'above' : 'below'} the recipe ${recipe} ${Math.round(rv * 10) / 10} (band ±${b.band}); written by ${principal || '?'} (${source})`,
          // the setpoint moved off the recipe and the recipe moved off the setpoint are two findings
          cooldownKey: `band|${e.station}|${sp}|${field}`,
        });
      }
    }
    return out;
  }
}
