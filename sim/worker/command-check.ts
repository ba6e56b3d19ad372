/**
 * Commands arriving over the `SimApi` come from other threads and, through the server, from
 * the network: their shape is checked before they reach the world's queue. Keys match a
 * sent command with the event (command or rejected) the world logs when it applies it.
 */
import { AUDIT, reject, type AuditEntry, type Command, type CommandResult, type CommandSource } from '../core/commands.ts';
import type { SimEvent } from '../core/events.ts';

const SOURCES: ReadonlySet<CommandSource> = new Set<CommandSource>(['hmi', 'opcua', 'mqtt', 'scenario', 'attack', 'cli', 'api']);

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
  if (c.command === AUDIT) return reject('NOT_ALLOWED', 'audit entries are written by the protocol faces, not sent as commands');
  if (c.args !== undefined) {
    if (typeof c.args !== 'object' || c.args === null || Array.isArray(c.args)) return reject('BAD_ARGUMENT', 'command.args must be an object');
    for (const [k, v] of Object.entries(c.args)) {
      if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean') {
        return reject('BAD_ARGUMENT', `command.args.${k} must be a number, string or boolean`);
      }
    }
  }
  return null;
}

/** Identity of a command as its applied event will show it. */
export function commandKey(c: Command): string {
  return [c.target, c.command, c.source, c.principal, JSON.stringify(c.args ?? {})].join('\u0000');
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
  return null;
}
