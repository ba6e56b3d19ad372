/**
 * Commands: everything that changes the line goes through one queue, is applied at the start
 * of the next tick, and becomes an event (accepted or rejected) that names who sent it.
 */

/** Who sent a command. */
export type CommandSource = 'hmi' | 'opcua' | 'mqtt' | 'scenario' | 'attack' | 'cli' | 'api';

/** Argument values a command may carry. */
export type CommandArgs = Record<string, number | string | boolean>;

/** A command for a station (by id) or for the whole line (`target: 'line'`). */
export interface Command {
  target: string;
  command: string;
  args?: CommandArgs;
  source: CommandSource;
  /** user, session or certificate that sent it, e.g. `opcua:operator@session-3` */
  principal: string;
}

/** A command with the tick it is (to be) applied at: the unit of a replayable command log. */
export interface LoggedCommand extends Command {
  tick: number;
}

/** Station commands, as in PackML (PackTags CntrlCmd numbers in `PACKML_COMMANDS`). */
export const STATION_COMMANDS = [
  'reset', 'start', 'stop', 'hold', 'unhold', 'suspend', 'unsuspend', 'abort', 'clear', 'complete',
  'set', 'mode', 'ack', 'fault', 'repair', 'maintain',
] as const;

/** Line commands apply a station command to every station in line order. */
export const LINE_COMMANDS = ['start', 'stop', 'reset', 'abort', 'clear', 'hold', 'unhold'] as const;

/** Result of applying a command. */
export type CommandResult = { ok: true } | { ok: false; code: string; reason: string };

export const OK: CommandResult = { ok: true };

/** Builds a rejection. */
export function reject(code: string, reason: string): CommandResult {
  return { ok: false, code, reason };
}
