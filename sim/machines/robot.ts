/**
 * Pick-and-place robot (handling between machines). One pick per `cycleTime`. The gripper
 * wears with operating hours; a pick slips with probability dropRate + wearDropRate·wear², and
 * a dropped part is either damaged (`Defect.handling`, travels on) or lost (`dropScrap` = 1).
 * Power: servo drives while moving, brakes and controller while waiting.
 */
import type { MachineKind } from '../core/types.ts';
import { chance } from '../core/rng.ts';
import { Defect } from '../core/parts.ts';
import { addDefect, advanceFifo, cycleTimeTiming, justFinished, waitingPower } from './flow.ts';

const ALARM_GRIPPER_WORN = 1;
const ALARM_DROP = 2;

export const robot: MachineKind = {
  kind: 'robot',
  title: { en: 'Handling robot', zh: '搬运机器人' },
  role: 'process',
  companion: ['Machinery', 'Robotics'],
  fields: {
    cycleTime: { unit: 's', description: 'time per pick-and-place', access: 'rw', write: 'operator', default: 12, min: 0.2, max: 3600 },
    payload: { unit: 'kg', description: 'rated payload', access: 'rw', default: 50, min: 0.1, max: 2000 },
    dropRate: { unit: '', description: 'share of picks that slip with a new gripper', access: 'rw', default: 0.0005, min: 0, max: 1 },
    wearDropRate: { unit: '', description: 'extra slip share with a fully worn gripper', access: 'rw', default: 0.05, min: 0, max: 1 },
    dropScrap: { unit: '', description: '1: a dropped part is lost (scrap), 0: it is damaged and travels on', access: 'rw', default: 0, min: 0, max: 1, integer: true },
    movePower: { unit: 'W', description: 'servo power while moving', access: 'rw', default: 4500, min: 0, max: 1e5 },
    idlePower: { unit: 'W', description: 'controller power while waiting', access: 'rw', default: 400, min: 0, max: 1e5 },
    picks: { unit: '', description: 'picks made', access: 'r', default: 0, integer: true },
    drops: { unit: '', description: 'parts dropped', access: 'r', default: 0, integer: true },
  },
  alarms: [
    { bit: 0, code: 'GRIPPER_WORN', severity: 300, text: { en: 'Gripper worn: replace fingers', zh: '夹爪磨损，需更换' } },
    { bit: 1, code: 'PART_DROPPED', severity: 500, text: { en: 'Part dropped by the gripper', zh: '夹爪掉件' } },
  ],
  ...cycleTimeTiming,
  step(v, i, s, w) {
    const worked = advanceFifo(w, s, 1, v.cycleTime![i]!);
    w.st.power[s] = w.running(s) ? (worked > 0 ? v.movePower![i]! : v.idlePower![i]!) : waitingPower(w, s, v.idlePower![i]!);
    const p = justFinished(w, s);
    if (p < 0) return;
    v.picks![i] = v.picks![i]! + 1;
    const wear = w.st.wear[s] ?? 0;
    w.setAlarm(s, ALARM_GRIPPER_WORN, wear > 0.6);
    const dropped = chance(w.rng, v.dropRate![i]! + v.wearDropRate![i]! * wear * wear);
    w.setAlarm(s, ALARM_DROP, dropped);
    if (!dropped) return;
    v.drops![i] = v.drops![i]! + 1;
    if (v.dropScrap![i] === 1) w.scrap(s, p, 'dropped');
    else addDefect(w, p, Defect.handling);
  },
};
