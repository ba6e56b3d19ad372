/**
 * What the signed-in account's role lets the page offer. The host decides every command (the
 * line refuses what a role may not do); this only greys out controls ahead of time and names
 * the role they need, so a viewer is not invited to press buttons that will be refused.
 * test/unit/web-roles.test.ts holds these rules against the line's own (`mayCommand`, `mayWrite`).
 */
import type { SimApi } from '../../../sim/worker/api.ts';
import type { TagInfo } from './types.ts';

/** An account's role as the host names it: viewer, gateway, operator, engineer or instructor. */
export type Role = NonNullable<Parameters<SimApi['send']>[0]['role']>;

/** Who may write an 'rw' tag: operator setpoints, engineer parameters, safety (interlock and trip) limits. */
export type WriteLevel = 'operator' | 'engineer' | 'safety';

/**
 * The role of a standalone page: the line runs in the visitor's own browser with nobody else
 * on it, so the visitor has the whole range (the line still refuses a safety limit outside
 * unit mode Maintenance).
 */
export const STANDALONE_ROLE: Role = 'instructor';

/** each role may do what the roles of lower rank may (viewer and gateway send no commands) */
const RANK: Readonly<Record<Role, number>> = { viewer: 0, gateway: 0, operator: 1, engineer: 2, instructor: 3 };
const OPERATOR_COMMANDS: ReadonlySet<string> = new Set(['reset', 'start', 'stop', 'hold', 'unhold', 'suspend', 'unsuspend', 'abort', 'clear', 'complete', 'set', 'mode', 'ack']);
const ENGINEER_COMMANDS: ReadonlySet<string> = new Set(['repair', 'maintain']);
const LEVELS: ReadonlySet<string> = new Set<WriteLevel>(['operator', 'engineer', 'safety']);

/** The least role that may send `command` to a station. */
export function roleForCommand(command: string): Role {
  if (OPERATOR_COMMANDS.has(command)) return 'operator';
  return ENGINEER_COMMANDS.has(command) ? 'engineer' : 'instructor';
}

/** The least role that may write a tag of `level` (a safety limit also needs unit mode Maintenance). */
export function roleForWrite(level: WriteLevel): Role {
  return level === 'operator' ? 'operator' : 'engineer';
}

/** Whether `role` has at least the rights of `needed`. */
export function hasRole(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/**
 * The write level of a tag, or null if it is read-only. The host's tag infos carry `write`
 * for 'rw' tags; a host that does not say is treated as the line treats a field without one:
 * engineer.
 */
export function writeLevelOf(tag: TagInfo): WriteLevel | null {
  if (tag.access !== 'rw') return null;
  const w = (tag as TagInfo & { write?: unknown }).write;
  return typeof w === 'string' && LEVELS.has(w) ? (w as WriteLevel) : 'engineer';
}

/** Whether `value` is a role the host may report (whoami answers from the network). */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}
