/**
 * `POST /api/run {"speed"?: N, "running"?: bool}`: the trainer's run control of the live twin.
 * The instructor sets the pace (1 × to 600 × real time) and pauses or resumes the line, e.g. to
 * explain what a fault did before the line goes on. Every change is audited with the principal
 * and what changed (`action: run`). While a scripted exercise runs, the exercise owns the
 * pace: run control is refused (pause the exercise from its own controls). `GET /api/run`
 * (every role, as `/api/state`) gives the speed, whether the line runs, and whether an exercise
 * holds the pace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Who } from './http-auth.ts';
import { readJson } from './http-guard.ts';
import { refuse, reply, type RefusalAudit, type RestContext } from './rest.ts';

/** Pace bounds of run control [× real time]. */
export const RUN_SPEED = { min: 1, max: 600 } as const;

/** The body of `GET /api/run` (and of `POST /api/run`, with what changed). */
export async function runState(c: RestContext): Promise<{ speed: number | 'max'; running: boolean; simTime: number; exercise: boolean }> {
  const st = await c.api.state();
  return { speed: st.speed, running: st.running, simTime: st.simTimeS, exercise: c.exercises?.busy() === true };
}

/** Handles `POST /api/run` for a caller the REST plane has identified. */
export async function runRoute(req: IncomingMessage, res: ServerResponse, c: RestContext, who: Extract<Who, { ok: true }>, refusals: RefusalAudit, peer: string): Promise<void> {
  if (who.role !== 'instructor') {
    const reason = `run control is the instructor's (${who.user} is ${who.role})`;
    refusals.note(`${peer}|run|${who.principal}`, { source: 'api', principal: who.principal, action: 'run', outcome: 'denied', target: 'line', reason });
    return refuse(res, { status: 403, code: 'NOT_AUTHORIZED', message: reason });
  }
  const body = await readJson(req);
  if (!body.ok) return refuse(res, body.refusal);
  const b = body.value as { speed?: unknown; running?: unknown } | null;
  const shape = `the body must be {"speed"?: a number from ${RUN_SPEED.min} to ${RUN_SPEED.max} (× real time), "running"?: true or false}`;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: shape });
  const extra = Object.keys(b).filter((k) => k !== 'speed' && k !== 'running');
  if (extra.length > 0) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `unknown key "${extra[0]!.slice(0, 50)}": ${shape}` });
  const { speed, running } = b;
  if (speed === undefined && running === undefined) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: shape });
  if (speed !== undefined && !(typeof speed === 'number' && speed >= RUN_SPEED.min && speed <= RUN_SPEED.max)) {
    return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `speed must be a number from ${RUN_SPEED.min} to ${RUN_SPEED.max} (× real time), got ${JSON.stringify(speed).slice(0, 50)}` });
  }
  if (running !== undefined && typeof running !== 'boolean') return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `running must be true or false, got ${JSON.stringify(running).slice(0, 50)}` });
  if (c.exercises?.busy() === true) return refuse(res, { status: 409, code: 'EXERCISE_RUNNING', message: 'a scripted exercise paces the line: pause, resume or end it from the exercise' });
  const before = await c.api.state();
  const changed: string[] = [];
  if (speed !== undefined && speed !== before.speed) {
    await c.api.setSpeed(speed);
    changed.push(`speed ${String(before.speed)}× → ${speed}×`);
  }
  if (running !== undefined && running !== before.running) {
    await (running ? c.api.start() : c.api.pause());
    changed.push(running ? 'resumed' : 'paused');
  }
  if (changed.length > 0) await c.api.audit({ source: 'api', principal: who.principal, action: 'run', outcome: 'allowed', target: 'line', reason: changed.join(', ') });
  await c.flush();
  return reply(res, 200, { ...(await runState(c)), changed });
}
