/**
 * Commands arriving over the `SimApi` come from other threads and, through the server, from
 * the network: their shape is checked before they reach the world's queue. Keys match a
 * sent command with the event (command or rejected) the world logs when it applies it.
 */
import { AUDIT, reject, ROLES, type AuditEntry, type Command, type CommandResult, type CommandSource, type Role } from '../core/commands.ts';
import type { SimEvent } from '../core/events.ts';
import { argsText } from '../core/world.ts';

const SOURCES: ReadonlySet<CommandSource> = new Set<CommandSource>(['hmi', 'opcua', 'mqtt', 'modbus', 'scenario', 'attack', 'cli', 'api']);
/** sources that reach the line from the network: their commands carry the sender's role */
const NETWORK: ReadonlySet<CommandSource> = new Set<CommandSource>(['hmi', 'opcua', 'mqtt', 'modbus', 'attack', 'api']);
/** longest principal, target or command name [characters]: they are logged with every event */
export const MAX_NAME = 200;
/** most arguments a command carries, and the longest string argument [characters] */
export const MAX_ARGS = 16;
export const MAX_ARG_TEXT = 256;

/** A rejection if `cmd` is not a well-formed command, else null. */
export function checkCommand(cmd: unknown): CommandResult | null {
  if (typeof cmd !== 'object' || cmd === null) return reject('BAD_ARGUMENT', 'a command must be an object');
  const c = cmd as Record<string, unknown>;
  if (typeof c.target !== 'string' || c.target === '') return reject('BAD_ARGUMENT', 'command.target must be a station id or "line"');
  if (typeof c.command !== 'string' || c.command === '') return reject('BAD_ARGUMENT', 'command.command must be a non-empty string');
  if (typeof c.source !== 'string' || !SOURCES.has(c.source as CommandSource)) {
    return reject('BAD_ARGUMENT', `command.source must be one of ${[...SOURCES].join(', ')}`);
  }
  if (typeof c.principal !== 'string') return reject('BAD_ARGUMENT', 'command.principal must be a string');
  for (const k of ['target', 'command', 'principal'] as const) {
    if ((c[k] as string).length > MAX_NAME) return reject('BAD_ARGUMENT', `command.${k} is longer than ${MAX_NAME} characters`);
  }
  if (c.role !== undefined && !ROLES.includes(c.role as Role)) return reject('BAD_ARGUMENT', `command.role must be one of ${ROLES.join(', ')}`);
  if (c.role === undefined && NETWORK.has(c.source as CommandSource)) return reject('NOT_AUTHORIZED', `a command from ${String(c.source)} must carry the sender's role`);
  if (c.command === AUDIT) return reject('NOT_ALLOWED', 'audit entries are written by the protocol faces, not sent as commands');
  if (c.args !== undefined) {
    if (typeof c.args !== 'object' || c.args === null || Array.isArray(c.args)) return reject('BAD_ARGUMENT', 'command.args must be an object');
    const entries = Object.entries(c.args);
    if (entries.length > MAX_ARGS) return reject('BAD_ARGUMENT', `command.args has ${entries.length} entries; at most ${MAX_ARGS}`);
    for (const [k, v] of entries) {
      if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean') {
        return reject('BAD_ARGUMENT', `command.args.${k.slice(0, 40)} must be a number, string or boolean`);
      }
      if (k.length > MAX_NAME || (typeof v === 'string' && v.length > MAX_ARG_TEXT)) {
        return reject('BAD_ARGUMENT', `command.args.${k.slice(0, 40)} is longer than ${k.length > MAX_NAME ? MAX_NAME : MAX_ARG_TEXT} characters`);
      }
    }
  }
  return null;
}

/** Identity of a command as its applied event will show it. */
export function commandKey(c: Command): string {
  return [c.target, c.command, c.source, c.principal, argsText(c.args)].join('\u0000');
}

/** Identity of the command a `command` or `rejected` event reports. */
export function eventKey(e: SimEvent): string {
  const d = e.data;
  return [e.station ?? 'line', String(d.command), String(d.source), String(d.principal), String(d.args)].join('\u0000');
}

const OUTCOMES: ReadonlySet<string> = new Set(['allowed', 'denied', 'failed']);

/** What is wrong with an audit entry from a face, or null. */
export function checkAudit(a: unknown): string | null {
  if (typeof a !== 'object' || a === null) return 'an audit entry must be an object';
  const e = a as Record<keyof AuditEntry, unknown>;
  if (typeof e.source !== 'string' || !SOURCES.has(e.source as CommandSource)) return `audit.source must be one of ${[...SOURCES].join(', ')}`;
  if (typeof e.principal !== 'string' || typeof e.action !== 'string' || e.action === '') return 'audit.principal and audit.action must be strings';
  if (typeof e.outcome !== 'string' || !OUTCOMES.has(e.outcome)) return 'audit.outcome must be allowed, denied or failed';
  if ((e.target !== undefined && typeof e.target !== 'string') || (e.reason !== undefined && typeof e.reason !== 'string')) return 'audit.target and audit.reason must be strings';
  if (e.count !== undefined && (typeof e.count !== 'number' || !Number.isInteger(e.count) || e.count < 0)) return 'audit.count must be a whole number ≥ 0';
  return null;
}
