/**
 * Incident response on the REST plane of `twinline serve`, behind the same front door as every
 * route (Host and Origin checks, a credential from the account store, JSON bodies only):
 *
 * - `POST /api/respond/<action>` performs a containment or recovery action on the range for
 *   real (security/respond/actions.ts lists them): engineer and instructor only (a `note` also
 *   the operator); a bad body is a 400 naming the field; each action returns what it did, goes
 *   to the action log (`respond.ndjson`, `GET /api/respond/log`) with wall time, tick,
 *   principal, target and result, and to the audit trail.
 * - `GET /api/respond`: what is banned and isolated, the snapshots, the actions.
 * - `GET /api/incident?from=MS&to=MS`: the impact measured over the window and its grading
 *   (level, colour, playbook, phases with deadlines) from the alerts raised in it.
 * - `GET /api/playbooks`: the playbooks and the grading in force.
 *
 * Every role may read; refusals are audited (throttled per peer and reason).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clip, ROLES, type AuditEntry, type Role } from '../core/commands.ts';
import type { AlertLog } from '../../security/detectors/alert-log.ts';
import type { Alert } from '../../security/detectors/engine.ts';
import { ACTION_SPECS, ACTIONS, actionUsage, checkArgs, isAction, type ActionArgs, type ActionName, type IsolatableFace } from '../../security/respond/actions.ts';
import type { ActionLog, ActionResult } from '../../security/respond/action-log.ts';
import { classify } from '../../security/playbooks/classify.ts';
import type { ImpactMeter } from '../../security/playbooks/impact.ts';
import { LEVEL_INFO, METRICS, PHASE_TITLES, type Book } from '../../security/playbooks/playbook.ts';
import type { Containment } from './containment.ts';
import type { Who } from './http-auth.ts';
import { readJson } from './http-guard.ts';
import type { LineActions, LineOutcome } from './respond-line.ts';
import { refuse, reply, type RefusalAudit } from './rest.ts';

/** With no alert to start from, an incident's window reaches back this far [ms]. */
export const DEFAULT_WINDOW_MS = 15 * 60_000;
/** alerts further apart than this belong to different incidents [ms] */
export const INCIDENT_GAP_MS = 15 * 60_000;
/** action records one page returns at most */
const MAX_PAGE = 1000;

/** What the responder needs of its host. */
export interface ResponderHost {
  containment: Containment;
  line: LineActions;
  log: ActionLog;
  meter: ImpactMeter;
  /** the playbooks and grading; null with `--playbooks off` */
  book: Book | null;
  alerts: AlertLog | null;
  /** the role of an account of the store (revoked ones too), or null when there is none */
  accountRole(user: string): Role | null;
  /** the faces this host serves */
  faces(): Record<IsolatableFace, boolean>;
  audit(a: AuditEntry): void;
  /** the line's tick now */
  tick(): number;
  now?(): number;
}

type Caller = Extract<Who, { ok: true }>;

/** A refusal found while performing: status, code, message and the field at fault. */
interface Bad {
  status: number;
  code: string;
  message: string;
  field: string;
}

/** What an action did. */
interface Done {
  target: string;
  result: ActionResult;
  did: string[];
  problems: string[];
}

const bad = (status: number, code: string, field: string, message: string): Bad => ({ status, code, field, message });

/** `done`, `partial` or `failed` from what a line action did and could not do. */
function resultOf(o: LineOutcome): ActionResult {
  if (o.problems.length === 0) return o.did.length === 0 ? 'no-op' : 'done';
  return o.did.length === 0 ? 'failed' : 'partial';
}

/** See the module comment. */
export class Responder {
  private readonly now: () => number;
  constructor(private readonly h: ResponderHost) {
    this.now = h.now ?? Date.now;
  }

  /** Whether the responder answers `path`. */
  owns(path: string): boolean {
    return path === '/api/respond' || path.startsWith('/api/respond/') || path === '/api/incident' || path === '/api/playbooks';
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, who: Caller, refusals: RefusalAudit, peer: string): Promise<void> {
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    if (route === 'GET /api/respond') return reply(res, 200, this.state());
    if (route === 'GET /api/respond/log') {
      const since = Number(url.searchParams.get('since') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 200);
      if (!Number.isInteger(since) || since < 0) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'since must be an action seq (an integer ≥ 0)' });
      return reply(res, 200, this.h.log.page(since, Number.isFinite(limit) ? Math.min(MAX_PAGE, Math.max(1, Math.floor(limit))) : 200));
    }
    if (route === 'GET /api/incident') return this.incident(res, url);
    if (route === 'GET /api/playbooks') return reply(res, 200, this.playbooks());
    const m = /^POST \/api\/respond\/([a-z-]{1,40})$/.exec(route);
    if (m === null || !isAction(m[1]!)) {
      return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no route ${route.slice(0, 200)}; actions: POST /api/respond/<${ACTIONS.join('|')}>` });
    }
    const name = m[1] as ActionName;
    const spec = ACTION_SPECS[name];
    if (!spec.roles.includes(who.role)) {
      const reason = `${name} is for the ${spec.roles.join(' and ')} roles (${who.user} is ${who.role})`;
      refusals.note(`${peer}|respond|${who.principal}`, { source: 'api', principal: who.principal, action: `respond ${name}`, outcome: 'denied', target: url.pathname, reason });
      return refuse(res, { status: 403, code: 'NOT_AUTHORIZED', message: reason });
    }
    const body = await readJson(req);
    if (!body.ok) {
      refusals.note(`${peer}|${body.refusal.code}`, { source: 'api', principal: who.principal, action: `respond ${name}`, outcome: 'denied', target: url.pathname, reason: body.refusal.message });
      return refuse(res, body.refusal);
    }
    const checked = checkArgs(name, body.value);
    if (!checked.ok) return reply(res, 400, { error: { code: 'BAD_ARGUMENT', field: checked.field, message: checked.message } });
    const atMs = this.now();
    const tick = this.h.tick();
    let out: Done | Bad;
    try {
      out = await this.perform(name, checked.args, who);
    } catch (e) {
      out = { target: name, result: 'failed', did: [], problems: [e instanceof Error ? e.message : String(e)] };
    }
    if ('status' in out) return reply(res, out.status, { error: { code: out.code, field: out.field, message: out.message } });
    const record = this.h.log.add({
      action: name, step: typeof checked.args.step === 'string' ? checked.args.step : null, atMs, at: new Date(atMs).toISOString(), doneMs: this.now(), tick,
      principal: who.principal, user: who.user, role: who.role, target: out.target, args: checked.args, result: out.result, did: out.did, problems: out.problems,
    });
    this.h.audit({
      source: 'api', principal: who.principal, action: `respond ${name}`, outcome: out.result === 'failed' ? 'failed' : 'allowed', target: out.target,
      reason: clip(`${out.result}${typeof checked.args.step === 'string' ? ` (${checked.args.step})` : ''}: ${[...out.did, ...out.problems].join('; ')}`, 480),
    });
    return reply(res, out.result === 'failed' ? 409 : 200, { ok: out.result !== 'failed', action: record });
  }

  private async perform(name: ActionName, a: ActionArgs, who: Caller): Promise<Done | Bad> {
    const reason = typeof a.reason === 'string' ? a.reason : '';
    const actor = { principal: who.principal, role: who.role };
    const c = this.h.containment;
    switch (name) {
      case 'ban':
      case 'unban': {
        const kind = a.account !== undefined ? 'account' : 'mqttClient';
        const id = String(a[kind]);
        const target = `${kind === 'account' ? 'account' : 'MQTT client id'} ${id}`;
        if (name === 'unban') {
          const lifted = c.unban(kind, id);
          return { target, result: lifted ? 'done' : 'no-op', did: [lifted ? `${target}: ban lifted` : `${target} was not banned`], problems: [] };
        }
        if (kind === 'account' && id === who.user) return bad(409, 'SELF', 'account', `banning "${id}" would lock out the responder asking (${who.principal}); ban from another account`);
        const role = kind === 'account' ? this.h.accountRole(id) : null;
        if (role !== null && ROLES.indexOf(role) > ROLES.indexOf(who.role)) {
          return bad(403, 'NOT_AUTHORIZED', 'account', `"${id}" is an ${role}'s account: an ${who.role} may not ban it (an ${role} may)`);
        }
        let r: { added: boolean; closed: string[] };
        try {
          r = await c.ban(kind, id, who.principal, reason);
        } catch (e) {
          return bad(409, 'TOO_MANY', kind, e instanceof Error ? e.message : String(e));
        }
        const faces = kind === 'account' ? 'REST, the live socket, OPC UA and MQTT' : 'MQTT';
        const did = [r.added ? `${target} refused on ${faces} from now on` : `${target} was banned already`, ...r.closed];
        if (kind === 'account' && id !== 'anonymous' && role === null) did.push(`no account "${id}" in the store: the name is refused should it be added`);
        return { target, result: r.added || r.closed.length > 0 ? 'done' : 'no-op', did, problems: [] };
      }
      case 'close-sessions': {
        const match = a.user !== undefined ? { user: String(a.user) } : { session: String(a.session) };
        const target = match.user !== undefined ? `OPC UA sessions of ${match.user}` : `OPC UA session ${match.session}`;
        const closed = await c.closeOpcua(match);
        if (closed === null) return bad(409, 'FACE_OFF', match.user !== undefined ? 'user' : 'session', 'this host serves no OPC UA');
        return { target, result: closed.length > 0 ? 'done' : 'no-op', did: closed.length > 0 ? closed : [`no open session of ${match.user ?? match.session}`], problems: [] };
      }
      case 'isolate':
      case 'reconnect': {
        const face = a.face as IsolatableFace;
        if (!this.h.faces()[face]) return bad(409, 'FACE_OFF', 'face', `this host serves no ${face} face`);
        const target = `face ${face}`;
        if (name === 'reconnect') {
          const lifted = c.reconnect(face);
          return { target, result: lifted ? 'done' : 'no-op', did: [lifted ? `${face} takes writes and commands again` : `${face} was not isolated`], problems: [] };
        }
        const changed = c.isolate(face, who.principal, reason);
        return { target, result: changed ? 'done' : 'no-op', did: [changed ? `${face} takes no writes or commands from now on (reads and subscriptions go on)` : `${face} was isolated already`], problems: [] };
      }
      case 'stop-station':
      case 'resume-station': {
        const station = String(a.station);
        if (!this.h.line.has(station)) return bad(400, 'UNKNOWN_TARGET', 'station', `the line has no station "${station}" (stations: ${this.h.line.stations.join(', ')})`);
        const o = name === 'stop-station' ? await this.h.line.stop(actor, station, a.manual === true) : await this.h.line.resume(actor, station);
        const st = this.h.line.status(station);
        return { target: `station ${station}`, result: resultOf(o), did: [...o.did, `now ${st.state} in ${st.mode}`], problems: o.problems };
      }
      case 'snapshot': {
        const snap = this.h.line.take(typeof a.label === 'string' ? a.label : `taken by ${who.user}`);
        const fields = Object.values(snap.values).reduce((n, v) => n + Object.keys(v).length, 0);
        return { target: `snapshot ${snap.id}`, result: 'done', did: [`snapshot ${snap.id} "${snap.label}": ${fields} fields of ${Object.keys(snap.values).length} stations at tick ${snap.tick}`], problems: [] };
      }
      case 'restore-setpoints': {
        const ref = typeof a.snapshot === 'string' ? a.snapshot : 'start';
        const snap = this.h.line.find(ref);
        if (snap === null) return bad(400, 'UNKNOWN_SNAPSHOT', 'snapshot', `no snapshot "${ref}" (snapshots: ${this.h.line.snapshots().map((s) => s.id).join(', ')}; or start, latest)`);
        const stations = Array.isArray(a.stations) ? a.stations : [...this.h.line.stations];
        const unknown = stations.findIndex((s) => !this.h.line.has(s));
        if (unknown >= 0) return bad(400, 'UNKNOWN_TARGET', `stations[${unknown}]`, `the line has no station "${stations[unknown]}" (stations: ${this.h.line.stations.join(', ')})`);
        const o = await this.h.line.restore(actor, snap, stations, a.safety === true);
        const target = `snapshot ${snap.id} → ${Array.isArray(a.stations) ? stations.join(', ') : 'every station'}`;
        return { target, result: resultOf(o), did: o.did.length === 0 && o.problems.length === 0 ? [`nothing differs from snapshot ${snap.id}`] : o.did, problems: o.problems };
      }
      case 'note':
        return { target: typeof a.step === 'string' ? a.step : 'note', result: 'done', did: [String(a.text)], problems: [] };
    }
  }

  /** What is shut now, the snapshots, the actions. */
  private state(): unknown {
    return {
      ...this.h.containment.state(),
      snapshots: this.h.line.snapshots(),
      actions: actionUsage(),
      log: { logged: this.h.log.logged, file: this.h.log.file },
      playbooks: this.h.book === null ? null : this.h.book.playbooks.map((p) => p.id),
    };
  }

  /** The alerts of the latest incident: the last run of alerts less than `INCIDENT_GAP_MS` apart. */
  private defaultFrom(all: readonly Alert[], now: number): number {
    if (all.length === 0) return now - DEFAULT_WINDOW_MS;
    const sorted = [...all].sort((x, y) => x.alertMs - y.alertMs);
    let k = sorted.length - 1;
    while (k > 0 && sorted[k]!.alertMs - sorted[k - 1]!.alertMs <= INCIDENT_GAP_MS) k--;
    // the window begins with the first evidence of the burst's alerts: the attack's first step
    return Math.min(...sorted.slice(k).map((x) => x.firstEvidenceMs));
  }

  private incident(res: ServerResponse, url: URL): void {
    const now = this.now();
    const num = (name: string): number | null | undefined => {
      const raw = url.searchParams.get(name);
      if (raw === null) return undefined;
      const v = Number(raw);
      return Number.isFinite(v) && v >= 0 ? v : null;
    };
    const fromQ = num('from');
    const toQ = num('to');
    if (fromQ === null) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'from must be a wall time [ms since the epoch] ≥ 0' });
    if (toQ === null) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'to must be a wall time [ms since the epoch] ≥ 0' });
    const all = this.h.alerts?.page(0, 100_000).alerts ?? [];
    const from = fromQ ?? this.defaultFrom(all, now);
    const to = Math.min(toQ ?? now, now);
    if (from > to) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `from (${from}) is after to (${to})` });
    const alerts = all.filter((a) => a.alertMs >= from && a.alertMs <= to);
    const start = this.h.line.find('start');
    const measured = this.h.meter.measure(from, to, {
      ...(now - to < 1000 ? { toTick: this.h.tick() } : {}),
      setpointsOff: start === null ? 0 : this.h.line.differing(start).length,
    });
    const classification = this.h.book === null ? null : classify({ alerts, impact: measured.impact }, this.h.book);
    return reply(res, 200, {
      window: measured.window, partial: measured.partial, impact: measured.impact, stations: measured.stations,
      alerts: alerts.map((a) => ({ id: a.id, detector: a.detector, rule: a.rule, severity: a.severity, techniques: a.techniques, station: a.station, principal: a.principal, alertMs: a.alertMs })),
      classification,
      ...(classification === null ? { note: 'the host runs without playbooks (--playbooks off): the impact is measured, not graded' } : {}),
    });
  }

  private playbooks(): unknown {
    const b = this.h.book;
    if (b === null) return { dir: null, playbooks: [], grading: null, levels: LEVEL_INFO, phases: PHASE_TITLES, metrics: METRICS };
    return { dir: b.dir, grading: b.grading, levels: LEVEL_INFO, phases: PHASE_TITLES, metrics: METRICS, playbooks: b.playbooks };
  }
}
