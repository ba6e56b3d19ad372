/** Raw-material source: releases parts into the line at a set rate. */
import type { MachineKind } from '../core/types.ts';
import { normal } from '../core/rng.ts';
import { clamp } from './flow.ts';
import { QUIET_FOREVER } from '../core/advance.ts';
import { H } from '../core/world-layout.ts';

export const source: MachineKind = {
  kind: 'source',
  title: { en: 'Raw-material source', zh: '原料投放' },
  role: 'source',
  companion: ['Machinery'],
  fields: {
    rate: { unit: '1/h', description: 'parts released per hour', access: 'rw', write: 'operator', default: 300, min: 0, max: 1e6 },
    jitter: { unit: '', description: 'coefficient of variation of the release interval', access: 'rw', default: 0.1, min: 0, max: 1 },
    limit: { unit: '', description: 'parts to release in all, 0 = no limit', access: 'rw', write: 'operator', default: 0, min: 0, max: 1e9, integer: true },
    nextAt: { unit: 'tick', description: 'tick of the next release', access: 'r', default: 0 },
    released: { unit: '', description: 'parts released so far', access: 'r', default: 0, integer: true },
  },
  alarms: [],
  quietFor(v, i, s, w) {
    if (!w.running(s) || v.rate![i]! <= 0) return QUIET_FOREVER;
    if (w.tick < v.nextAt![i]!) return v.nextAt![i]! - w.tick;
    const limit = v.limit![i]!;
    if (limit > 0 && v.released![i]! >= limit) return QUIET_FOREVER;
    // a full outfeed (or an exhausted part pool) waits for the world's transfer
    return (w.qLen[s] ?? 0) >= (w.st.slots[s] ?? 1) || (w.hdr[H.free] ?? -1) < 0 ? QUIET_FOREVER : 0;
  },
  advance() {
    // nothing accumulates while the next release is not due
  },
  step(v, i, s, w) {
    if (!w.running(s)) return;
    const rate = v.rate![i]!;
    if (rate <= 0 || w.tick < v.nextAt![i]!) return;
    const limit = v.limit![i]!;
    if (limit > 0 && v.released![i]! >= limit) return;
    if ((w.qLen[s] ?? 0) >= (w.st.slots[s] ?? 1)) return;
    const p = w.createPart(s);
    if (p < 0) return;
    w.parts.progress[p] = 1;
    v.released![i] = v.released![i]! + 1;
    const interval = (3600 / rate) * clamp(1 + v.jitter![i]! * normal(w.rng), 0.2, 3);
    v.nextAt![i] = w.tick + Math.max(1, Math.round(interval / w.dt));
  },
};
