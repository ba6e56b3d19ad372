/**
 * Commands arriving over MQTT: one handler per message kind (UNS command, Sparkplug NCMD,
 * Sparkplug DCMD) behind one dispatcher that classifies the topic. Every well-formed command
 * goes to the line's queue with `source: 'mqtt'` and the sender's role (the line decides by
 * it); a malformed one never reaches the line: it is answered (UNS) and lands in the event
 * log as an `audit` entry naming who sent what. A retained command is never executed: a
 * broker hands it to every new subscriber, so it would run again on each reconnect.
 */
import type { AuditEntry, Command, CommandArgs, CommandResult, Role } from '../../core/commands.ts';
import { checkCommand } from '../../worker/command-check.ts';
import { parseCommandTopic, SPB } from './topics.ts';

/** payload bytes quoted in the log of a malformed message */
const QUOTE = 120;

/** An incoming message with who sent it. */
export interface Incoming {
  topic: string;
  payload: Buffer;
  /** `user/clientId` from the embedded broker, or an unverified claim behind an external one */
  principal: string;
  /** the sender's role (from its account; behind an external broker, the one configured for it); null: none */
  role: Role | null;
  /** the message came as a retained one */
  retain: boolean;
}

/** What the dispatcher needs from the rest of the face. */
export interface CommandContext {
  /** UNS prefix of the line */
  prefix: string;
  /** Sparkplug group and edge node ids */
  group: string;
  edge: string;
  /** station id of a topic slug (UNS level or Sparkplug device id) */
  stationOf(slug: string): string | undefined;
  send(cmd: Command): Promise<CommandResult>;
  /** logs what the face refused by itself (malformed messages) */
  audit(a: AuditEntry): void;
  /** Publishes the answer to a UNS command (`<topic>/reply`). */
  reply(topic: string, body: Record<string, unknown>): void;
  /** Handles an NCMD (decoded in sparkplug.ts; rebirths limited per sender); an error text, or null. */
  ncmd(payload: Buffer, principal: string): string | null;
  /** Decodes a DCMD (in sparkplug.ts); the commands to send, or an error text. */
  dcmd(payload: Buffer, station: string): { command: string; args: CommandArgs }[] | string;
  /** Sparkplug commands that could not be used (counted, logged by the line as refused). */
  warn(line: string): void;
}

/** The kinds of incoming messages. */
type Kind = 'uns' | 'ncmd' | 'dcmd' | 'other';

function kindOf(ctx: CommandContext, topic: string): Kind {
  if (parseCommandTopic(ctx.prefix, topic) !== null) return 'uns';
  const p = topic.split('/');
  if (p[0] === SPB && p[1] === ctx.group && p[3] === ctx.edge) {
    if (p[2] === 'NCMD' && p.length === 4) return 'ncmd';
    if (p[2] === 'DCMD' && p.length === 5) return 'dcmd';
  }
  return 'other';
}

function quote(payload: Buffer): string {
  const s = payload.subarray(0, QUOTE).toString('utf8').replace(/[^\x20-\x7e\u00a0-\uffff]/g, '?');
  return payload.length > QUOTE ? `${s}…` : s;
}

/** Audits a refused message (it never reaches the line) and returns the refusal for the reply. */
function refuse(ctx: CommandContext, what: string, error: string, m: Incoming, code = 'BAD_ARGUMENT'): CommandResult {
  ctx.audit({ source: 'mqtt', principal: m.principal, action: what, outcome: 'denied', target: m.topic, reason: `${error}; payload: ${quote(m.payload)}` });
  return { ok: false, code, reason: error };
}

/** Why a retained message is not executed. */
const RETAINED = 'a retained command is never executed (the broker replays it to every new subscriber); publish it with retain off';

/** The arguments of a UNS command payload: empty or a JSON object of scalars (`$id` is echoed, not sent). */
export function parseArgs(payload: Buffer): { args: CommandArgs; id: string | number | null } | string {
  const text = payload.toString('utf8').trim();
  if (text === '') return { args: {}, id: null };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `payload is not JSON: ${(e as Error).message}`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'payload must be a JSON object of arguments';
  const args: CommandArgs = {};
  let id: string | number | null = null;
  for (const [k, x] of Object.entries(v)) {
    if (k === '$id') {
      if (typeof x === 'string' || typeof x === 'number') id = x;
      continue;
    }
    if (typeof x !== 'number' && typeof x !== 'string' && typeof x !== 'boolean') return `argument "${k}" must be a number, string or boolean`;
    args[k] = x;
  }
  return { args, id };
}

async function unsCommand(ctx: CommandContext, m: Incoming): Promise<void> {
  const t = parseCommandTopic(ctx.prefix, m.topic)!;
  const target = t.station === null ? 'line' : (ctx.stationOf(t.station) ?? t.station);
  const parsed = parseArgs(m.payload);
  let result: CommandResult;
  let id: string | number | null = null;
  if (typeof parsed !== 'string') id = parsed.id;
  if (m.retain) result = refuse(ctx, `command ${t.command}`, RETAINED, m, 'NOT_ALLOWED');
  else if (typeof parsed === 'string') result = refuse(ctx, `command ${t.command}`, parsed, m);
  else {
    const cmd: Command = { target, command: t.command, args: parsed.args, source: 'mqtt', principal: m.principal, ...(m.role === null ? {} : { role: m.role }) };
    const bad = checkCommand(cmd);
    result = bad !== null && !bad.ok ? refuse(ctx, `command ${t.command}`, bad.reason, m, bad.code) : await ctx.send(cmd);
  }
  const body: Record<string, unknown> = result.ok
    ? { ok: true, target, command: t.command }
    : { ok: false, target, command: t.command, error: { code: result.code, message: result.reason } };
  if (id !== null) body.$id = id;
  ctx.reply(`${m.topic}/reply`, body);
}

async function ncmd(ctx: CommandContext, m: Incoming): Promise<void> {
  if (m.retain) {
    refuse(ctx, 'NCMD', RETAINED, m);
    return;
  }
  const r = ctx.ncmd(m.payload, m.principal);
  if (r !== null) {
    ctx.warn(`MQTT: NCMD from ${m.principal} refused: ${r}`);
    refuse(ctx, 'NCMD', r, m);
  }
}

async function dcmd(ctx: CommandContext, m: Incoming): Promise<void> {
  if (m.retain) {
    refuse(ctx, 'DCMD', RETAINED, m);
    return;
  }
  const device = m.topic.split('/')[4] ?? '';
  const station = ctx.stationOf(device) ?? device;
  const r = ctx.dcmd(m.payload, station);
  if (typeof r === 'string') {
    ctx.warn(`MQTT: DCMD for ${device} from ${m.principal} refused: ${r}`);
    refuse(ctx, 'DCMD', r, m);
    return;
  }
  for (const c of r) {
    const cmd: Command = { target: station, command: c.command, args: c.args, source: 'mqtt', principal: m.principal, ...(m.role === null ? {} : { role: m.role }) };
    const bad = checkCommand(cmd);
    if (bad !== null && !bad.ok) refuse(ctx, 'DCMD', bad.reason, m, bad.code);
    else await ctx.send(cmd);
  }
}

const HANDLERS: Record<Kind, (ctx: CommandContext, m: Incoming) => Promise<void>> = {
  uns: unsCommand,
  ncmd,
  dcmd,
  other: async () => undefined,
};

/** The one dispatcher: routes a message to its kind's handler; never throws. */
export function dispatch(ctx: CommandContext, m: Incoming): Promise<void> {
  return HANDLERS[kindOf(ctx, m.topic)](ctx, m).catch((e: unknown) => {
    ctx.warn(`MQTT: command on ${m.topic} failed: ${e instanceof Error ? e.message : String(e)}`);
  });
}
