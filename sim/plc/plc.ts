/**
 * The station PLC: one scan per `scanPeriod`. It finishes PackML acting states, aborts on
 * faults, sequences a latched station back to Execute, suspends a starved or blocked station
 * and turns alarm and interlock changes into events. Commands from every source land here.
 */
import type { World } from '../core/world.ts';
import { COMMON_ALARMS, COMMON_FIELDS, Activity, ALARM_INTERLOCK, ALARM_WEAR, Fault, FAULT_NAMES, type CommonField } from '../core/station.ts';
import { mayCommand, mayWrite, OK, reject, type Command, type CommandResult, type Role } from '../core/commands.ts';
import { disturb } from '../core/disturbance.ts';
import { actingDone, Cmd, Mode, MODE_NAMES, modeChangeAllowed, State, STATE_NAMES, transition, type PackmlCommand } from './packml.ts';

const ROLE_PROCESS = 1;
const EXECUTE = State.Execute;
const SUSPENDED = State.Suspended;
const BUSY = Activity.busy;
const DONE = new Int8Array(18).map((_, k) => actingDone(k));

/**
 * The scan pass of one tick: every station whose scan is due gets one — but most scans would
 * find nothing to do, and this runs for every station every tick, so a station is scanned only
 * while it needs attention (`w.attention`: an acting state, a fault, a latch, a changed alarm
 * or interlock, a command; the world raises the flag) or may have to suspend or unsuspend.
 * Skipped scans are exactly the ones that would have done nothing.
 */
export function plcScanAll(w: World, scanLeft: Int32Array, scanTicks: Int32Array): void {
  const { fault, interlock, interlockSeen, alarms, alarmsSeen, state, latch, waitSince, suspendDelay, activity } = w.st;
  const attention = w.attention;
  const tick = w.tick;
  const role = w.roleCode;
  const dt = w.dt;
  for (let s = 0; s < scanLeft.length; s++) {
    if (scanLeft[s]! > 0) {
      scanLeft[s]! -= 1;
      continue;
    }
    scanLeft[s] = scanTicks[s]! - 1;
    if (attention[s] === 0) {
      if (role[s] !== ROLE_PROCESS) continue;
      const st = state[s]!;
      const act = activity[s]!;
      if (!((st === EXECUTE && act !== BUSY && (tick - waitSince[s]!) * dt >= suspendDelay[s]!) || (st === SUSPENDED && act === BUSY))) continue;
    }
    plcScan(w, s);
    attention[s] =
      fault[s] !== 0 || interlock[s] !== interlockSeen[s] || alarms[s] !== alarmsSeen[s] || DONE[state[s]!]! >= 0 || latch[s] !== 0 ? 1 : 0;
  }
}

/** One PLC scan of station `s`. Allocates only when it logs an event. */
export function plcScan(w: World, s: number): void {
  const st = w.st;
  if (st.fault[s] !== 0 && w.tick >= (st.faultEnd[s] ?? 0)) w.repair(s);

  const ilk = st.interlock[s] ?? 0;
  if (ilk !== st.interlockSeen[s]) {
    w.emit('interlock', s, { bits: ilk, tripped: ilk !== 0 });
    st.interlockSeen[s] = ilk;
    w.setAlarm(s, ALARM_INTERLOCK, ilk !== 0);
  }
  const alarms = st.alarms[s] ?? 0;
  const seen = st.alarmsSeen[s] ?? 0;
  if (alarms !== seen) alarmEvents(w, s, alarms, seen);

  const state = st.state[s] ?? 0;
  const done = actingDone(state);
  if (done > 0) {
    if ((w.tick - st.stateSince[s]!) * w.dt >= st.transitionTime[s]!) w.setState(s, done);
    return;
  }
  if (st.fault[s] !== 0) {
    if (state !== State.Aborted) w.setState(s, State.Aborting, 'fault');
    return;
  }
  if (st.latch[s] === 1 && st.mode[s] !== Mode.manual) {
    if (state === State.Aborted) w.setState(s, State.Clearing, 'auto');
    else if (state === State.Stopped || state === State.Complete) w.setState(s, State.Resetting, 'auto');
    else if (state === State.Idle) w.setState(s, State.Starting, 'auto');
    else if (state === State.Held) w.setState(s, State.Unholding, 'auto');
    else if (state === State.Execute) st.latch[s] = 0;
    return;
  }
  if (w.roleCode[s] !== ROLE_PROCESS) return;
  if (state === State.Execute && st.activity[s] !== Activity.busy && (w.tick - st.waitSince[s]!) * w.dt >= st.suspendDelay[s]!) {
    w.setState(s, State.Suspending, st.activity[s] === Activity.blocked ? 'blocked' : 'starved');
  } else if (state === State.Suspended && st.activity[s] === Activity.busy) {
    w.setState(s, State.Unsuspending, 'material');
  }
}

function alarmEvents(w: World, s: number, now: number, before: number): void {
  const st = w.st;
  const kind = w.kindOf[s];
  const changed = now ^ before;
  for (let bit = 0; bit < 31; bit++) {
    const m = 1 << bit;
    if ((changed & m) === 0) continue;
    const spec = kind?.alarms.find((a) => a.bit === bit) ?? COMMON_ALARMS_BY_BIT.get(bit);
    const data = { code: spec?.code ?? `BIT${bit}`, severity: spec?.severity ?? 500, text: spec?.text.en ?? '' };
    if ((now & m) !== 0) w.emit('alarm', s, data);
    else {
      w.emit('alarm-clear', s, data);
      st.alarmsAcked[s] = (st.alarmsAcked[s] ?? 0) & ~m;
    }
  }
  st.alarmsSeen[s] = now;
}

const COMMON_ALARMS_BY_BIT = new Map(COMMON_ALARMS.map((a) => [a.bit, a]));

/** The alarms station `s` can raise: its kind's and the common ones. */
function alarmSpecs(w: World, s: number): readonly { bit: number; code: string }[] {
  return [...(w.kindOf[s]?.alarms ?? []), ...COMMON_ALARMS];
}

/** The bit of the alarm `v` names on station `s` (its code, any case, or its bit number); null if none. */
function alarmBit(w: World, s: number, v: string | number | boolean): number | null {
  const specs = alarmSpecs(w, s);
  if (typeof v === 'number') return Number.isInteger(v) && specs.some((a) => a.bit === v) ? v : null;
  if (typeof v !== 'string') return null;
  const code = v.toUpperCase();
  return specs.find((a) => a.code.toUpperCase() === code)?.bit ?? null;
}

function alarmCode(w: World, s: number, bit: number): string {
  return alarmSpecs(w, s).find((a) => a.bit === bit)?.code ?? `BIT${bit}`;
}

function alarmCodes(w: World, s: number): string {
  return alarmSpecs(w, s).map((a) => a.code).join(', ');
}

const PACKML = new Set<string>(Object.keys(Cmd));

/** Applies one command; never throws for bad input, returns a rejection instead. */
export function applyCommand(w: World, c: Command): CommandResult {
  if (typeof c.command !== 'string') return reject('BAD_ARGUMENT', 'command must be a string');
  if (c.target === 'line') return lineCommand(w, c);
  const s = w.indexOf(c.target);
  if (s < 0) return reject('UNKNOWN_TARGET', `no station "${String(c.target)}"`);
  const st = w.st;
  const state = st.state[s] ?? 0;
  const denied = mayCommand(c.role, c.command);
  if (denied !== null) return reject('NOT_AUTHORIZED', denied);
  if (PACKML.has(c.command)) {
    const cmd = Cmd[c.command as PackmlCommand];
    const next = transition(state, cmd);
    if (next < 0) {
      const hint = cmd === Cmd.start && state === State.Stopped ? '; send reset first' : '';
      return reject('NOT_ALLOWED', `${c.command} is not allowed in state ${STATE_NAMES[state] ?? state}${hint}`);
    }
    if ((cmd === Cmd.reset || cmd === Cmd.start || cmd === Cmd.clear || cmd === Cmd.unhold) && st.fault[s] !== 0) {
      return reject('NOT_ALLOWED', `${c.command} refused: fault "${FAULT_NAMES[st.fault[s] ?? 0]}" is active`);
    }
    if (cmd === Cmd.stop || cmd === Cmd.abort || cmd === Cmd.hold || cmd === Cmd.suspend || cmd === Cmd.complete) st.latch[s] = 0;
    w.setState(s, next, c.source);
    return OK;
  }
  const args = c.args ?? {};
  switch (c.command) {
    case 'set':
      return setField(w, s, args.field, args.value, c.role);
    case 'mode': {
      const m = typeof args.mode === 'number' ? args.mode : Mode[String(args.mode).toLowerCase() as keyof typeof Mode];
      if (m !== 1 && m !== 2 && m !== 3) return reject('BAD_ARGUMENT', `mode must be production, maintenance or manual, got ${JSON.stringify(args.mode)}`);
      if (!modeChangeAllowed(state)) return reject('NOT_ALLOWED', `unit mode can change only in Stopped, Idle, Aborted or Complete, not ${STATE_NAMES[state]}`);
      if (st.mode[s] !== m) {
        const from = MODE_NAMES[st.mode[s] ?? 0] ?? '';
        st.mode[s] = m;
        w.emit('mode', s, { from, to: MODE_NAMES[m] ?? '' });
      }
      return OK;
    }
    case 'ack': {
      // every active alarm, or the one `alarm` names (its code, e.g. "JAM", or its bit)
      const active = st.alarms[s] ?? 0;
      let bits = active;
      if (args.alarm !== undefined) {
        const bit = alarmBit(w, s, args.alarm);
        if (bit === null) return reject('BAD_ARGUMENT', `alarm must be an alarm code of station ${c.target} (${alarmCodes(w, s)}) or its bit, got ${JSON.stringify(args.alarm).slice(0, 60)}`);
        if ((active & (1 << bit)) === 0) return reject('NOT_ALLOWED', `alarm ${alarmCode(w, s, bit)} is not active`);
        bits = 1 << bit;
      }
      st.alarmsAcked[s] = ((st.alarmsAcked[s] ?? 0) | bits) & active;
      w.emit('alarm-ack', s, { bits, principal: c.principal });
      return OK;
    }
    case 'fault': {
      const duration = args.duration ?? 60;
      if (typeof duration !== 'number' || !Number.isFinite(duration) || duration <= 0 || duration > 1e7) {
        return reject('BAD_ARGUMENT', `fault duration must be a number of seconds in (0, 1e7], got ${JSON.stringify(duration)}`);
      }
      // a planned intervention (predictive maintenance) is not a fault one injects
      const faults = FAULT_NAMES.slice(1, Fault.maintenance);
      const code = args.code === undefined ? Fault.injected : FAULT_NAMES.indexOf(String(args.code));
      if (code <= 0 || code >= Fault.maintenance) return reject('BAD_ARGUMENT', `fault code must be one of ${faults.join(', ')}`);
      if (st.fault[s] !== 0) return reject('NOT_ALLOWED', `station already has fault "${FAULT_NAMES[st.fault[s] ?? 0]}"`);
      w.fail(s, code, duration);
      return OK;
    }
    case 'disturb':
      return disturb(w, s, args);
    case 'repair':
      if (st.fault[s] === 0) return reject('NOT_ALLOWED', 'no fault to repair');
      w.repair(s);
      return OK;
    case 'maintain':
      if (st.mode[s] !== Mode.maintenance) return reject('NOT_ALLOWED', 'maintenance needs unit mode Maintenance');
      st.wear[s] = 0;
      st.hazard[s] = 0;
      w.setAlarm(s, ALARM_WEAR, false);
      return OK;
    default:
      return reject('UNKNOWN_COMMAND', `unknown command "${c.command}"`);
  }
}

function setField(w: World, s: number, field: unknown, value: unknown, role: Role | undefined): CommandResult {
  if (typeof field !== 'string') return reject('BAD_ARGUMENT', 'set needs args.field (string)');
  const spec = w.fieldSpec(s, field);
  if (spec === undefined) return reject('UNKNOWN_PARAM', `station "${w.ids[s]}" has no field "${field}"`);
  if (spec.access !== 'rw') return reject('NOT_ALLOWED', `field "${field}" is read-only`);
  const denied = mayWrite(role, spec.write ?? 'engineer', w.st.mode[s] === Mode.maintenance);
  if (denied !== null) return reject('NOT_AUTHORIZED', `${field}: ${denied}`);
  if (typeof value !== 'number' || !Number.isFinite(value)) return reject('BAD_ARGUMENT', `value for "${field}" must be a finite number, got ${JSON.stringify(value)}`);
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
    return reject('OUT_OF_RANGE', `${field} = ${value} ${spec.unit} is outside [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`);
  }
  if (spec.integer === true && !Number.isInteger(value)) return reject('BAD_ARGUMENT', `${field} must be an integer`);
  if (field === 'slots' && value < (w.qLen[s] ?? 0)) return reject('NOT_ALLOWED', `slots cannot drop below the ${w.qLen[s]} parts held now`);
  w.write(s, field, value);
  return OK;
}

function lineCommand(w: World, c: Command): CommandResult {
  const st = w.st;
  const denied = mayCommand(c.role, c.command);
  if (denied !== null) return reject('NOT_AUTHORIZED', denied);
  if (c.command === 'start') {
    for (let s = 0; s < w.size; s++) st.latch[s] = 1;
    return OK;
  }
  if (!PACKML.has(c.command)) return reject('UNKNOWN_COMMAND', `unknown line command "${c.command}"`);
  const cmd = Cmd[c.command as PackmlCommand];
  for (let s = 0; s < w.size; s++) {
    const next = transition(st.state[s] ?? 0, cmd);
    if (next < 0) continue;
    if (cmd === Cmd.stop || cmd === Cmd.abort || cmd === Cmd.hold) st.latch[s] = 0;
    w.setState(s, next, c.source);
  }
  return OK;
}

/** Names of the common fields that are parameters (settable from scenarios). */
export const COMMON_PARAMS: readonly CommonField[] = (Object.keys(COMMON_FIELDS) as CommonField[]).filter((f) => COMMON_FIELDS[f].access === 'rw');
