/**
 * The security range as the attached page reaches it: the host's attack library and runs
 * (`/api/attacks…`, sim/host/range.ts), for the instructor. Every request goes through the
 * page's session (its token); the host refuses any other role.
 */
import type { RangeRun } from '../../../sim/host/range.ts';
import { apiJson, postJson, type Session } from './session.ts';

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

/** The library, and the run going on (its number) if any. */
export function listAttacks(session: Session): Promise<{ attacks: RangeAttack[]; running: number | null }> {
  return apiJson(session, 'api/attacks');
}

/** The runs the host keeps, newest first. */
export function listRuns(session: Session): Promise<{ running: number | null; runs: RangeRun[] }> {
  return apiJson(session, 'api/attacks/runs');
}

/** One run. */
export function getRun(session: Session, n: number): Promise<RangeRun> {
  return apiJson(session, `api/attacks/runs/${n}`);
}

/** Starts attack `id`; the run's number. */
export async function startAttack(session: Session, id: string): Promise<number> {
  const body = await apiJson<{ run: number }>(session, 'api/attacks/run', postJson({ id }));
  return body.run;
}
