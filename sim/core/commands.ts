/**
 * Commands: everything that changes the line goes through one queue, is applied at the start
 * of the next tick, and becomes an event (accepted or rejected) that names who sent it.
 */

/** Who sent a command. */
export type CommandSource = 'hmi' | 'opcua' | 'mqtt' | 'modbus' | 'scenario' | 'attack' | 'cli' | 'api';

/**
 * What an account may do, on every face (REST, live socket, OPC UA, MQTT):
 * `viewer` reads; `gateway` reads and publishes its own MQTT topics (a gateway under test);
 * `operator` sends PackML commands, changes unit mode, acknowledges alarms and writes
 * setpoints; `engineer` also writes parameters, repairs and maintains, and writes safety
 * limits in unit mode Maintenance; `instructor` runs the range (fault and disturbance injection) on top.
 */
export type Role = 'viewer' | 'gateway' | 'operator' | 'engineer' | 'instructor';

/** Every role, least to most privileged. */
export const ROLES: readonly Role[] = ['viewer', 'gateway', 'operator', 'engineer', 'instructor'];

/** Who may write a parameter: operator setpoints, engineer parameters, safety (interlock and trip) limits. */
export type WriteLevel = 'operator' | 'engineer' | 'safety';

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
  /**
   * the sender's role, from its credential; the line refuses what the role may not do.
   * Omitted only by the line's own sources (scenario scripts, the CLI, tests), which act with
   * full authority; commands from the network always carry one (`checkCommand`).
   */
  role?: Role;
}

/** A command with the tick it is (to be) applied at: the unit of a replayable command log. */
export interface LoggedCommand extends Command {
  tick: number;
}

/** Station commands, as in PackML (PackTags CntrlCmd numbers in `PACKML_COMMANDS`). */
export const STATION_COMMANDS = [
  'reset', 'start', 'stop', 'hold', 'unhold', 'suspend', 'unsuspend', 'abort', 'clear', 'complete',
  'set', 'mode', 'ack', 'fault', 'disturb', 'repair', 'maintain',
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
  /** how many so far, for an entry that reports a running count (nodes browsed, units identified, takeovers) */
  count?: number;
}

/** The command name that carries an audit entry. */
export const AUDIT = 'audit';

/** An audit entry as the line command that carries it. */
export function auditCommand(a: AuditEntry): Command {
  // principals, topics and reasons may be an attacker's text: kept, but clipped to a bounded size
  return {
    target: 'line', command: AUDIT, source: a.source, principal: clip(a.principal, 200),
    args: {
      action: clip(a.action, 40), outcome: a.outcome, target: clip(a.target ?? '', 300), reason: clip(a.reason ?? '', 500),
      ...(a.count !== undefined ? { count: a.count } : {}),
    },
  };
}

/** `text` cut to `max` characters, marked with an ellipsis and the length it had. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

/** Commands each role may send (`set` is further limited by the field's write level). */
const OPERATOR_COMMANDS: ReadonlySet<string> = new Set(['reset', 'start', 'stop', 'hold', 'unhold', 'suspend', 'unsuspend', 'abort', 'clear', 'complete', 'set', 'mode', 'ack']);
const ENGINEER_COMMANDS: ReadonlySet<string> = new Set([...OPERATOR_COMMANDS, 'repair', 'maintain']);

/** Why `role` may not send `command`, or null if it may (fields' write levels are checked by `mayWrite`). */
export function mayCommand(role: Role | undefined, command: string): string | null {
  if (role === undefined || role === 'instructor') return null;
  if (role === 'viewer' || role === 'gateway') return `the ${role} role may not send commands`;
  const allowed = role === 'engineer' ? ENGINEER_COMMANDS : OPERATOR_COMMANDS;
  if (allowed.has(command)) return null;
  const instructor = command === 'fault' || command === 'disturb';
  return `the ${role} role may not send "${command}"${instructor ? ` (${command === 'fault' ? 'fault' : 'disturbance'} injection needs the instructor role)` : ' (needs the engineer role)'}`;
}

/**
 * Why `role` may not write a field of `level`, or null if it may. Safety limits are written
 * only by an engineer or instructor, and only while the station is in unit mode Maintenance.
 */
export function mayWrite(role: Role | undefined, level: WriteLevel, maintenance: boolean): string | null {
  if (role === undefined) return null;
  if (level === 'operator') return role === 'operator' || role === 'engineer' || role === 'instructor' ? null : `the ${role} role may not write setpoints`;
  if (role !== 'engineer' && role !== 'instructor') return `the ${role} role may not write ${level === 'safety' ? 'a safety limit' : 'a parameter'} (needs the engineer role)`;
  if (level === 'safety' && !maintenance) return 'a safety limit may be changed only in unit mode Maintenance';
  return null;
}

/** Result of applying a command. */
export type CommandResult = { ok: true } | { ok: false; code: string; reason: string };

export const OK: CommandResult = { ok: true };

/** Builds a rejection. */
export function reject(code: string, reason: string): CommandResult {
  return { ok: false, code, reason };
}
