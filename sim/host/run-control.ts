/**
 * `POST /api/run {"speed"?: N, "running"?: bool}`: the trainer's run control of the live twin.
 * The instructor sets the pace (1 × to 600 × real time) and pauses or resumes the line, e.g. to
 * explain what a fault did before the line goes on. `POST /api/run {"jump": "shift" | S}` runs
 * the line as fast as the machine can to the end of the current shift (the scenario's shifts
 * follow each other from the start) or S simulated seconds on (at most a day), then goes on at
 * the pace it had: what the line logs meanwhile reaches every face, the run's records and the
 * detectors as if it had run live, and the request answers once the line is there, with what it
 * did (`jumped`: from, to, the shift ended, wall seconds) for a page to say in its language. Every
 * change is audited with the principal and what changed (`action: run`). While a scripted
 * exercise runs, the exercise owns the pace: run control is refused (pause the exercise from
 * its own controls). `GET /api/run` (every role, as `/api/state`) gives the speed, whether the
 * line runs, and whether an exercise holds the pace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Who } from './http-auth.ts';
import { readJson } from './http-guard.ts';
import { clock } from './progress.ts';
import { refuse, reply, type RefusalAudit, type RestContext } from './rest.ts';

/** Pace bounds of run control [× real time]. */
export const RUN_SPEED = { min: 1, max: 600 } as const;
/** Longest jump [simulated s]: a day. */
export const MAX_JUMP_S = 86_400;
/** Ticks stepped between two drains of the line's events during a jump. */
const JUMP_CHUNK = 60_000;

/** The lines jumping now (one jump at a time per line). */
const jumping = new WeakSet<object>();

/** Length of one shift of `spec` [s]. */
export function shiftLengthS(spec: RestContext['spec']): number {
  return (spec.shift.hoursPerDay * 3600) / spec.shift.shiftsPerDay;
}

/** What a jump did: from and to [simulated s], the shift it ended (null: a jump by seconds), and its wall time [s]. */
export interface Jumped {
  fromS: number;
  toS: number;
  shift: number | null;
  tookS: number;
}

/**
 * Runs the line to `target` (the end of the current shift, or that many seconds on) as fast as
 * it steps, draining its events as it goes; resumes it if it ran. Returns what it did.
 */
async function jump(c: RestContext, target: 'shift' | number): Promise<Jumped> {
  const before = await c.api.state();
  const shift = shiftLengthS(c.spec);
  const from = before.simTimeS;
  const n = Math.floor(from / shift + 1e-9) + 1;
  const to = target === 'shift' ? n * shift : from + target;
  const end = before.tick + Math.max(1, Math.round((to - from) / c.spec.dt));
  if (before.running) await c.api.pause();
  const t0 = performance.now();
  try {
    for (let t = before.tick; t < end;) {
      t = await c.api.step(Math.min(JUMP_CHUNK, end - t));
      await c.flush();
    }
  } finally {
    if (before.running) await c.api.start();
  }
  return { fromS: from, toS: to, shift: target === 'shift' ? n : null, tookS: Math.round(performance.now() - t0) / 1000 };
}

/** A jump in words, for the audit trail. */
export function jumpText(j: Jumped): string {
  // the length to the nearest second: from + 600 − from can be 599.999…, which the clock would cut to 0:09:59
  return `jumped ${clock(Math.round(j.toS - j.fromS))} from ${clock(j.fromS)} to ${clock(j.toS)}${j.shift !== null ? ` (end of shift ${j.shift})` : ''} in ${j.tookS.toFixed(1)} s`;
}

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
  const b = body.value as { speed?: unknown; running?: unknown; jump?: unknown } | null;
  const shape = `the body must be {"speed"?: a number from ${RUN_SPEED.min} to ${RUN_SPEED.max} (× real time), "running"?: true or false} or {"jump": "shift" or seconds up to ${MAX_JUMP_S}}`;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: shape });
  const extra = Object.keys(b).filter((k) => k !== 'speed' && k !== 'running' && k !== 'jump');
  if (extra.length > 0) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `unknown key "${extra[0]!.slice(0, 50)}": ${shape}` });
  if (b.jump !== undefined) return jumpRoute(res, c, who, b.jump, Object.keys(b).length > 1 ? shape : null);
  const { speed, running } = b;
  if (speed === undefined && running === undefined) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: shape });
  if (speed !== undefined && !(typeof speed === 'number' && speed >= RUN_SPEED.min && speed <= RUN_SPEED.max)) {
    return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `speed must be a number from ${RUN_SPEED.min} to ${RUN_SPEED.max} (× real time), got ${JSON.stringify(speed).slice(0, 50)}` });
  }
  if (running !== undefined && typeof running !== 'boolean') return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `running must be true or false, got ${JSON.stringify(running).slice(0, 50)}` });
  if (c.exercises?.busy() === true) return refuse(res, EXERCISE_HOLDS);
  if (jumping.has(c.api)) return refuse(res, JUMP_UNDER_WAY);
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

const EXERCISE_HOLDS = { status: 409, code: 'EXERCISE_RUNNING', message: 'a scripted exercise paces the line: pause, resume or end it from the exercise' };
const JUMP_UNDER_WAY = { status: 409, code: 'JUMP_RUNNING', message: 'the line is jumping ahead: wait for it to arrive' };

/** `POST /api/run {"jump": "shift" | S}` once the body has been read; `alone` names the shape when the body has other keys too. */
async function jumpRoute(res: ServerResponse, c: RestContext, who: Extract<Who, { ok: true }>, target: unknown, alone: string | null): Promise<void> {
  if (alone !== null) return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `jump goes alone: ${alone}` });
  if (target !== 'shift' && !(typeof target === 'number' && target > 0 && target <= MAX_JUMP_S)) {
    return refuse(res, { status: 400, code: 'BAD_ARGUMENT', message: `jump must be "shift" (to the end of the current shift) or simulated seconds in (0, ${MAX_JUMP_S}], got ${JSON.stringify(target).slice(0, 50)}` });
  }
  if (c.exercises?.busy() === true) return refuse(res, EXERCISE_HOLDS);
  if (jumping.has(c.api)) return refuse(res, JUMP_UNDER_WAY);
  jumping.add(c.api);
  let jumped: Jumped;
  try {
    jumped = await jump(c, target);
  } finally {
    jumping.delete(c.api);
  }
  const what = jumpText(jumped);
  await c.api.audit({ source: 'api', principal: who.principal, action: 'run', outcome: 'allowed', target: 'line', reason: what });
  await c.flush();
  return reply(res, 200, { ...(await runState(c)), changed: [what], jumped });
}
