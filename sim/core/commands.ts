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

/**
 * An audit entry: what a protocol face decided by itself (a session refused, a login failed,
 * a write denied to a read-only user). It travels through the queue as a line command named
 * `audit` so it lands in the event log (as an `audit` event, never as a command) and in the
 * replayable command log; only the faces write it (`SimApi.audit`), `send` refuses it.
 */
export interface AuditEntry {
  source: CommandSource;
  /** who tried: user, session, certificate thumbprint, peer address */
  principal: string;
  /** what was tried: `session`, `login`, `write`, `call`, `subscribe`, `publish`, `connect` … */
  action: string;
  outcome: 'allowed' | 'denied' | 'failed';
  /** node, topic or station it was aimed at ('' if none) */
  target?: string;
  /** why, in a few words ('' if nothing to add) */
  reason?: string;
}

/** The command name that carries an audit entry. */
export const AUDIT = 'audit';

/** An audit entry as the line command that carries it. */
export function auditCommand(a: AuditEntry): Command {
  return { target: 'line', command: AUDIT, source: a.source, principal: a.principal, args: { action: a.action, outcome: a.outcome, target: a.target ?? '', reason: a.reason ?? '' } };
}

/** Result of applying a command. */
export type CommandResult = { ok: true } | { ok: false; code: string; reason: string };

export const OK: CommandResult = { ok: true };

/** Builds a rejection. */
export function reject(code: string, reason: string): CommandResult {
  return { ok: false, code, reason };
}
