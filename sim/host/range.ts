/**
 * The security range from the web twin: `GET /api/attacks` lists the attack library, `POST
 * /api/attacks/run {"id","station"?}` runs one in this host process against this host's own
 * faces (loopback targets built from the ports it bound: the target guard still checks them),
 * and `GET /api/attacks/runs[/<n>]` give each run's status, progress and report.
 *
 * Instructor only: any other role is refused (403) and the refusal audited. One run at a time
 * (409 while one runs); the last MAX_RUNS runs are kept. The range's instrument (the observer
 * that measures the impact and puts the line back) is the instructor who launched the run, with
 * a token of its own revoked afterwards. The run's start and end are audit entries (source
 * `attack`) in the event log, so the live feed carries them; while it runs, the network monitor
 * marks the attacked face's traffic as the attack's. Each run is also recorded as it starts and
 * as it ends (`AttackRecord`: wall and line time at both ends, outcome), which `serve` appends to
 * `attacks.ndjson` in the run's folder: the labels of a dataset (`twinline dataset`). The library
 * is imported on first use, so `serve` starts as fast as without it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEntry } from '../core/commands.ts';
import type { ATTACKS, attackById } from '../../security/attacks/index.ts';
import type { AttackReport, runAttack } from '../../security/attacks/run.ts';
import type { Attack } from '../../security/attacks/types.ts';
import type { Who } from './http-auth.ts';
import type { TokenStore } from './http-auth.ts';
import { readJson } from './http-guard.ts';
import type { AttackMark } from './network.ts';
import { refuse, reply, type RefusalAudit } from './rest.ts';

/** runs kept (newest first) */
export const MAX_RUNS = 50;
/** progress lines kept per run */
const MAX_PROGRESS = 60;

/** One run of an attack from the web twin. */
export interface RangeRun {
  /** 1, 2, … in the order they were launched */
  n: number;
  attack: string;
  title: string;
  techniques: string[];
  face: Attack['face'];
  /** the station aimed at (default: the line's first kiln) */
  station: string;
  /** who launched it (`user@peer`) */
  by: string;
  /** the attack's changes are undone after it (false: left in place for the responders, as an exercise does) */
  cleanup: boolean;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  endedAt: string | null;
  /** the run's progress lines, as `twinline attack run` prints them */
  progress: string[];
  /** the report, once done */
  report: AttackReport | null;
  /** why it could not run (failed) */
  error: string | null;
}

/**
 * One line of `attacks.ndjson`: a run as it starts (`event: "start"`, the end fields null) and
 * as it ends (`event: "end"`). Times: wall [ms since the epoch] and the line's tick and sim time
 * [s] read from the world when the run began and when it was over (cleanup included).
 */
export interface AttackRecord {
  event: 'start' | 'end';
  run: number;
  attack: string;
  title: string;
  face: Attack['face'];
  station: string;
  techniques: string[];
  by: string;
  startedAtMs: number;
  startTick: number;
  startSimS: number;
  endedAtMs: number | null;
  endTick: number | null;
  endSimS: number | null;
  /** running at the start; then done or failed */
  status: RangeRun['status'];
  /** the report's outcome (`succeeded`, `blocked` …), `failed` when the run could not complete, null at the start */
  outcome: string | null;
  error: string | null;
}

/** What the range needs of its host. */
export interface RangeHost {
  /** the range's home (the attack library's work folders are temporary) */
  home: string;
  stations: readonly string[];
  /** the station an attack aims at when none is named (the line's first kiln, as `twinline attack run`) */
  defaultStation: string;
  /** the host's faces as bound: web address, OPC UA endpoint, MQTT and Modbus URLs; null when off */
  faces(): { http: string | null; opcua: string | null; mqtt: string | null; modbus: string | null };
  tokens: TokenStore;
  /** appends an audit entry to the line's event log */
  audit(a: AuditEntry): void;
  /** drains what the line logged so far to the run log */
  flush(): Promise<void>;
  /** the network monitor's attack marking */
  net: { attackStarted(m: AttackMark): void; attackEnded(): void };
  /** the line's clock now: tick and sim time [s] */
  clock(): { tick: number; simS: number };
  /** records a run's start and end (`attacks.ndjson`) */
  record(r: AttackRecord): void;
}

/** the library and the runner, as imported on first use */
interface Library {
  ATTACKS: typeof ATTACKS;
  attackById: typeof attackById;
}
interface Runner {
  runAttack: typeof runAttack;
}

/**
 * A target on loopback for a face the host bound: a wildcard listen address (every interface)
 * is reached on loopback; any other address is kept as it is, for the target guard to judge.
 */
export function loopbackTarget(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  else if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.protocol === 'opc.tcp:' ? u.href.replace(/\/$/, '') : u.href;
}

/** See the module comment. */
export class Range {
  private readonly runs: RangeRun[] = [];
  private running: RangeRun | null = null;
  private next = 1;
  private lib: Promise<[Library, Runner]> | null = null;

  constructor(private readonly host: RangeHost) {}

  /** The library and the runner, imported on first use. */
  private load(): Promise<[Library, Runner]> {
    this.lib ??= Promise.all([import('../../security/attacks/index.ts'), import('../../security/attacks/run.ts')]);
    return this.lib;
  }

  /** The run going on, with its start [ms since the epoch], or null. */
  current(): { run: number; attack: string; startedAtMs: number } | null {
    const r = this.running;
    return r === null ? null : { run: r.n, attack: r.attack, startedAtMs: Date.parse(r.startedAt) };
  }

  /** Handles `/api/attacks…` for a caller the REST plane has identified. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, who: Extract<Who, { ok: true }>, refusals: RefusalAudit, peer: string): Promise<void> {
    const route = `${req.method ?? 'GET'} ${path}`;
    if (who.role !== 'instructor') {
      const reason = `the range's attacks are for the instructor role (${who.user} is ${who.role})`;
      refusals.note(`${peer}|attacks|${who.principal}`, { source: 'api', principal: who.principal, action: 'attack', outcome: 'denied', target: route.slice(0, 200), reason });
      return refuse(res, { status: 403, code: 'NOT_AUTHORIZED', message: reason });
    }
    if (route === 'GET /api/attacks') {
      const [{ ATTACKS }] = await this.load();
      return reply(res, 200, {
        attacks: ATTACKS.map((a) => ({
          id: a.id, title: a.title, techniques: a.techniques.map((t) => ({ id: t.id, name: t.name, tactic: t.tactic })), face: a.face,
          preconditions: a.preconditions, steps: a.steps, expectedImpact: a.expectedImpact,
        })),
        running: this.running?.n ?? null,
      });
    }
    if (route === 'POST /api/attacks/run') return this.start(req, res, who);
    if (route === 'GET /api/attacks/runs') return reply(res, 200, { running: this.running?.n ?? null, runs: this.runs });
    const m = /^GET \/api\/attacks\/runs\/(\d{1,9})$/.exec(route);
    if (m !== null) {
      const run = this.runs.find((r) => r.n === Number(m[1]));
      if (run === undefined) return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no run ${m[1]} (the last ${MAX_RUNS} runs are kept: GET /api/attacks/runs)` });
      return reply(res, 200, run);
    }
    return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no route ${route.slice(0, 200)} (GET /api/attacks, POST /api/attacks/run, GET /api/attacks/runs[/<n>])` });
  }

  private async start(req: IncomingMessage, res: ServerResponse, who: Extract<Who, { ok: true }>): Promise<void> {
    const body = await readJson(req);
    if (!body.ok) return refuse(res, body.refusal);
    const b = body.value as { id?: unknown; station?: unknown; cleanup?: unknown } | null;
    if (typeof b !== 'object' || b === null || Array.isArray(b) || typeof b.id !== 'string' || (b.station !== undefined && typeof b.station !== 'string') || (b.cleanup !== undefined && typeof b.cleanup !== 'boolean')) {
      return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'the body must be {"id": string, "station"?: string, "cleanup"?: boolean} (GET /api/attacks lists the ids)' });
    }
    const [lib, runner] = await this.load();
    const attack = lib.attackById(b.id);
    if (attack === undefined) return refuse(res, { status: 404, code: 'UNKNOWN_ATTACK', message: `no attack "${b.id.slice(0, 100)}" (GET /api/attacks lists them: ${lib.ATTACKS.map((a) => a.id).join(', ')})` });
    const station = b.station ?? this.host.defaultStation;
    if (!this.host.stations.includes(station)) {
      return refuse(res, { status: 400, code: 'UNKNOWN_TARGET', message: `the line has no station "${station.slice(0, 100)}" (stations: ${this.host.stations.join(', ')})` });
    }
    if (this.running !== null) {
      return refuse(res, { status: 409, code: 'BUSY', message: `run ${this.running.n} (${this.running.attack}) is still running: one attack at a time` });
    }
    const faces = this.host.faces();
    const own = attack.face === 'rest' ? faces.http : faces[attack.face];
    if (own === null || faces.http === null) {
      return refuse(res, { status: 409, code: 'FACE_OFF', message: `${attack.id} goes through ${attack.face}, which this host does not serve` });
    }
    const run: RangeRun = {
      n: this.next++, attack: attack.id, title: attack.title, techniques: attack.techniques.map((t) => t.id), face: attack.face, station, by: who.principal,
      cleanup: b.cleanup !== false, status: 'running', startedAt: new Date().toISOString(), endedAt: null, progress: [], report: null, error: null,
    };
    this.running = run;
    this.runs.unshift(run);
    if (this.runs.length > MAX_RUNS) this.runs.length = MAX_RUNS;
    const targets = attack.face === 'rest' ? [loopbackTarget(faces.http)] : [loopbackTarget(own), loopbackTarget(faces.http)];
    reply(res, 202, { run: run.n, status: run.status, href: `api/attacks/runs/${run.n}` });
    void this.execute(run, attack, runner, targets, who);
  }

  /** Runs the attack; never throws (a failure is the run's status). */
  private async execute(run: RangeRun, attack: Attack, runner: Runner, targets: string[], who: Extract<Who, { ok: true }>): Promise<void> {
    const note = (a: Omit<AuditEntry, 'source' | 'principal' | 'action'>): void => this.host.audit({ source: 'attack', principal: who.principal, action: 'attack', ...a });
    const target = `${attack.id} → ${run.station} (run ${run.n})`;
    const progress = (line: string): void => {
      if (run.progress.length < MAX_PROGRESS) run.progress.push(line);
    };
    // the observer's own token, revoked by its close(): the instrument is the launching instructor
    const { token } = this.host.tokens.issue({ user: who.user, role: who.role });
    const began = this.host.clock();
    const base = {
      run: run.n, attack: run.attack, title: run.title, face: run.face, station: run.station, techniques: run.techniques, by: run.by,
      startedAtMs: Date.parse(run.startedAt), startTick: began.tick, startSimS: began.simS,
    };
    this.host.record({ event: 'start', ...base, endedAtMs: null, endTick: null, endSimS: null, status: 'running', outcome: null, error: null });
    try {
      note({ outcome: 'allowed', target, reason: `started: ${attack.title}` });
      // the start is in the log before the observer marks where the attack's events begin
      await this.host.flush();
      this.host.net.attackStarted({
        id: attack.id, title: attack.title, face: attack.face === 'rest' ? 'api' : attack.face, station: run.station, observer: `${who.user}@`,
      });
      const report = await runner.runAttack({
        id: attack.id, targets, home: this.host.home, observerToken: { token, user: who.user, role: who.role }, log: progress, station: run.station, cleanup: run.cleanup,
      });
      run.report = report;
      run.status = 'done';
      const impact = Object.entries(report.impact).slice(0, 6).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
      note({ outcome: 'allowed', target, reason: `${report.outcome} in ${(report.durationMs / 1000).toFixed(1)} s: ${impact}` });
    } catch (e) {
      run.status = 'failed';
      run.error = e instanceof Error ? e.message : String(e);
      progress(`failed: ${run.error}`);
      note({ outcome: 'failed', target, reason: run.error });
    } finally {
      this.host.tokens.revoke(token);
      this.host.net.attackEnded();
      run.endedAt = new Date().toISOString();
      const ended = this.host.clock();
      this.host.record({
        event: 'end', ...base, endedAtMs: Date.parse(run.endedAt), endTick: ended.tick, endSimS: ended.simS, status: run.status,
        outcome: run.status === 'done' ? (run.report?.outcome ?? null) : 'failed', error: run.error,
      });
      this.running = null;
    }
  }
}
