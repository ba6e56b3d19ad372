/**
 * The PackML state machine (ISA-TR88.00.02). State and command numbers are the PackTags
 * `StateCurrent` and `CntrlCmd` values, so protocol faces can publish them unchanged.
 */

/** PackML states (PackTags StateCurrent). */
export const State = {
  Clearing: 1,
  Stopped: 2,
  Starting: 3,
  Idle: 4,
  Suspended: 5,
  Execute: 6,
  Stopping: 7,
  Aborting: 8,
  Aborted: 9,
  Holding: 10,
  Held: 11,
  Unholding: 12,
  Suspending: 13,
  Unsuspending: 14,
  Resetting: 15,
  Completing: 16,
  Complete: 17,
} as const;

/** PackML state names indexed by number (index 0 is `Undefined`). */
export const STATE_NAMES: readonly string[] = [
  'Undefined', 'Clearing', 'Stopped', 'Starting', 'Idle', 'Suspended', 'Execute', 'Stopping', 'Aborting',
  'Aborted', 'Holding', 'Held', 'Unholding', 'Suspending', 'Unsuspending', 'Resetting', 'Completing', 'Complete',
];

/** PackML commands (PackTags CntrlCmd). */
export const Cmd = {
  reset: 1,
  start: 2,
  stop: 3,
  hold: 4,
  unhold: 5,
  suspend: 6,
  unsuspend: 7,
  abort: 8,
  clear: 9,
  complete: 10,
} as const;

export type PackmlCommand = keyof typeof Cmd;

/** Unit modes (PackTags UnitMode). */
export const Mode = { production: 1, maintenance: 2, manual: 3 } as const;
export const MODE_NAMES: readonly string[] = ['Undefined', 'Production', 'Maintenance', 'Manual'];

const S = State;

/** Acting states and the wait state each one ends in when its work is done. */
const ACTING_DONE: ReadonlyMap<number, number> = new Map([
  [S.Clearing, S.Stopped],
  [S.Starting, S.Execute],
  [S.Stopping, S.Stopped],
  [S.Aborting, S.Aborted],
  [S.Holding, S.Held],
  [S.Unholding, S.Execute],
  [S.Suspending, S.Suspended],
  [S.Unsuspending, S.Execute],
  [S.Resetting, S.Idle],
  [S.Completing, S.Complete],
]);

const DONE_TABLE = new Int8Array(STATE_NAMES.length).fill(-1);
for (const [from, to] of ACTING_DONE) DONE_TABLE[from] = to;

/** The state an acting state settles in, or -1 for wait states (a table lookup: the PLC scan calls it every scan). */
export function actingDone(state: number): number {
  return DONE_TABLE[state] ?? -1;
}

/** The state a command leads to from `state`, or -1 when PackML does not allow it there. */
export function transition(state: number, cmd: number): number {
  switch (cmd) {
    case Cmd.reset:
      return state === S.Stopped || state === S.Complete ? S.Resetting : -1;
    case Cmd.start:
      return state === S.Idle ? S.Starting : -1;
    case Cmd.stop:
      return state === S.Stopped || state === S.Stopping || state === S.Aborting || state === S.Aborted || state === S.Clearing
        ? -1
        : S.Stopping;
    case Cmd.hold:
      return state === S.Execute || state === S.Suspended ? S.Holding : -1;
    case Cmd.unhold:
      return state === S.Held ? S.Unholding : -1;
    case Cmd.suspend:
      return state === S.Execute ? S.Suspending : -1;
    case Cmd.unsuspend:
      return state === S.Suspended ? S.Unsuspending : -1;
    case Cmd.abort:
      return state === S.Aborting || state === S.Aborted ? -1 : S.Aborting;
    case Cmd.clear:
      return state === S.Aborted ? S.Clearing : -1;
    case Cmd.complete:
      return state === S.Execute ? S.Completing : -1;
    default:
      return -1;
  }
}

/** States in which the unit mode may change (wait states without motion). */
export function modeChangeAllowed(state: number): boolean {
  return state === S.Stopped || state === S.Idle || state === S.Aborted || state === S.Complete;
}

/** States in which the station counts as available (not down) for OEE. */
export function isUp(state: number): boolean {
  return (
    state === S.Execute || state === S.Suspended || state === S.Suspending || state === S.Unsuspending ||
    state === S.Starting || state === S.Unholding || state === S.Completing
  );
}
