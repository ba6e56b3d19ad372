/**
 * Sorter (diverter). Takes `cycleTime` per part; a part flagged rejected by inspection leaves
 * through the station's reject route (the world routes by flag), or, if the station has no
 * reject route, is scrapped here. Parts not flagged pass on. The diverter itself adds no
 * defects: what it sorts is only as good as the inspection before it.
 */
import type { MachineKind } from '../core/types.ts';
import { PartFlag } from '../core/parts.ts';
import { advanceFifo, fifoAdvance, fifoQuiet, justFinished } from './flow.ts';

export const sorter: MachineKind = {
  kind: 'sorter',
  title: { en: 'Sorter / diverter', zh: '分拣机' },
  role: 'process',
  companion: ['Machinery'],
  fields: {
    cycleTime: { unit: 's', description: 'time per part', access: 'rw', write: 'operator', default: 2, min: 0.05, max: 600 },
    drivePower: { unit: 'W', description: 'diverter and belt power while running', access: 'rw', default: 750, min: 0, max: 1e5 },
    diverted: { unit: '', description: 'flagged parts sent to reject or scrapped', access: 'r', default: 0, integer: true },
  },
  alarms: [],
  idealRate(v, i) {
    return 1 / v.cycleTime![i]!;
  },
  quietFor(v, i, s, w) {
    return fifoQuiet(w, s, v.cycleTime![i]!);
  },
  advance(v, i, s, w, k) {
    fifoAdvance(w, s, v.cycleTime![i]!, k);
  },
  step(v, i, s, w) {
    w.st.power[s] = w.running(s) ? v.drivePower![i]! : 0;
    advanceFifo(w, s, 1, v.cycleTime![i]!);
    const p = justFinished(w, s);
    if (p < 0 || ((w.parts.flags[p] ?? 0) & PartFlag.rejected) === 0) return;
    v.diverted![i] = v.diverted![i]! + 1;
    if ((w.rejectOf[s] ?? -1) < 0) w.scrap(s, p, 'rejected');
  },
};
