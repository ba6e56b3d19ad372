/**
 * Lessons on the running twin (`/api/lesson…`): the trainer's console and the trainees' view.
 *
 * - `GET /api/lesson` (every role): the lessons written for the served line
 *   (scenarios/lessons/, `line:` is this line) and the lesson in progress as the caller sees it:
 *   the step's prompt, its faults, its checkpoints with their figures, the caller's answers and
 *   score, the class's score; the instructor also gets the board of every trainee.
 * - `POST /api/lesson/start {"id"}`, `POST /api/lesson/step {"step": k}`, `POST /api/lesson/end`
 *   (instructor, audited `action: lesson`). Ending writes the session report
 *   (`lessons/<n>-<id>/report.json` and `scores.csv` in the run's folder), served by
 *   `GET /api/lesson/report?format=json|csv`.
 * - `POST /api/lesson/answer {"checkpoint", "answer"}` (every role): a trainee answers a
 *   question of the current or an earlier step; the twin judges it at once (three attempts).
 *
 * Figures. Every step's line is **predicted** as soon as the lesson starts: it runs in a worker
 * (2 seeds, 8 h after a 3 h warm-up, as `lesson check` runs it), one line after the other. The
 * questions are judged on the prediction of their step's line, so a trainee is scored against
 * the line's steady state, not against the few minutes the live twin has run since the lesson
 * began (the bottleneck of the last five minutes is noise). Targets of a step on the served line
 * read the live KPIs, latched when first met, rise and fall measured against the figures when
 * the lesson started: the class reaches them on the running twin. Targets of a step whose line
 * has retrofit steps the served twin does not have read the prediction (rise and fall against
 * the predicted baseline). The twin's answers are never shown to trainees before the lesson has
 * ended.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AuditEntry } from '../core/commands.ts';
import type { LineKpis } from '../core/kpi.ts';
import type { Checkpoint } from '../line/lesson-schema.ts';
import { answerRight, figureOf, goalOf, targetMet, truthOf, type LessonFigures } from '../line/lesson.ts';
import type { LineSpec } from '../line/types.ts';
import type { Who } from './http-auth.ts';
import { readJson } from './http-guard.ts';
import { figuresOfKpis, figuresOfRuns, firstStepOf, lessonIds, lineJobs, loadLesson, type LessonDirs, type LoadedLesson, type StepLine } from './lessons.ts';
import { refuse, reply, type RefusalAudit } from './rest.ts';

type Identified = Extract<Who, { ok: true }>;

/** attempts a trainee has at one question */
export const MAX_ATTEMPTS = 3;
/** trainees whose answers one lesson keeps (every account could answer; anonymous callers share one) */
export const MAX_TRAINEES = 500;

/** What the workshop needs of the host. */
export interface WorkshopHost {
  /** the served line */
  spec: LineSpec;
  /** the live KPIs and simulated time */
  state(): Promise<{ kpis: LineKpis; simTimeS: number }>;
  /** the run's folder (lessons/<n>-<id>/ is made in it) */
  runDir: string;
  audit(a: AuditEntry): void;
  dirs?: LessonDirs;
  /** how a step's line is predicted (default: 2 seeds, 8 h after a 3 h warm-up) */
  predict?: { seeds: number; hours: number; warmupS: number };
}

type Prediction = { state: 'running' } | { state: 'ready'; figures: LessonFigures } | { state: 'failed'; error: string };

interface Answer {
  given: string | number;
  right: boolean;
  attempts: number;
  simS: number;
}

interface Active {
  n: number;
  loaded: LoadedLesson;
  by: string;
  step: number;
  startedAtMs: number;
  endedAtMs: number | null;
  start: LessonFigures;
  /** targets met, and when [simulated s] */
  met: Map<string, number>;
  answers: Map<string, Map<string, Answer>>;
  dir: string;
}

/** A trainee's answer as the host shows it, with the attempts left. */
const yoursOf = (a: Answer | undefined): (Answer & { attemptsLeft: number }) | null => (a === undefined ? null : { ...a, attemptsLeft: a.right ? 0 : MAX_ATTEMPTS - a.attempts });

const fail = (e: unknown): Prediction => ({ state: 'failed', error: e instanceof Error ? e.message : String(e) });

/** The workshop's routes and state; one lesson at a time. */
export class Workshop {
  private cur: Active | null = null;
  private n = 0;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private loaded: { lessons: LoadedLesson[]; problems: string[] } | null = null;
  /** predictions by step line, kept for the host's life (a line's steady state does not change) */
  private readonly predictions = new Map<string, Prediction>();
  private readonly firstSteps = new Map<string, Prediction>();

  constructor(private readonly host: WorkshopHost) {}

  owns(pathname: string): boolean {
    return pathname === '/api/lesson' || pathname.startsWith('/api/lesson/');
  }

  /** The lessons for the served line, and the problems of the lesson files that do not load; read once (loading builds each step's line). */
  lessons(): { lessons: LoadedLesson[]; problems: string[] } {
    if (this.loaded !== null) return this.loaded;
    const lessons: LoadedLesson[] = [];
    const problems: string[] = [];
    for (const id of lessonIds(this.host.dirs?.dir)) {
      try {
        const l = loadLesson(id, this.host.dirs);
        if (l.lines[0]?.spec.id === this.host.spec.id) lessons.push(l);
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e));
      }
    }
    this.loaded = { lessons, problems };
    return this.loaded;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, who: Identified, refusals: RefusalAudit, peer: string): Promise<void> {
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    if (route === 'GET /api/lesson') {
      const { lessons, problems } = this.lessons();
      return reply(res, 200, {
        lessons: lessons.map(({ lesson: l }) => ({ id: l.id, title: l.title, summary: l.summary, minutes: l.minutes, steps: l.steps.length })),
        ...(who.role === 'instructor' ? { problems } : {}),
        current: await this.view(who),
      });
    }
    if (route === 'POST /api/lesson/answer') return this.answer(req, res, who);
    if (!['POST /api/lesson/start', 'POST /api/lesson/step', 'POST /api/lesson/end', 'GET /api/lesson/report'].includes(route)) {
      return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no route ${route.slice(0, 200)} (GET /api/lesson, POST /api/lesson/start|step|end|answer, GET /api/lesson/report?format=json|csv)` });
    }
    if (who.role !== 'instructor') {
      const reason = `running a lesson is the instructor's (${who.user} is ${who.role})`;
      refusals.note(`${peer}|lesson|${who.principal}`, { source: 'api', principal: who.principal, action: 'lesson', outcome: 'denied', target: route.slice(0, 200), reason });
      return refuse(res, { status: 403, code: 'NOT_AUTHORIZED', message: reason });
    }
    if (route === 'GET /api/lesson/report') return this.report(res, url);
    const body = route === 'POST /api/lesson/end' ? { ok: true as const, value: {} } : await readJson(req);
    if (!body.ok) return refuse(res, body.refusal);
    const b = (typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : {}) as Record<string, unknown>;
    if (route === 'POST /api/lesson/start') {
      if (typeof b.id !== 'string') return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: 'the body must be {"id": a lesson id (GET /api/lesson lists them)}' });
      if (this.cur !== null && this.cur.endedAtMs === null) return refuse(res, { status: 409, code: 'LESSON_RUNNING', message: `lesson "${this.cur.loaded.lesson.id}" is running: end it first (POST /api/lesson/end)` });
      const loaded = this.lessons().lessons.find((l) => l.lesson.id === b.id);
      if (loaded === undefined) return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no lesson "${String(b.id).slice(0, 100)}" for ${this.host.spec.id} (GET /api/lesson lists them)` });
      await this.start(loaded, who);
      return reply(res, 200, { current: await this.view(who) });
    }
    const c = this.cur;
    if (c === null || c.endedAtMs !== null) return refuse(res, { status: 409, code: 'NOT_RUNNING', message: 'no lesson is running (POST /api/lesson/start {"id"})' });
    if (route === 'POST /api/lesson/step') {
      const k = b.step;
      const last = c.loaded.lesson.steps.length - 1;
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > last) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `the body must be {"step": a step number from 0 to ${last}}` });
      await this.view(who); // latch what the step being left has met
      c.step = k;
      this.host.audit({ source: 'api', principal: who.principal, action: 'lesson', outcome: 'allowed', target: c.loaded.lesson.id, reason: `step ${k + 1}: ${c.loaded.lesson.steps[k]?.id ?? ''}` });
      return reply(res, 200, { current: await this.view(who) });
    }
    await this.view(who);
    c.endedAtMs = Date.now();
    this.writeReport(c);
    this.host.audit({ source: 'api', principal: who.principal, action: 'lesson', outcome: 'allowed', target: c.loaded.lesson.id, reason: 'ended' });
    return reply(res, 200, { current: await this.view(who) });
  }

  private async start(loaded: LoadedLesson, who: Identified): Promise<void> {
    const st = await this.host.state();
    const n = ++this.n;
    const c: Active = {
      n, loaded, by: who.user, step: 0, startedAtMs: Date.now(), endedAtMs: null, start: figuresOfKpis(this.host.spec, st.kpis),
      met: new Map(), answers: new Map(), dir: join(this.host.runDir, 'lessons', `${n}-${loaded.lesson.id}`),
    };
    this.cur = c;
    this.host.audit({ source: 'api', principal: who.principal, action: 'lesson', outcome: 'allowed', target: loaded.lesson.id, reason: 'started' });
    // every step's line, and every diagnosis a question needs, in the background, one at a time
    // (kept for later lessons; one that failed is tried again)
    const p = this.host.predict ?? { seeds: 2, hours: 8, warmupS: 3 * 3600 };
    const due = (m: Map<string, Prediction>, key: string): boolean => m.get(key) === undefined || m.get(key)?.state === 'failed';
    for (const [k, line] of loaded.lines.entries()) {
      if (due(this.predictions, line.key)) {
        this.predictions.set(line.key, { state: 'running' });
        this.later(async () => {
          const { runPool } = await import('./compare.ts');
          this.predictions.set(line.key, { state: 'ready', figures: figuresOfRuns(line.spec, await runPool(lineJobs(line, p.seeds), 1, p)) });
        }, (e) => this.predictions.set(line.key, fail(e)));
      }
      if (loaded.lesson.steps[k]?.checkpoints.some((cp) => cp.answer === 'first-step') === true && due(this.firstSteps, line.key)) {
        this.firstSteps.set(line.key, { state: 'running' });
        this.later(async () => {
          const first = await firstStepOf(line, { ...p, workers: 1, ...(this.host.dirs?.retrofitsDir === undefined ? {} : { retrofitsDir: this.host.dirs.retrofitsDir }) });
          this.firstSteps.set(line.key, { state: 'ready', figures: { kpis: {}, stations: {}, indicators: {}, bottleneck: null, firstStep: first.id } });
        }, (e) => this.firstSteps.set(line.key, fail(e)));
      }
    }
  }

  /** No more predictions start (one running finishes in its worker). */
  close(): void {
    this.closed = true;
  }

  /** Queues `job` after the others. */
  private later(job: () => Promise<void>, failed: (e: unknown) => void): void {
    this.queue = this.queue.then(async () => {
      if (this.closed) return failed(new Error('the host is closing'));
      try {
        await job();
      } catch (e) {
        failed(e);
      }
    });
  }

  /** The prediction of step `k`'s line (with the step that pays first, where known); null while it runs or when it failed. */
  private predicted(c: Active, k: number): { figures: LessonFigures | null; source: 'predicting' | 'predicted' | 'failed'; error?: string } {
    const line = c.loaded.lines[k] as StepLine;
    const p = this.predictions.get(line.key);
    if (p?.state === 'failed') return { figures: null, source: 'failed', error: p.error };
    if (p?.state !== 'ready') return { figures: null, source: 'predicting' };
    const first = this.firstSteps.get(line.key);
    return { figures: first?.state === 'ready' ? { ...p.figures, firstStep: first.figures.firstStep ?? null } : p.figures, source: 'predicted' };
  }

  /** What step `k`'s targets read: the live line (against the lesson's start), or its line's prediction (against the predicted baseline). */
  private targetFigures(c: Active, k: number, live: LessonFigures): { figures: LessonFigures | null; start: LessonFigures | null; source: 'live' | 'predicting' | 'predicted' | 'failed'; error?: string } {
    if ((c.loaded.lines[k]?.retrofits.length ?? 0) === 0) return { figures: live, start: c.start, source: 'live' };
    return { ...this.predicted(c, k), start: this.predicted(c, 0).figures };
  }

  private async view(who: Identified): Promise<unknown> {
    const c = this.cur;
    if (c === null) return null;
    const l = c.loaded.lesson;
    const st = await this.host.state();
    const live = figuresOfKpis(this.host.spec, st.kpis);
    const now = this.targetFigures(c, c.step, live);
    const asked = this.predicted(c, c.step);
    // targets of the step in progress are latched when first met
    if (c.endedAtMs === null && now.figures !== null && now.start !== null) {
      for (const cp of l.steps[c.step]?.checkpoints ?? []) {
        if (cp.answer === undefined && !c.met.has(cp.id) && targetMet(cp, now.figures, now.start)) c.met.set(cp.id, st.simTimeS);
      }
    }
    const mine = c.answers.get(who.user);
    const step = l.steps[c.step]!;
    const questions = l.steps.flatMap((s) => s.checkpoints.filter((cp) => cp.answer !== undefined));
    const targets = l.steps.flatMap((s) => s.checkpoints.filter((cp) => cp.answer === undefined));
    const pointsOf = (a: Map<string, Answer> | undefined): number => questions.filter((q) => a?.get(q.id)?.right === true).reduce((n, q) => n + q.points, 0);
    const reveal = who.role === 'instructor' || c.endedAtMs !== null;
    const cpView = (cp: Checkpoint): unknown => {
      const question = cp.answer !== undefined;
      const f = question ? asked.figures : now.figures;
      const start = question || now.start === null ? null : figureOf(cp, now.start);
      return {
        id: cp.id, text: cp.text, points: cp.points, kind: question ? 'question' : 'target', answerKind: cp.answer ?? null,
        figure: cp.indicator ?? (cp.kpi === undefined ? null : cp.station === undefined ? cp.kpi : `${cp.station}.${cp.kpi}`),
        start,
        // a question's figure is its answer: shown once the lesson has ended, or to the instructor
        value: f === null || (question && !reveal) ? null : figureOf(cp, f),
        goal: question ? null : goalOf(cp, start),
        met: question ? null : c.met.has(cp.id),
        metAtS: c.met.get(cp.id) ?? null,
        yours: yoursOf(mine?.get(cp.id)),
        truth: question && reveal && f !== null ? truthOf(cp, f) : null,
      };
    };
    return {
      n: c.n, id: l.id, title: l.title, summary: l.summary, minutes: l.minutes, line: l.line, by: c.by, state: c.endedAtMs === null ? 'running' : 'ended',
      startedAtMs: c.startedAtMs, endedAtMs: c.endedAtMs, step: c.step,
      steps: l.steps.map((s, k) => ({ id: s.id, title: s.title, retrofits: c.loaded.lines[k]?.retrofits ?? [] })),
      current: {
        id: step.id, title: step.title, prompt: step.prompt, retrofits: c.loaded.lines[c.step]?.retrofits ?? [], line: c.loaded.lines[c.step]?.key ?? '',
        figures: now.source, questions: asked.source, ...(now.error === undefined ? {} : { error: now.error }), faults: step.faults ?? [], checkpoints: step.checkpoints.map(cpView),
      },
      score: {
        you: { points: pointsOf(mine), of: questions.reduce((n, q) => n + q.points, 0) },
        class: { points: targets.filter((t) => c.met.has(t.id)).reduce((n, t) => n + t.points, 0), of: targets.reduce((n, t) => n + t.points, 0) },
      },
      ...(who.role === 'instructor' ? { board: this.board(c) } : {}),
    };
  }

  private board(c: Active): { user: string; points: number; right: number; answered: number }[] {
    const qs = c.loaded.lesson.steps.flatMap((s) => s.checkpoints.filter((cp) => cp.answer !== undefined));
    return [...c.answers.entries()].map(([user, a]) => ({
      user,
      points: qs.filter((q) => a.get(q.id)?.right === true).reduce((n, q) => n + q.points, 0),
      right: [...a.values()].filter((x) => x.right).length,
      answered: a.size,
    })).sort((x, y) => y.points - x.points || x.user.localeCompare(y.user));
  }

  private async answer(req: IncomingMessage, res: ServerResponse, who: Identified): Promise<void> {
    const body = await readJson(req);
    if (!body.ok) return refuse(res, body.refusal);
    const b = body.value as { checkpoint?: unknown; answer?: unknown } | null;
    const shape = 'the body must be {"checkpoint": a question\'s id, "answer": a station id, a retrofit step id or a number}';
    if (b === null || typeof b !== 'object' || typeof b.checkpoint !== 'string') return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: shape });
    const given = b.answer;
    if (!((typeof given === 'string' && given.trim() !== '' && given.length <= 100) || (typeof given === 'number' && Number.isFinite(given)))) {
      return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `${shape}; got ${JSON.stringify(given ?? null).slice(0, 50)}` });
    }
    const c = this.cur;
    if (c === null || c.endedAtMs !== null) return refuse(res, { status: 409, code: 'NOT_RUNNING', message: 'no lesson is running' });
    const k = c.loaded.lesson.steps.findIndex((s) => s.checkpoints.some((cp) => cp.id === b.checkpoint));
    const cp = c.loaded.lesson.steps[k]?.checkpoints.find((x) => x.id === b.checkpoint);
    if (cp === undefined || cp.answer === undefined) return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no question "${b.checkpoint.slice(0, 100)}" in lesson ${c.loaded.lesson.id}` });
    if (k > c.step) return refuse(res, { status: 409, code: 'NOT_YET', message: `"${cp.id}" belongs to a later step` });
    let mine = c.answers.get(who.user);
    if (mine === undefined) {
      if (c.answers.size >= MAX_TRAINEES) return refuse(res, { status: 409, code: 'CAPACITY', message: `the lesson keeps the answers of at most ${MAX_TRAINEES} trainees` });
      mine = new Map();
      c.answers.set(who.user, mine);
    }
    const prev = mine.get(cp.id);
    if (prev?.right === true) return refuse(res, { status: 409, code: 'ANSWERED', message: `"${cp.id}" is answered already` });
    if ((prev?.attempts ?? 0) >= MAX_ATTEMPTS) return refuse(res, { status: 409, code: 'NO_ATTEMPTS_LEFT', message: `${MAX_ATTEMPTS} attempts at "${cp.id}" are used` });
    const st = await this.host.state();
    const at = this.predicted(c, k);
    const waiting = cp.answer === 'first-step' && at.figures?.firstStep === undefined;
    if (at.figures === null || waiting) {
      return refuse(res, { status: 409, code: 'PREDICTING', message: at.source === 'failed' ? `the twin could not work out the answer: ${at.error ?? ''}` : 'the twin is still working out this step (its line runs in a worker); try again in a minute' });
    }
    const a: Answer = { given: typeof given === 'string' ? given.trim() : given, right: answerRight(cp, given, at.figures), attempts: (prev?.attempts ?? 0) + 1, simS: st.simTimeS };
    mine.set(cp.id, a);
    return reply(res, 200, { checkpoint: cp.id, ...yoursOf(a), current: await this.view(who) });
  }

  /** The session report: the lesson, every checkpoint with its figures, and every trainee's answers. */
  private reportOf(c: Active): { json: unknown; csv: string } {
    const l = c.loaded.lesson;
    const qs = l.steps.flatMap((s) => s.checkpoints.filter((cp) => cp.answer !== undefined));
    const board = this.board(c);
    const json = {
      lesson: l.id, title: l.title, line: l.line, by: c.by, startedAtMs: c.startedAtMs, endedAtMs: c.endedAtMs, stepReached: c.step,
      targets: l.steps.flatMap((s) => s.checkpoints.filter((cp) => cp.answer === undefined).map((cp) => ({ step: s.id, id: cp.id, points: cp.points, met: c.met.has(cp.id), metAtS: c.met.get(cp.id) ?? null }))),
      trainees: board.map((b) => ({ ...b, of: qs.reduce((n, q) => n + q.points, 0), answers: Object.fromEntries(c.answers.get(b.user) ?? []) })),
    };
    const cell = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const rows = [['user', 'points', ...qs.map((q) => q.id)].join(',')];
    for (const b of board) {
      const a = c.answers.get(b.user);
      rows.push([cell(b.user), String(b.points), ...qs.map((q) => {
        const x = a?.get(q.id);
        return x === undefined ? '' : cell(`${x.right ? 'right' : 'wrong'} (${x.attempts}): ${String(x.given)}`);
      })].join(','));
    }
    return { json, csv: `${rows.join('\n')}\n` };
  }

  private writeReport(c: Active): void {
    const r = this.reportOf(c);
    mkdirSync(c.dir, { recursive: true });
    writeFileSync(join(c.dir, 'report.json'), `${JSON.stringify(r.json, null, 2)}\n`);
    writeFileSync(join(c.dir, 'scores.csv'), r.csv);
  }

  private report(res: ServerResponse, url: URL): void {
    const c = this.cur;
    if (c === null || c.endedAtMs === null) return refuse(res, { status: 404, code: 'NOT_FOUND', message: 'no lesson report yet (a lesson writes it when it ends)' });
    const csv = url.searchParams.get('format') === 'csv';
    const file = join(c.dir, csv ? 'scores.csv' : 'report.json');
    res.writeHead(200, {
      'content-type': csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff',
      'content-disposition': `attachment; filename="${c.loaded.lesson.id}-${csv ? 'scores.csv' : 'report.json'}"`,
    });
    res.end(readFileSync(file));
  }
}
