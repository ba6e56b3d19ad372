/**
 * Before against after: the KPIs of two lines read at the same simulated time, each with its
 * change and whether that change is for the better (more output and OEE, less energy, fewer
 * people, less scrap, fewer defects shipped). The figures are the two lines' own KPIs.
 */
import type { Kpis } from './types.ts';

/** The KPIs compared, in the order shown. */
export const DELTA_KPIS = ['throughput', 'oee', 'yield', 'energy', 'operators', 'shipped', 'scrapped', 'escaped'] as const;
export type DeltaKpi = (typeof DELTA_KPIS)[number];

const READ: Readonly<Record<DeltaKpi, { of(k: Kpis): number | null; higherIsBetter: boolean }>> = {
  throughput: { of: (k) => k.throughputPerHour, higherIsBetter: true },
  oee: { of: (k) => k.oee, higherIsBetter: true },
  yield: { of: (k) => k.firstPassYield, higherIsBetter: true },
  energy: { of: (k) => k.energyPerGoodPartKWh, higherIsBetter: false },
  operators: { of: (k) => k.operators, higherIsBetter: false },
  shipped: { of: (k) => k.shipped, higherIsBetter: true },
  scrapped: { of: (k) => k.scrapped, higherIsBetter: false },
  escaped: { of: (k) => k.escaped, higherIsBetter: false },
};

/** One row: both figures, after − before, the change relative to before, and its sense. */
export interface KpiDelta {
  key: DeltaKpi;
  before: number | null;
  after: number | null;
  delta: number | null;
  /** (after − before) / |before|, or null when before is 0 or missing */
  relative: number | null;
  /** 'better' or 'worse' for the line, 'same' within rounding, null when a figure is missing */
  sense: 'better' | 'worse' | 'same' | null;
}

const finite = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);

/** The rows of `DELTA_KPIS` for `before` and `after`. */
export function kpiDeltas(before: Kpis, after: Kpis): KpiDelta[] {
  return DELTA_KPIS.map((key) => {
    const r = READ[key];
    const b = finite(r.of(before));
    const a = finite(r.of(after));
    if (a === null || b === null) return { key, before: b, after: a, delta: null, relative: null, sense: null };
    const delta = a - b;
    const same = Math.abs(delta) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    return {
      key, before: b, after: a, delta, relative: b === 0 ? null : delta / Math.abs(b),
      sense: same ? 'same' : (delta > 0) === r.higherIsBetter ? 'better' : 'worse',
    };
  });
}
