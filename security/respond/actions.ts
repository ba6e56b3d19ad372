/**
 * The containment and recovery actions of the range, as the REST API (`POST
 * /api/respond/<action>`), the CLI (`twinline respond <action>`) and the playbooks
 * (`do: <action>`, `with: {…}`) name them: each action's fields, who may perform it, and one
 * check of a request body that names the bad field. Pure: the host acts (sim/host/respond.ts).
 */
import type { Role } from '../../sim/core/commands.ts';
import { didYouMean } from '../../sim/line/locate.ts';

/** The actions, in the order a responder usually needs them. */
export const ACTIONS = [
  'ban', 'unban', 'close-sessions', 'isolate', 'reconnect', 'stop-station', 'resume-station', 'snapshot', 'restore-setpoints', 'note',
] as const;
export type ActionName = (typeof ACTIONS)[number];

/** Faces an action can isolate: those that take writes and commands from field clients. */
export const ISOLATABLE = ['opcua', 'mqtt', 'modbus'] as const;
export type IsolatableFace = (typeof ISOLATABLE)[number];

/** One field of an action's body. */
export interface FieldRule {
  type: 'string' | 'number' | 'boolean' | 'strings';
  /** what it is, for messages and `twinline respond --help` */
  about: string;
  /** allowed values (strings) */
  oneOf?: readonly string[];
  /** a string must match (names, ids) */
  pattern?: RegExp;
  /** longest string [characters] */
  max?: number;
}

/** What an action takes and who may perform it. */
export interface ActionSpec {
  name: ActionName;
  /** one line: what it does to the range */
  does: string;
  fields: Readonly<Record<string, FieldRule>>;
  /** fields of which exactly one must be given (e.g. an account or an MQTT client id) */
  oneOf?: readonly string[];
  /** fields that must be given */
  required?: readonly string[];
  /** roles that may perform it */
  roles: readonly Role[];
}

/** An account name as the store allows it, or `anonymous` (every anonymous client). */
const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** an MQTT client id: printable, no spaces */
const CLIENT_ID = /^[\x21-\x7e]{1,256}$/;
const STATION = /^[A-Za-z0-9_.-]{1,100}$/;
/** a playbook step (`contain.ban-attacker`) */
const STEP = /^[a-z][a-z0-9-]{0,39}(\.[a-z0-9][a-z0-9-]{0,59})?$/;

const RESPONDERS: readonly Role[] = ['engineer', 'instructor'];
/** common to every action: the playbook step it carries out and why (both go to the action log) */
const COMMON: Readonly<Record<string, FieldRule>> = {
  step: { type: 'string', about: 'the playbook step this carries out, e.g. contain.ban-attacker', pattern: STEP },
  reason: { type: 'string', about: 'why, in a few words (kept in the action log and the audit trail)', max: 300 },
};

/** Every action, by name. */
export const ACTION_SPECS: Readonly<Record<ActionName, ActionSpec>> = {
  ban: {
    name: 'ban', does: 'refuse an account (or every anonymous client) on every face, or an MQTT client id, and close what it holds open',
    fields: { account: { type: 'string', about: 'account name, or "anonymous" for every anonymous client', pattern: ACCOUNT }, mqttClient: { type: 'string', about: 'MQTT client id', pattern: CLIENT_ID } },
    oneOf: ['account', 'mqttClient'], roles: RESPONDERS,
  },
  unban: {
    name: 'unban', does: 'lift a ban',
    fields: { account: { type: 'string', about: 'account name or "anonymous"', pattern: ACCOUNT }, mqttClient: { type: 'string', about: 'MQTT client id', pattern: CLIENT_ID } },
    oneOf: ['account', 'mqttClient'], roles: RESPONDERS,
  },
  'close-sessions': {
    name: 'close-sessions', does: 'close the OPC UA sessions of an account (or the anonymous ones), or one session by id',
    fields: { user: { type: 'string', about: 'account name, or "anonymous"', pattern: ACCOUNT }, session: { type: 'string', about: 'session id as principals show it (ns=1;g=…)', max: 200, pattern: /^ns=\d+;[a-z]=[^\s]{1,190}$/ } },
    oneOf: ['user', 'session'], roles: RESPONDERS,
  },
  isolate: {
    name: 'isolate', does: 'stop a face accepting writes and commands (reads and subscriptions go on)',
    fields: { face: { type: 'string', about: 'the face', oneOf: ISOLATABLE } }, required: ['face'], roles: RESPONDERS,
  },
  reconnect: {
    name: 'reconnect', does: 'let an isolated face accept writes and commands again',
    fields: { face: { type: 'string', about: 'the face', oneOf: ISOLATABLE } }, required: ['face'], roles: RESPONDERS,
  },
  'stop-station': {
    name: 'stop-station', does: 'stop a station safely (PackML Stop, never Abort); with manual, also unit mode Manual so no line start restarts it',
    fields: { station: { type: 'string', about: 'station id', pattern: STATION }, manual: { type: 'boolean', about: 'switch to unit mode Manual once stopped' } },
    required: ['station'], roles: RESPONDERS,
  },
  'resume-station': {
    name: 'resume-station', does: 'unit mode Production and the station sequenced back to Execute (clear, reset, start)',
    fields: { station: { type: 'string', about: 'station id', pattern: STATION } }, required: ['station'], roles: RESPONDERS,
  },
  snapshot: {
    name: 'snapshot', does: 'keep the setpoints and parameters of every station now as a known-good snapshot',
    fields: { label: { type: 'string', about: 'a name for it', max: 80 } }, roles: RESPONDERS,
  },
  'restore-setpoints': {
    name: 'restore-setpoints', does: 'write back every setpoint and parameter that differs from a known-good snapshot (safety limits too with safety: true)',
    fields: {
      snapshot: { type: 'string', about: 'snapshot id, or "start" (taken as the host started; the default), or "latest"', pattern: /^(start|latest|\d{1,9})$/ },
      stations: { type: 'strings', about: 'station ids (default: every station)', pattern: STATION },
      safety: { type: 'boolean', about: 'also safety limits: the station is stopped, put in Maintenance and brought back' },
    },
    roles: RESPONDERS,
  },
  note: {
    name: 'note', does: 'record a step done outside the range (a report made, a call placed) in the action log',
    fields: { text: { type: 'string', about: 'what was done', max: 500 } }, required: ['text'], roles: [...RESPONDERS, 'operator'],
  },
};

/** A checked body: its fields, plus the common `step` and `reason`. */
export type ActionArgs = Record<string, string | number | boolean | string[]>;

/** The result of checking a body: the arguments, or the field at fault and why. */
export type Checked = { ok: true; args: ActionArgs } | { ok: false; field: string; message: string };

/** Whether `name` is an action. */
export function isAction(name: string): name is ActionName {
  return (ACTIONS as readonly string[]).includes(name);
}

/**
 * Checks a request body against an action's fields: unknown fields, wrong types, values out of
 * their set and missing or doubled alternatives are refused, naming the field. `placeholders`
 * (playbooks) lets a string be a `${…}` placeholder filled in from the incident.
 */
export function checkArgs(name: ActionName, body: unknown, placeholders = false): Checked {
  const spec = ACTION_SPECS[name];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, field: '(body)', message: `the body of ${name} must be a JSON object` };
  const fields: Record<string, FieldRule> = { ...spec.fields, ...COMMON };
  const args: ActionArgs = {};
  for (const [k, v] of Object.entries(body)) {
    const rule = fields[k];
    if (rule === undefined) return { ok: false, field: k.slice(0, 60), message: `${name} takes no field "${k.slice(0, 60)}"${didYouMean(k, Object.keys(fields))} (fields: ${Object.keys(fields).join(', ')})` };
    const bad = checkValue(rule, v, placeholders);
    if (bad !== null) return { ok: false, field: k, message: `${k} ${bad}` };
    args[k] = v as ActionArgs[string];
  }
  for (const r of spec.required ?? []) {
    if (args[r] === undefined) return { ok: false, field: r, message: `${name} needs ${r}: ${fields[r]?.about ?? ''}` };
  }
  if (spec.oneOf !== undefined) {
    const given = spec.oneOf.filter((k) => args[k] !== undefined);
    if (given.length !== 1) {
      return { ok: false, field: given[1] ?? spec.oneOf[0]!, message: `${name} needs exactly one of ${spec.oneOf.join(', ')}${given.length > 1 ? `, not ${given.join(' and ')}` : ''}` };
    }
  }
  return { ok: true, args };
}

/** `${station}`, `${account}` … inside a playbook's string */
export const PLACEHOLDER = /\$\{([a-zA-Z]+)\}/g;
/** what a playbook's placeholders may name */
export const PLACEHOLDERS = ['station', 'account', 'mqttClient', 'face'] as const;

function checkValue(rule: FieldRule, v: unknown, placeholders: boolean): string | null {
  const text = (s: unknown): string | null => {
    if (typeof s !== 'string') return `must be a string (${rule.about})`;
    if (placeholders && s.includes('${')) {
      const names = [...s.matchAll(PLACEHOLDER)].map((m) => m[1]!);
      const unknown = names.find((n) => !(PLACEHOLDERS as readonly string[]).includes(n));
      if (unknown !== undefined || names.length === 0) return `names an unknown placeholder ${unknown === undefined ? JSON.stringify(s.slice(0, 60)) : `\${${unknown}}`} (known: ${PLACEHOLDERS.map((p) => `\${${p}}`).join(', ')})`;
      return rule.max !== undefined && s.length > rule.max ? `is longer than ${rule.max} characters` : null;
    }
    if (rule.max !== undefined && s.length > rule.max) return `is longer than ${rule.max} characters`;
    if (rule.oneOf !== undefined && !rule.oneOf.includes(s)) return `must be one of ${rule.oneOf.join(', ')}, not ${JSON.stringify(s.slice(0, 60))}`;
    if (rule.pattern !== undefined && !rule.pattern.test(s)) return `${JSON.stringify(s.slice(0, 60))} is not valid (${rule.about})`;
    return null;
  };
  switch (rule.type) {
    case 'string':
      return text(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? null : `must be a number (${rule.about})`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `must be true or false (${rule.about})`;
    case 'strings': {
      if (!Array.isArray(v) || v.length === 0 || v.length > 200) return `must be a list of 1–200 strings (${rule.about})`;
      for (const [k, s] of v.entries()) {
        const bad = text(s);
        if (bad !== null) return `[${k}] ${bad}`;
      }
      return null;
    }
  }
}

/** The usage lines of every action (`twinline respond --help`, the 404 of an unknown action). */
export function actionUsage(): string[] {
  return ACTIONS.map((n) => {
    const s = ACTION_SPECS[n];
    const f = Object.entries(s.fields).map(([k, r]) => `${k}${s.required?.includes(k) === true ? '' : '?'}: ${r.oneOf?.join('|') ?? r.type}`);
    return `${n} {${f.join(', ')}}: ${s.does}`;
  });
}
