/**
 * The trainer's run control of the attached twin (`/api/run`, sim/host/run-control.ts) and
 * fault injection through the command plane (`fault {code, duration}`, instructor only).
 */
import { apiJson, postJson, type Session } from './session.ts';

/** What `GET /api/run` gives. */
export interface RunState {
  speed: number | 'max';
  running: boolean;
  simTime: number;
  /** a scripted exercise holds the pace */
  exercise: boolean;
}

/** Paces offered [× real time]. */
export const SPEEDS = [1, 10, 60, 600] as const;
/** Faults a trainer may inject (the PLC's fault codes, sim/core/station.ts). */
export const FAULTS = ['breakdown', 'jam', 'power', 'sensor'] as const;

/** The line's pace and whether it runs. */
export function getRun(session: Session): Promise<RunState> {
  return apiJson(session, 'api/run');
}

/** Sets the pace and/or pauses or resumes the line; the state after it. */
export function setRun(session: Session, change: { speed?: number; running?: boolean }): Promise<RunState> {
  return apiJson(session, 'api/run', postJson(change));
}

/** Injects fault `code` on `station` for `minutes`. */
export async function injectFault(session: Session, station: string, code: (typeof FAULTS)[number], minutes: number): Promise<void> {
  await apiJson(session, 'api/commands', postJson({ target: station, command: 'fault', args: { code, duration: minutes * 60 } }));
}
