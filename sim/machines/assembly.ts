/**
 * High-mix manual assembly station (a module built by a crew from a kit and drawings). Each
 * order (one part) takes person-time: the work content `assemblyTime`, plus what organising
 * it costs, which is where paper dispatch and MES differ:
 * - `orderOverhead`: finding the work order, its drawings and its kit, and checking them;
 * - a family change (`changeoverTime`: jigs, tools, fixtures) when the order is of another
 *   product family than the last. Orders arrive in the mix of `families` families: in random
 *   order (`sequenced` 0) a change comes with probability 1 − 1/families; sequenced by
 *   family (`sequenced` 1, an MES dispatch list) one every `batch` orders;
 * - a wrong or missing kit part (`kitErrorRate`) found during the work and fetched
 *   (`fetchTime`).
 * The crew shares the person-time of the order at the head (drawn when it arrives). A kit
 * error that reaches the module unseen is not modelled: every error is found and fetched.
 */
import type { KindView, MachineKind } from '../core/types.ts';
import { chance, uniform } from '../core/rng.ts';
import { advanceFifo, crewCycle, crewSteady, fifoAdvance, fifoQuiet, headInWork, heldOps, justFinished, newHead } from './flow.ts';
import { ALL_PLACES, crewed, staff, staffing } from '../core/crew.ts';

const ALARM_NO_CREW = 1;

/** Expected person-seconds of one order (for the ideal rate). */
function expectedOrder(v: KindView, i: number): number {
  const change = v.sequenced![i] === 1 ? 1 / v.batch![i]! : 1 - 1 / v.families![i]!;
  return v.assemblyTime![i]! + v.orderOverhead![i]! + change * v.changeoverTime![i]! + v.kitErrorRate![i]! * v.fetchTime![i]!;
}

export const assembly: MachineKind = {
  kind: 'assembly',
  title: { en: 'High-mix assembly station', zh: '多品种装配工位' },
  role: 'process',
  companion: ['Machinery'],
  fields: {
    assemblyTime: { unit: 's', description: 'work content of one order for one person (the crew shares it)', access: 'rw', default: 14400, min: 1, max: 1e6 },
    orderOverhead: { unit: 's', description: 'person-time per order to find and check its work order, drawings and kit', access: 'rw', default: 1800, min: 0, max: 1e6 },
    families: { unit: '', description: 'product families in the order mix (jigs and tools differ between families)', access: 'rw', default: 8, min: 1, max: 10000, integer: true },
    sequenced: { unit: '', description: '1: orders dispatched in family batches (MES dispatch list); 0: in arrival order', access: 'rw', default: 0, min: 0, max: 1, integer: true },
    batch: { unit: '', description: 'orders of one family in a row when sequenced', access: 'rw', default: 4, min: 1, max: 1000, integer: true },
    changeoverTime: { unit: 's', description: 'person-time to change jigs, tools and fixtures to another family', access: 'rw', default: 3600, min: 0, max: 1e6 },
    kitErrorRate: { unit: '', description: 'share of orders with a wrong or missing kit part', access: 'rw', default: 0.2, min: 0, max: 1 },
    fetchTime: { unit: 's', description: 'person-time to find and fetch a wrong or missing part', access: 'rw', default: 3600, min: 0, max: 1e6 },
    toolPower: { unit: 'W', description: 'tools, hoists and lighting while working', access: 'rw', default: 2000, min: 0, max: 1e5 },
    orderTime: { unit: 's', description: 'person-time of the order in work', access: 'r', default: 0 },
    family: { unit: '', description: 'product family of the order in work (1…families)', access: 'r', default: 0, integer: true },
    headSerial: { unit: '', description: 'serial of the order whose time was drawn', access: 'r', default: 0 },
    orders: { unit: '', description: 'orders started', access: 'r', default: 0, integer: true },
    changeovers: { unit: '', description: 'family changes made', access: 'r', default: 0, integer: true },
    kitErrors: { unit: '', description: 'orders with a wrong or missing kit part', access: 'r', default: 0, integer: true },
  },
  alarms: [{ bit: 0, code: 'NO_CREW', severity: 500, text: { en: 'Assembly order waiting for its crew', zh: '装配订单等待班组' } }],
  idealRate(v, i, s, w) {
    return 1 / crewCycle(expectedOrder(v, i), staffing(w, s));
  },
  quietFor(v, i, s, w) {
    const pooled = crewed(w, s);
    const want = pooled && headInWork(w, s) ? ALL_PLACES : 0;
    const ops = heldOps(w, s);
    if (!crewSteady(w, s, want, ALARM_NO_CREW, ops <= 0 && (want > 0 || !pooled))) return 0;
    // a new order at the head draws its time
    const head = w.qHead[s] ?? -1;
    if (head >= 0 && w.parts.serial[head] !== v.headSerial![i]) return 0;
    return fifoQuiet(w, s, crewCycle(v.orderTime![i]!, ops));
  },
  advance(v, i, s, w, k) {
    fifoAdvance(w, s, crewCycle(v.orderTime![i]!, heldOps(w, s)), k);
  },
  step(v, i, s, w) {
    const pooled = crewed(w, s);
    const want = pooled && headInWork(w, s) ? ALL_PLACES : 0;
    const ops = pooled ? staff(w, s, want) : w.st.operators[s]!;
    w.setAlarm(s, ALARM_NO_CREW, ops <= 0 && (want > 0 || !pooled));
    if (newHead(w, s, v.headSerial!, i) >= 0) {
      const n = v.orders![i]!;
      const families = v.families![i]!;
      const last = v.family![i]!;
      let next: number;
      if (v.sequenced![i] === 1) next = last > 0 && n % v.batch![i]! !== 0 ? last : (last % families) + 1;
      else next = 1 + Math.min(families - 1, Math.floor(uniform(w.rng) * families));
      let t = v.assemblyTime![i]! + v.orderOverhead![i]!;
      if (last > 0 && next !== last) {
        t += v.changeoverTime![i]!;
        v.changeovers![i] = v.changeovers![i]! + 1;
      }
      if (chance(w.rng, v.kitErrorRate![i]!)) {
        t += v.fetchTime![i]!;
        v.kitErrors![i] = v.kitErrors![i]! + 1;
      }
      v.family![i] = next;
      v.orders![i] = n + 1;
      v.orderTime![i] = t;
    }
    const worked = advanceFifo(w, s, 1, crewCycle(v.orderTime![i]!, ops));
    w.st.power[s] = w.running(s) && worked > 0 ? v.toolPower![i]! : 0;
    justFinished(w, s);
  },
};
