/**
 * The trainer's run control of the attached twin (`/api/run`, sim/host/run-control.ts) and
 * fault and disturbance injection through the command plane (`fault {code, duration}`,
 * `disturb {kind, duration}`, instructor only).
 */
import { DISTURBANCES } from '../../../sim/core/disturbance.ts';
import { apiJson, postJson, type Session } from './session.ts';
import type { Jumped } from '../../../sim/host/run-control.ts';

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
/**
 * What a trainer may inject: faults that stop the station (the PLC's fault codes,
 * sim/core/station.ts), then disturbances that do not (sim/core/disturbance.ts): off-spec
 * material at a source, a person of the station's crew away.
 */
export const FAULTS = ['breakdown', 'jam', 'power', 'sensor', ...DISTURBANCES] as const;
export type Injection = (typeof FAULTS)[number];

/** The line's pace and whether it runs. */
export function getRun(session: Session): Promise<RunState> {
  return apiJson(session, 'api/run');
}

/** Sets the pace and/or pauses or resumes the line; the state after it. */
export function setRun(session: Session, change: { speed?: number; running?: boolean }): Promise<RunState> {
  return apiJson(session, 'api/run', postJson(change));
}

/** Runs the line as fast as the host can to the end of the current shift; resolves once it is there, with what it did. */
export function jumpToShiftEnd(session: Session): Promise<RunState & { changed: string[]; jumped: Jumped }> {
  return apiJson(session, 'api/run', postJson({ jump: 'shift' }));
}

/** Injects fault or disturbance `code` on `station` for `minutes`. */
export async function injectFault(session: Session, station: string, code: Injection, minutes: number): Promise<void> {
  const duration = minutes * 60;
  const command = (DISTURBANCES as readonly string[]).includes(code) ? { command: 'disturb', args: { kind: code, duration } } : { command: 'fault', args: { code, duration } };
  await apiJson(session, 'api/commands', postJson({ target: station, ...command }));
}
