/**
 * Physics of the machine kinds, each checked where it could go wrong: defects must follow the
 * process conditions (temperatures, speeds, fatigue), not a fixed percentage.
 */
import { describe, expect, it } from 'vitest';
import type { World } from '../../sim/core/world.ts';
import { straightLine, type LineStep } from './world-helpers.ts';
import { Defect, PartFlag } from '../../sim/core/parts.ts';
import { Fault } from '../../sim/core/station.ts';

type Params = Record<string, number>;
type Step = LineStep;

/** A straight line of `steps` ending in `out` (shipping) and `bin` (scrap bin for rejects); breakdowns off. */
const line = (steps: readonly Step[], seed = 1, dt = 0.001): World => straightLine(steps, dt, seed);

function runFor(w: World, seconds: number): void {
  w.step(Math.round(seconds / w.dt));
}

/** Share of parts that left through `out` or `bin` carrying defect `bit`, and how many left. */
function defectShare(w: World, bit: number): { share: number; n: number } {
  let n = 0;
  let hit = 0;
  w.drainEvents((e) => {
    if (e.type !== 'part-completed' && e.type !== 'part-scrapped') return;
    n++;
    if ((Number(e.data.defects) & bit) !== 0) hit++;
  });
  return { share: n > 0 ? hit / n : 0, n };
}

describe('kiln', () => {
  // 0.1 s tick: the kiln updates zones and ware every 0.1 s whatever the tick. Dunting is
  // switched off (very tolerant ware) so only firing above the recipe counts here; the firing
  // curve has its own tests (firing-inspection-physics.test.ts).
  const fired = (sp2: number): { share: number; n: number } => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 150, jitter: 0, slots: 2 } },
      { id: 'kiln', kind: 'kiln', params: { zones: 3, residence: 2400, slots: 80, tau: 600, sp2, recipe2: 1000, tripTemp: 1600, coolRate0: 1e4, heatRate0: 1e4 } },
    ], 1, 0.1);
    runFor(w, 2400);
    defectShare(w, 0);
    runFor(w, 3600);
    return defectShare(w, Defect.crack | Defect.shape);
  };

  it('bloats and slumps ware when a zone is set far above the recipe, more the further it is', () => {
    const onRecipe = fired(1000);
    const above = fired(1090);
    const farAbove = fired(1150);
    expect(onRecipe.n).toBeGreaterThan(100);
    expect(onRecipe.share).toBe(0);
    expect(above.share).toBeGreaterThan(0.2);
    expect(farAbove.share).toBeGreaterThan(above.share + 0.2);
  });
});

describe('dryer', () => {
  const dried = (airSp: number): { share: number; n: number; moisture: number } => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 720, jitter: 0, slots: 2 } },
      { id: 'dryer', kind: 'dryer', params: { slots: 20, residence: 300, dryingK: 0.012, airSp } },
    ]);
    runFor(w, 1800);
    return { ...defectShare(w, Defect.crack), moisture: w.read(w.indexOf('dryer'), 'lastMoisture') };
  };

  it('seals in latent cracks when the air is too cool to dry the parts', () => {
    const good = dried(110);
    const cool = dried(60);
    expect(good.n).toBeGreaterThan(80);
    expect(good.moisture).toBeLessThan(2);
    expect(good.share).toBe(0);
    // (60 − 35)/(110 − 35) of the drying rate leaves about 6 % moisture: most parts will crack.
    expect(cool.moisture).toBeGreaterThan(4);
    expect(cool.share).toBeGreaterThan(0.8);
  });
});

describe('pouring', () => {
  const poured = (pour: Params, seed = 1): { share: number; n: number; last: number } => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 3600, jitter: 0, slots: 4 } },
      { id: 'furnace', kind: 'induction-furnace', params: { batch: 10, partMass: 20, powerSp: 2e6, tapSp: 1500 } },
      { id: 'pour', kind: 'pouring', params: { ladleParts: 10, cycleTime: 20, ...pour } },
    ], seed);
    runFor(w, 3600);
    return { ...defectShare(w, Defect.coldShut), last: w.read(w.indexOf('pour'), 'lastPourTemp') };
  };

  it('pours near tap temperature and makes no cold shuts well above the minimum', () => {
    const r = poured({ minPourTemp: 1300 });
    expect(r.n).toBeGreaterThan(100);
    expect(r.last).toBeGreaterThan(1400);
    expect(r.last).toBeLessThanOrEqual(1500);
    expect(r.share).toBe(0);
  });

  it('makes cold shuts below minPourTemp, more with a larger shortfall', () => {
    const slight = poured({ minPourTemp: 1495 });
    const large = poured({ minPourTemp: 1560 });
    expect(slight.share).toBeGreaterThan(0.02);
    expect(large.share).toBeGreaterThan(slight.share + 0.2);
  });

  it('pours colder and makes more cold shuts by hand than the machine at the same limit', () => {
    const auto = poured({ minPourTemp: 1470, automatic: 1 });
    const manual = poured({ minPourTemp: 1470, automatic: 0, operators: 4, manualTime: 80, manualLadleTau: 8000, manualPourLoss: 20 });
    expect(manual.share).toBeGreaterThan(auto.share + 0.1);
  });
});

describe('quench', () => {
  const quenched = (chillerPower: number): { w: World; early: number; late: number } => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 600, jitter: 0, slots: 2 } },
      { id: 'q', kind: 'quench', params: { slots: 10, soakTime: 60, bathMass: 2000, chillerPower, maxBathTemp: 60, hardnessScale: 10 } },
    ]);
    runFor(w, 1200);
    const early = defectShare(w, Defect.hardness);
    runFor(w, 1200);
    const late = defectShare(w, Defect.hardness);
    return { w, early: early.share, late: late.share };
  };

  it('keeps hardness with a chiller that can carry the heat load', () => {
    // 600 parts/h × 20 kg × 600 J/(kg·K) × ~915 K ≈ 1.8 MW: a 3 MW chiller holds the bath.
    const r = quenched(3e6);
    expect(r.w.read(r.w.indexOf('q'), 'bathTemp')).toBeLessThan(45);
    expect(r.early + r.late).toBe(0);
  });

  it('makes soft parts once the bath overheats with too small a chiller', () => {
    const r = quenched(2e5);
    expect(r.w.read(r.w.indexOf('q'), 'bathTemp')).toBeGreaterThan(100);
    expect(r.late).toBeGreaterThan(0.8);
    expect(r.late).toBeGreaterThan(r.early);
  });
});

describe('vision', () => {
  it('finds real defects at the configured detection rate (binomial bound)', () => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 3600, jitter: 0, slots: 2 } },
      // A force five times the recipe: every part comes out misshapen.
      { id: 'press', kind: 'press', params: { cycleTime: 0.5, force: 4000, recipeForce: 800 } },
      { id: 'cam', kind: 'vision', params: { detectionRate: 0.9, falseRejectRate: 0, imagesPerMin: 600, imagesPerPart: 2, wearRate: 0 }, reject: 'bin' },
    ]);
    runFor(w, 2400);
    const v = w.viewOf[w.indexOf('cam')]!;
    const n = v.inspected![0]!;
    const rate = v.rejected![0]! / n;
    expect(n).toBeGreaterThan(2000);
    // 4σ of a binomial(n, 0.9) share
    expect(Math.abs(rate - 0.9)).toBeLessThan(4 * Math.sqrt((0.9 * 0.1) / n));
    expect(w.counters().escaped).toBe(n - v.rejected![0]!);
  });

  it('rejects good parts at the false-reject rate and detects less when worn', () => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 3600, jitter: 0, slots: 2 } },
      { id: 'cam', kind: 'vision', params: { falseRejectRate: 0.05, imagesPerMin: 600, imagesPerPart: 2, wearRate: 0 }, reject: 'bin' },
    ]);
    runFor(w, 2400);
    const c = w.counters();
    const n = c.shipped + c.scrapped;
    expect(n).toBeGreaterThan(2000);
    expect(Math.abs(c.scrappedGood / n - 0.05)).toBeLessThan(4 * Math.sqrt((0.05 * 0.95) / n));
    const cam = w.indexOf('cam');
    w.st.wear[cam] = 0.9;
    w.setAlarm(cam, 0, false);
    runFor(w, 10);
    expect(w.read(cam, 'detection')).toBeLessThan(0.98 * (1 - 0.4 * 0.9) + 1e-9);
    expect((w.st.alarms[cam] ?? 0) & 1).toBe(1);
  });
});

describe('manual inspection', () => {
  it('detects fewer defects late in the shift than early', () => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 3600, jitter: 0, slots: 2 } },
      { id: 'press', kind: 'press', params: { cycleTime: 0.5, force: 4000, recipeForce: 800 } },
      { id: 'insp', kind: 'manual-inspection', params: { operators: 4, secondsPerPart: 3, detectionRate: 0.9, falseRejectRate: 0, fatiguePerHour: 0.6, shiftLength: 1 }, reject: 'bin' },
    ]);
    const v = w.viewOf[w.indexOf('insp')]!;
    const share = (): [number, number] => [v.inspected![0]!, v.rejected![0]!];
    runFor(w, 60);
    const [i0, r0] = share();
    runFor(w, 600);
    const [i1, r1] = share();
    runFor(w, 2280);
    const [i2, r2] = share();
    runFor(w, 600);
    const [i3, r3] = share();
    const early = (r1 - r0) / (i1 - i0);
    const late = (r3 - r2) / (i3 - i2);
    expect(i1 - i0).toBeGreaterThan(400);
    // Windows 1–11 min and 49–59 min of a 1 h shift: expected ≈ 0.9·(1 − 0.6·0.1) ≈ 0.85
    // early and ≈ 0.9·(1 − 0.6·0.9) ≈ 0.41 late.
    expect(early).toBeGreaterThan(0.78);
    expect(late).toBeLessThan(0.5);
    // A new shift starts rested.
    runFor(w, 120);
    expect(w.read(w.indexOf('insp'), 'detection')).toBeGreaterThan(0.8);
  });
});

describe('conveyor', () => {
  const jams = (speed: number): number => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 2400, jitter: 0, slots: 2 } },
      { id: 'belt', kind: 'conveyor', params: { length: 20, speed, ratedSpeed: 0.5, pitch: 0.5, jamsPerKm: 0.3, jamClearTime: 10 } },
    ], 4);
    runFor(w, 3600);
    let n = 0;
    w.drainEvents((e) => {
      if (e.type === 'fault' && e.station === 'belt' && e.data.code === 'jam') n++;
    });
    expect(w.st.failures[w.indexOf('belt')]).toBe(n);
    return n;
  };

  it('jams much more often when run faster than rated', () => {
    const rated = jams(0.4);
    const fast = jams(1.0);
    expect(fast).toBeGreaterThan(3 * Math.max(rated, 1));
    expect(Fault.jam).toBe(2);
  });
});

describe('sorter and packer', () => {
  it('scraps flagged parts itself when it has no reject route, and ships only unflagged ones', () => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 3600, jitter: 0, slots: 2 } },
      { id: 'cam', kind: 'vision', params: { falseRejectRate: 0.3, imagesPerMin: 600, imagesPerPart: 2, wearRate: 0 } },
      { id: 'sort', kind: 'sorter', params: { cycleTime: 1 } },
    ]);
    runFor(w, 600);
    const cam = w.indexOf('cam');
    const sort = w.indexOf('sort');
    const c = w.counters();
    const flagged = w.read(cam, 'rejected');
    expect(flagged).toBeGreaterThan(100);
    // Every flagged part is scrapped at the sorter or still on its way there: none is shipped.
    expect(c.scrapped).toBe(w.st.partsScrapped[sort]);
    expect(w.read(sort, 'diverted')).toBe(c.scrapped);
    expect(flagged).toBe(c.scrapped + pendingFlagged(w, cam) + pendingFlagged(w, sort));
    const n = w.read(cam, 'inspected');
    expect(Math.abs(flagged / n - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / n));
  });

  it('releases parts only in full boxes', () => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 1800, jitter: 0.2, slots: 2 } },
      { id: 'pack', kind: 'packer', params: { partsPerBox: 12, boxTime: 20 } },
    ]);
    runFor(w, 1800);
    const pack = w.indexOf('pack');
    const out = w.st.partsOut[pack] ?? 0;
    expect(out).toBeGreaterThan(100);
    expect(out % 12).toBe(0);
    expect(w.read(pack, 'boxes')).toBe(out / 12);
    expect(w.counters().shipped).toBe(out);
  });
});

/** Flagged parts still inside station `s` (not yet sorted). */
function pendingFlagged(w: World, s: number): number {
  let n = 0;
  for (let p = w.qHead[s] ?? -1; p >= 0; p = w.parts.next[p] ?? -1) if ((w.parts.flags[p]! & PartFlag.rejected) !== 0) n++;
  return n;
}
