/**
 * Fields every station has, whatever its kind: PLC and PackML state, faults and wear, energy,
 * alarms, the part queue and OEE time accounting. Parameters here (`access: 'rw'`) can be set
 * per station in a scenario like a kind's own parameters.
 */
import type { AlarmSpec, FieldSpec } from './types.ts';

/** Common station fields; `rw` ones are parameters. */
export const COMMON_FIELDS = {
  state: { unit: '', description: 'PackML state (PackTags StateCurrent)', access: 'r', default: 2, integer: true },
  mode: { unit: '', description: 'unit mode: 1 Production, 2 Maintenance, 3 Manual', access: 'r', default: 1, integer: true },
  stateSince: { unit: 'tick', description: 'tick the current PackML state was entered', access: 'r', default: 0 },
  latch: { unit: '', description: '1 while the PLC sequences the station towards Execute', access: 'r', default: 0, integer: true },
  fault: { unit: '', description: 'active fault code, 0 = none', access: 'r', default: 0, integer: true },
  faultEnd: { unit: 'tick', description: 'tick at which the active fault is repaired', access: 'r', default: 0 },
  hazard: { unit: '', description: 'accumulated failure hazard since the last repair', access: 'r', default: 0 },
  hazardLimit: { unit: '', description: 'hazard at which the next failure happens (drawn Exp(1))', access: 'r', default: 1 },
  wear: { unit: '', description: 'wear from 0 (new) to 1 (worn out)', access: 'r', default: 0, min: 0, max: 1 },
  energy: { unit: 'J', description: 'energy used since start', access: 'r', default: 0 },
  power: { unit: 'W', description: 'electrical or fuel power drawn now', access: 'r', default: 0 },
  alarms: { unit: '', description: 'active alarm bits', access: 'r', default: 0, integer: true },
  alarmsSeen: { unit: '', description: 'alarm bits as of the last PLC scan', access: 'r', default: 0, integer: true },
  alarmsAcked: { unit: '', description: 'acknowledged alarm bits', access: 'r', default: 0, integer: true },
  interlock: { unit: '', description: 'active interlock bits; any bit stops the station', access: 'r', default: 0, integer: true },
  interlockSeen: { unit: '', description: 'interlock bits as of the last PLC scan', access: 'r', default: 0, integer: true },
  activity: { unit: '', description: '0 starved, 1 busy, 2 blocked', access: 'r', default: 0, integer: true },
  waitSince: { unit: 'tick', description: 'tick the station last stopped being busy', access: 'r', default: 0 },
  timeClass: { unit: '', description: 'current OEE time class: activity (0–2) + 4 in Execute, or 3 down; -1 before the first tick', access: 'r', default: -1, integer: true },
  classSince: { unit: 'tick', description: 'tick the current time class began (its ticks are not yet in the counters below)', access: 'r', default: 0 },
  busyTicks: { unit: 'tick', description: 'ticks working on parts, up to classSince', access: 'r', default: 0 },
  starvedTicks: { unit: 'tick', description: 'ticks up but without parts, up to classSince', access: 'r', default: 0 },
  blockedTicks: { unit: 'tick', description: 'ticks up but unable to pass a finished part on, up to classSince', access: 'r', default: 0 },
  downTicks: { unit: 'tick', description: 'ticks not available (fault, stopped, held, aborted), up to classSince', access: 'r', default: 0 },
  runTicks: { unit: 'tick', description: 'ticks in Execute without fault (MTBF base), up to classSince', access: 'r', default: 0 },
  faultSince: { unit: 'tick', description: 'tick the active fault began', access: 'r', default: 0 },
  repairTicks: { unit: 'tick', description: 'ticks under repair, completed repairs', access: 'r', default: 0 },
  failures: { unit: '', description: 'breakdowns so far', access: 'r', default: 0, integer: true },
  partsIn: { unit: '', description: 'parts received', access: 'r', default: 0, integer: true },
  partsOut: { unit: '', description: 'parts passed on', access: 'r', default: 0, integer: true },
  partsScrapped: { unit: '', description: 'parts scrapped or rejected here', access: 'r', default: 0, integer: true },
  slots: { unit: '', description: 'parts the station holds at most (queue + in process)', access: 'rw', default: 1, min: 1, max: 4096, integer: true },
  mtbf: { unit: 's', description: 'mean operating time between failures of a new machine; 0: it never breaks down (the default of sources and sinks)', access: 'rw', default: 200 * 3600, min: 0, max: 1e9 },
  mttr: { unit: 's', description: 'mean time to repair', access: 'rw', default: 900, min: 1, max: 1e7 },
  wearRate: { unit: '1/h', description: 'wear added per operating hour', access: 'rw', default: 0.002, min: 0, max: 1 },
  pdmDetect: { unit: '', description: 'share of coming breakdowns that predictive maintenance sees in the machine\'s condition and turns into a planned intervention instead; 0: none (run to failure)', access: 'rw', default: 0, min: 0, max: 1 },
  pdmTime: { unit: 's', description: 'length of a planned intervention (people and spare parts ready); it renews the worn parts (wear back to 0)', access: 'rw', default: 1200, min: 1, max: 1e6 },
  operators: { unit: '', description: 'operators assigned to the station', access: 'rw', default: 0, min: 0, max: 100 },
  autoRecover: { unit: '', description: '1: after a repair the PLC clears, resets and restarts by itself', access: 'rw', default: 1, min: 0, max: 1, integer: true },
  scanPeriod: { unit: 's', description: 'PLC scan period', access: 'rw', default: 0.001, min: 0.001, max: 1 },
  transitionTime: { unit: 's', description: 'time each PackML acting state takes', access: 'rw', default: 0.5, min: 0, max: 600 },
  suspendDelay: { unit: 's', description: 'starved or blocked this long in Execute → Suspended', access: 'rw', default: 10, min: 0.01, max: 3600 },
  patrolTime: { unit: 's', description: 'mean time before someone walking the line notices a breakdown or jam that alerts nobody (exponential); the repair starts then. 0: noticed at once', access: 'rw', default: 0, min: 0, max: 86400 },
  stopAlert: { unit: '', description: '1: a breakdown or jam is pushed to the people at once (networked andon, phone alert), so patrolTime does not apply', access: 'rw', default: 0, min: 0, max: 1, integer: true },
  noticedAt: { unit: 'tick', description: 'tick the active fault is (or was) noticed; its repair cannot start before', access: 'r', default: 0 },
  standbyAfter: { unit: 's', description: 'Suspended this long → energy standby: drives and pumps off, 0 W (energy management on a metered machine); 0: never, a Suspended machine idles at its idle power', access: 'rw', default: 0, min: 0, max: 86400 },
} as const satisfies Record<string, FieldSpec>;

export type CommonField = keyof typeof COMMON_FIELDS;

/** Arrays of the common fields, one entry per station. */
export type StationArrays = { [K in CommonField]: Float64Array };

/** Alarm bits every station has; kinds use bits 0–23. */
export const COMMON_ALARMS: readonly AlarmSpec[] = [
  { bit: 24, code: 'BREAKDOWN', severity: 800, text: { en: 'Machine breakdown', zh: '设备故障停机' } },
  { bit: 25, code: 'INTERLOCK', severity: 700, text: { en: 'Interlock tripped', zh: '联锁触发' } },
  { bit: 26, code: 'WEAR', severity: 300, text: { en: 'Wear high: maintenance due', zh: '磨损偏高，需要维护' } },
  { bit: 27, code: 'JAM', severity: 600, text: { en: 'Material jam', zh: '物料卡堵' } },
];

/** Fault codes (the `fault` field). */
export const Fault = { none: 0, breakdown: 1, jam: 2, injected: 3, power: 4, sensor: 5, maintenance: 6 } as const;
/** by code; `maintenance` is a planned intervention (predictive maintenance), not a failure: never injected, not counted in `failures` */
export const FAULT_NAMES: readonly string[] = ['none', 'breakdown', 'jam', 'injected', 'power', 'sensor', 'maintenance'];

export const ALARM_BREAKDOWN = 1 << 24;
export const ALARM_INTERLOCK = 1 << 25;
export const ALARM_WEAR = 1 << 26;
export const ALARM_JAM = 1 << 27;

/** Activity values. */
export const Activity = { starved: 0, busy: 1, blocked: 2 } as const;
