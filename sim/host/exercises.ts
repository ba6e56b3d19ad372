/**
 * Scripted incident exercises on the running twin, for the instructor: `GET /api/exercises`
 * lists the exercise files written for this line (security/exercises/, the scenario's id must
 * match), `POST /api/exercises/start {"id"}` starts one, `…/pause` holds it (the line pauses,
 * and the exercise's clock with it: attacks due and the time limit wait), `…/resume`, `…/end`
 * ends it early. It ends by itself when the trainees have done every phase of the playbook or
 * its time is up. Then the report (en and zh) and the score are written to the run's folder
 * (`exercises/<n>-<id>/`) and `GET /api/exercises/report?lang=en|zh` serves the report.
 * `GET /api/exercises/current` is the exercise's state for the web twin's range panel.
 *
 * The exercise drives the range through this host's own REST plane over loopback, as the
 * starting instructor (a token of theirs, revoked at the end), exactly as
 * `twinline exercise run` drives a twin of its own; the labelled dataset is that command's
 * (it needs the run's records complete, i.e. the twin stopped: `twinline dataset last`).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenStore, Who } from './http-auth.ts';
import { readJson } from './http-guard.ts';
import { refuse, reply, type RefusalAudit } from './rest.ts';
import type { AuditEntry } from '../core/commands.ts';
import type { Exercise } from '../../security/exercise/exercise.ts';
import type { Launched } from '../../security/exercise/run.ts';

/** the built-in exercises */
export const EXERCISES_DIR = fileURLToPath(new URL('../../security/exercises/', import.meta.url));
/** progress lines kept per exercise */
const MAX_LOG = 200;

/** What the exercises need of the host. */
export interface ExerciseHost {
  /** the running line's scenario id */
  scenario: string;
  /** the run's folder (exercises/<n>-<id>/ is made in it) */
  runDir: string;
  /** the host's web address as bound */
  web(): string | null;
  tokens: TokenStore;
  /** pauses (true) or resumes (false) the line */
  pauseLine(paused: boolean): Promise<void>;
  /** appends an audit entry to the line's event log */
  audit(a: AuditEntry): void;
  /** where the exercise files are (default: the built-in folder) */
  dir?: string;
}

/** An exercise's state as `GET /api/exercises/current` gives it. */
export interface ExerciseState {
  n: number;
  id: string;
  title: { en: string; zh: string };
  by: string;
  state: 'running' | 'paused' | 'concluding' | 'ended' | 'failed';
  startedAtMs: number;
  /** exercise time so far [s] (pauses left out) */
  elapsedS: number;
  durationS: number;
  attacks: { atS: number; attack: string; station: string | null; launched: Launched | null }[];
  ended: string | null;
  score: { detection: number; containment: number | null; recovery: number; production: number; total: number } | null;
  detection: { detected: boolean; ttdMs: number | null; firstAlert: string | null } | null;
  level: string | null;
  playbook: string | null;
  /** the report's path for `GET /api/exercises/report`, once written */
  report: boolean;
  log: string[];
  error: string | null;
}

interface Current {
  st: ExerciseState;
  ex: Exercise;
  abort: AbortController;
  /** wall time the exercise started [ms] */
  t0: number;
  pausedTotal: number;
  pausedAt: number | null;
  /** paused time after the first attack [ms] (the score's line time leaves it out) */
  pausedAfterFirst: number;
  dir: string;
}

type Identified = Extract<Who, { ok: true }>;

/** See the module comment. */
export class Exercises {
  private cur: Current | null = null;
  private next = 1;

  constructor(private readonly host: ExerciseHost) {}

  /** The exercise files for this line, checked (a file that does not load is left out, with why). */
  async list(): Promise<{ exercises: Exercise[]; problems: string[] }> {
    const { loadExercise } = await import('../../security/exercise/exercise.ts');
    const dir = this.host.dir ?? EXERCISES_DIR;
    const exercises: Exercise[] = [];
    const problems: string[] = [];
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
    } catch (e) {
      problems.push(`${dir}: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const f of files) {
      try {
        const ex = loadExercise(join(dir, f));
        if (ex.scenarioId === this.host.scenario) exercises.push(ex);
      } catch (e) {
        problems.push(`${f}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    }
    return { exercises, problems };
  }

  /** Whether an exercise is running or paused (it owns the line's pace then). */
  busy(): boolean {
    const s = this.cur?.st.state;
    return s === 'running' || s === 'paused' || s === 'concluding';
  }

  /** Ends what runs (the host is stopping). */
  close(): void {
    this.cur?.abort.abort();
  }

  private elapsed(c: Current): number {
    return Date.now() - c.t0 - c.pausedTotal - (c.pausedAt === null ? 0 : Date.now() - c.pausedAt);
  }

  private view(): ExerciseState | null {
    const c = this.cur;
    if (c === null) return null;
    if (c.st.state === 'running' || c.st.state === 'paused') c.st.elapsedS = Math.round(this.elapsed(c) / 100) / 10;
    return c.st;
  }

  /** Handles `/api/exercises…` for a caller the REST plane has identified. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, who: Identified, refusals: RefusalAudit, peer: string): Promise<void> {
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    if (who.role !== 'instructor') {
      const reason = `exercises are the instructor's (${who.user} is ${who.role})`;
      refusals.note(`${peer}|exercises|${who.principal}`, { source: 'api', principal: who.principal, action: 'exercise', outcome: 'denied', target: route.slice(0, 200), reason });
      return refuse(res, { status: 403, code: 'NOT_AUTHORIZED', message: reason });
    }
    switch (route) {
      case 'GET /api/exercises': {
        const { exercises, problems } = await this.list();
        return reply(res, 200, {
          exercises: exercises.map((e) => ({ id: e.id, title: e.title, profile: e.profile, speed: e.speed, durationS: e.durationS, attacks: e.attacks })),
          problems, current: this.view(),
        });
      }
      case 'GET /api/exercises/current':
        return reply(res, 200, { current: this.view() });
      case 'POST /api/exercises/start':
        return this.start(req, res, who);
      case 'POST /api/exercises/pause':
      case 'POST /api/exercises/resume':
        return this.pause(res, who, route.endsWith('pause'));
      case 'POST /api/exercises/end': {
        const c = this.cur;
        if (c === null || (c.st.state !== 'running' && c.st.state !== 'paused')) return refuse(res, { status: 409, code: 'NOT_RUNNING', message: 'no exercise is running' });
        if (c.pausedAt !== null) await this.pause(null, who, false);
        c.abort.abort();
        this.host.audit({ source: 'api', principal: who.principal, action: 'exercise', outcome: 'allowed', target: c.st.id, reason: 'ended by the instructor' });
        return reply(res, 200, { current: this.view() });
      }
      case 'GET /api/exercises/report': {
        const c = this.cur;
        const lang = url.searchParams.get('lang') === 'zh' ? 'zh' : 'en';
        if (c === null || !c.st.report) return refuse(res, { status: 404, code: 'NOT_FOUND', message: 'no exercise report yet (an exercise writes it when it ends)' });
        const html = readFileSync(join(c.dir, lang === 'zh' ? 'report.zh.html' : 'report.html'));
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'" });
        res.end(html);
        return;
      }
      default:
        return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no route ${route.slice(0, 200)} (GET /api/exercises, GET /api/exercises/current, POST /api/exercises/start|pause|resume|end, GET /api/exercises/report?lang=en|zh)` });
    }
  }

  private async pause(res: ServerResponse | null, who: Identified, on: boolean): Promise<void> {
    const c = this.cur;
    const want = on ? 'running' : 'paused';
    if (c === null || c.st.state !== want) {
      if (res !== null) refuse(res, { status: 409, code: 'NOT_RUNNING', message: on ? 'no exercise is running' : 'no exercise is paused' });
      return;
    }
    const now = Date.now();
    await this.host.pauseLine(on);
    if (on) c.pausedAt = now;
    else if (c.pausedAt !== null) {
      c.pausedTotal += now - c.pausedAt;
      if (c.st.attacks.some((a) => a.launched !== null)) c.pausedAfterFirst += now - c.pausedAt;
      c.pausedAt = null;
    }
    c.st.state = on ? 'paused' : 'running';
    this.host.audit({ source: 'api', principal: who.principal, action: 'exercise', outcome: 'allowed', target: c.st.id, reason: on ? 'paused (the line paused)' : 'resumed' });
    if (res !== null) reply(res, 200, { current: this.view() });
  }

  private async start(req: IncomingMessage, res: ServerResponse, who: Identified): Promise<void> {
    const body = await readJson(req);
    if (!body.ok) return refuse(res, body.refusal);
    const b = body.value as { id?: unknown } | null;
    if (typeof b !== 'object' || b === null || Array.isArray(b) || typeof b.id !== 'string') return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'the body must be {"id": string} (GET /api/exercises lists them)' });
    const { exercises } = await this.list();
    const ex = exercises.find((e) => e.id === b.id);
    if (ex === undefined) return refuse(res, { status: 404, code: 'UNKNOWN_EXERCISE', message: `no exercise "${b.id.slice(0, 100)}" for this line (${exercises.map((e) => e.id).join(', ') || 'none'}: GET /api/exercises)` });
    if (this.cur !== null && (this.cur.st.state === 'running' || this.cur.st.state === 'paused' || this.cur.st.state === 'concluding')) {
      return refuse(res, { status: 409, code: 'BUSY', message: `exercise ${this.cur.st.n} (${this.cur.st.id}) is still ${this.cur.st.state}: one at a time` });
    }
    const web = this.host.web();
    if (web === null) return refuse(res, { status: 409, code: 'FACE_OFF', message: 'the host has no web address yet' });
    const n = this.next++;
    const t0 = Date.now();
    const c: Current = {
      ex, abort: new AbortController(), t0, pausedTotal: 0, pausedAt: null, pausedAfterFirst: 0, dir: join(this.host.runDir, 'exercises', `${n}-${ex.id}`),
      st: {
        n, id: ex.id, title: ex.title, by: who.principal, state: 'running', startedAtMs: t0, elapsedS: 0, durationS: ex.durationS,
        attacks: ex.attacks.map((a) => ({ ...a, launched: null })), ended: null, score: null, detection: null, level: null, playbook: null, report: false, log: [], error: null,
      },
    };
    this.cur = c;
    this.host.audit({ source: 'api', principal: who.principal, action: 'exercise', outcome: 'allowed', target: ex.id, reason: `started: ${ex.title.en} (${ex.attacks.length} attack${ex.attacks.length === 1 ? '' : 's'}, at most ${ex.durationS} s)` });
    reply(res, 202, { current: this.view() });
    void this.run(c, who, web);
  }

  /** Drives the exercise and concludes it; never throws (a failure is its state). */
  private async run(c: Current, who: Identified, web: string): Promise<void> {
    const { driveExercise, concludeExercise, exerciseCall } = await import('../../security/exercise/run.ts');
    const { token } = this.host.tokens.issue({ user: who.user, role: who.role });
    const call = exerciseCall(new URL(web), { headers: { authorization: `Bearer ${token}` } });
    const log = (line: string): void => {
      c.st.log.push(line);
      if (c.st.log.length > MAX_LOG) c.st.log.shift();
    };
    try {
      const driven = await driveExercise({
        exercise: c.ex, call, signal: c.abort.signal, log, pollMs: 500, elapsed: () => this.elapsed(c),
        onChange: (launched) => {
          // the schedule's entries in order, each with the launch that was its
          launched.forEach((l, k) => {
            const slot = c.st.attacks[k];
            if (slot !== undefined) slot.launched = { ...l };
          });
        },
      });
      c.st.state = 'concluding';
      c.st.elapsedS = Math.round(this.elapsed(c) / 100) / 10;
      c.st.ended = driven.ended;
      const r = await concludeExercise({ exercise: c.ex, call, driven, out: c.dir, web, pausedMs: c.pausedAfterFirst });
      writeFileSync(r.files.score, `${JSON.stringify(r, null, 2)}\n`);
      Object.assign(c.st, { score: r.score, detection: r.detection, level: r.level, playbook: r.playbook, report: true, state: 'ended' });
      log(`score ${r.score.total}: detection ${r.score.detection}, containment ${r.score.containment ?? '–'}, recovery ${r.score.recovery}, production ${r.score.production}`);
      this.host.audit({ source: 'api', principal: who.principal, action: 'exercise', outcome: 'allowed', target: c.ex.id, reason: `ended (${driven.ended}): score ${r.score.total}` });
    } catch (e) {
      c.st.state = 'failed';
      c.st.error = e instanceof Error ? e.message : String(e);
      log(`failed: ${c.st.error}`);
      this.host.audit({ source: 'api', principal: who.principal, action: 'exercise', outcome: 'failed', target: c.ex.id, reason: c.st.error.slice(0, 300) });
    } finally {
      this.host.tokens.revoke(token);
      if (c.pausedAt !== null) await this.host.pauseLine(false).catch(() => undefined);
    }
  }
}
