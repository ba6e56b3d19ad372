/**
 * The security range as the attached page reaches it: the host's attack library and runs
 * (`/api/attacks…`, sim/host/range.ts), for the instructor. Every request goes through the
 * page's session (its token); the host refuses any other role.
 */
import type { RangeRun } from '../../../sim/host/range.ts';
import type { Session } from './session.ts';

export type { RangeRun };

/** An attack of the library as `GET /api/attacks` lists it. */
export interface RangeAttack {
  id: string;
  title: string;
  techniques: { id: string; name: string; tactic: string }[];
  face: 'opcua' | 'mqtt' | 'rest';
  preconditions: string[];
  steps: string[];
  expectedImpact: string;
}

async function json<T>(session: Session, path: string, init?: RequestInit): Promise<T> {
  const r = await session.fetch(path, init);
  const body = (await r.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (!r.ok) throw new Error(body.error?.message ?? `${path}: HTTP ${r.status}`);
  return body;
}

/** The library, and the run going on (its number) if any. */
export function listAttacks(session: Session): Promise<{ attacks: RangeAttack[]; running: number | null }> {
  return json(session, 'api/attacks');
}

/** The runs the host keeps, newest first. */
export function listRuns(session: Session): Promise<{ running: number | null; runs: RangeRun[] }> {
  return json(session, 'api/attacks/runs');
}

/** One run. */
export function getRun(session: Session, n: number): Promise<RangeRun> {
  return json(session, `api/attacks/runs/${n}`);
}

/** Starts attack `id`; the run's number. */
export async function startAttack(session: Session, id: string): Promise<number> {
  const body = await json<{ run: number }>(session, 'api/attacks/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) });
  return body.run;
}
