/** End of the line: ships parts to the customer, or (`scrapBin` = 1) takes rejects as scrap. */
import type { MachineKind } from '../core/types.ts';
import { QUIET_FOREVER } from '../core/advance.ts';

export const sink: MachineKind = {
  kind: 'sink',
  title: { en: 'Dispatch / reject bin', zh: '出货 / 废品箱' },
  role: 'sink',
  companion: ['Machinery'],
  fields: {
    scrapBin: { unit: '', description: '1: parts arriving here are scrap, 0: shipped to the customer', access: 'rw', default: 0, min: 0, max: 1, integer: true },
  },
  alarms: [],
  quietFor(_v, _i, s, w) {
    return (w.qHead[s] ?? -1) >= 0 ? 0 : QUIET_FOREVER;
  },
  advance() {
    // empty: nothing to ship
  },
  step(v, i, s, w) {
    const scrapBin = v.scrapBin![i] === 1;
    for (let p = w.qHead[s] ?? -1; p >= 0; p = w.qHead[s] ?? -1) {
      if (scrapBin) w.scrap(s, p, 'rejected');
      else w.ship(s, p);
    }
  },
  accepts() {
    return true;
  },
};
