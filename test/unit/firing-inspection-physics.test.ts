/**
 * Sensitivity of the process physics where a retrofit decision lives: the kiln's firing curve
 * (residence, cooling, load) moves cracks and zone temperatures; inspection finds defects per
 * class, vision at its camera rate, people less as they tire and again after a break.
 *
 * Kiln runs use a 0.1 s tick: the kiln updates its zones and ware every 0.1 s whatever the tick
 * (kiln.ts, PART_PERIOD), so the physics is the same as at 1 ms and hours run in a moment.
 * Inspection runs use 10 ms (cycles of seconds).
 */
import { describe, expect, it } from 'vitest';
import type { World } from '../../sim/core/world.ts';
import { straightLine, type LineStep } from './world-helpers.ts';
import { Defect, DefectClass } from '../../sim/core/parts.ts';

type Params = Record<string, number>;
type Step = LineStep;

/** A straight line of `steps` ending in `out` (shipping) and `bin` (scrap bin for rejects); breakdowns off. */
const line = (steps: readonly Step[], dt: number, seed = 1): World => straightLine(steps, dt, seed);

const runFor = (w: World, seconds: number): void => w.step(Math.round(seconds / w.dt));

/** Share of parts that left carrying any of `bits`, and how many left (events drained). */
function share(w: World, bits: number): { share: number; n: number } {
  let n = 0;
  let hit = 0;
  w.drainEvents((e) => {
    if (e.type !== 'part-completed' && e.type !== 'part-scrapped') return;
    n++;
    if ((Number(e.data.defects) & bits) !== 0) hit++;
  });
  return { share: n > 0 ? hit / n : 0, n };
}

/** A porcelain firing like the ceramic line's: preheat 950 °C, peak 1320 °C, cooling zone 900 °C. */
const PORCELAIN: Params = {
  zones: 3, sp1: 950, recipe1: 950, sp2: 1320, recipe2: 1320, sp3: 900, recipe3: 900, tripTemp: 1400,
  tau: 900, maxPower: 400e3, maxTemp: 2000,
};

/** Fires porcelain through a kiln of `slots` places in `residence` s; parts come out for 1 h after the first. */
function fire(kiln: Params, residence: number, slots = 200): { crack: number; n: number; cool: number } {
  const rate = (slots / residence) * 3600 * 1.2;
  const w = line([
    { id: 'src', kind: 'source', params: { rate, jitter: 0, slots: 4 } },
    { id: 'kiln', kind: 'kiln', params: { ...PORCELAIN, residence, slots, ...kiln } },
  ], 0.1);
  runFor(w, residence);
  share(w, 0);
  runFor(w, 3600);
  const r = share(w, Defect.crack);
  return { crack: r.share, n: r.n, cool: w.read(w.indexOf('kiln'), 'lastCoolRate') };
}

describe('kiln firing curve', () => {
  it('cracks ware (dunting) when the residence is cut from 2 h to 20 min', () => {
    const long = fire({}, 7200);
    const short = fire({}, 1200);
    expect(long.n).toBeGreaterThan(80);
    expect(short.n).toBeGreaterThan(400);
    // 2 h: ~20 °C/min through the inversion, well under the ware's 40 °C/min scale
    expect(long.cool).toBeLessThan(30);
    expect(long.crack).toBeLessThan(0.03);
    expect(short.cool).toBeGreaterThan(2 * long.cool);
    expect(short.crack).toBeGreaterThan(0.5);
  });

  it('cracks more ware with a steeper cooling at the same residence', () => {
    const gentle = fire({ coolShare: 0.35 }, 3600);
    const steep = fire({ coolShare: 0.12 }, 3600);
    expect(steep.cool).toBeGreaterThan(gentle.cool * 1.5);
    expect(steep.crack).toBeGreaterThan(gentle.crack + 0.2);
  });

  it('under-fires ware when the soak is too short, and slumps or bloats it when fired over the recipe', () => {
    const run = (kiln: Params, residence: number): { under: number; over: number; n: number } => {
      const w = line([
        { id: 'src', kind: 'source', params: { rate: 150, jitter: 0, slots: 4 } },
        { id: 'kiln', kind: 'kiln', params: { ...PORCELAIN, residence, slots: Math.round(residence / 30), coolRate0: 1e4, heatRate0: 1e4, ...kiln } },
      ], 0.1);
      runFor(w, residence);
      share(w, 0);
      runFor(w, 3600);
      let n = 0;
      let under = 0;
      let over = 0;
      w.drainEvents((e) => {
        if (e.type !== 'part-completed' && e.type !== 'part-scrapped') return;
        const d = Number(e.data.defects);
        n++;
        if ((d & Defect.porosity) !== 0) under++;
        if ((d & (Defect.shape | Defect.crack)) !== 0) over++;
      });
      return { under: under / n, over: over / n, n };
    };
    const nominal = run({}, 7200);
    const fast = run({}, 2400);
    const hot = run({ sp2: 1380 }, 7200);
    expect(nominal.n).toBeGreaterThan(100);
    expect(nominal.under).toBeLessThan(0.03);
    expect(nominal.over).toBeLessThan(0.03);
    expect(fast.under).toBeGreaterThan(0.3);
    expect(hot.over).toBeGreaterThan(0.5);
  });

  it('lags more, and droops further below setpoint, when full of ware than when empty', () => {
    const zone = (rate: number): { droop: number; rise: number } => {
      const w = line([
        { id: 'src', kind: 'source', params: { rate, jitter: 0, slots: 4 } },
        { id: 'kiln', kind: 'kiln', params: { ...PORCELAIN, residence: 7200, slots: 480 } },
      ], 0.1);
      runFor(w, 7200);
      const k = w.indexOf('kiln');
      const droop = 1320 - w.read(k, 't2');
      w.enqueue({ target: 'kiln', command: 'set', args: { field: 'sp2', value: 1370 }, source: 'hmi', principal: 'test' });
      runFor(w, 60);
      return { droop, rise: w.read(k, 't2') - (1320 - droop) };
    };
    const empty = zone(0);
    const full = zone(300);
    expect(empty.droop).toBeGreaterThanOrEqual(0);
    // The controller does not see the ware: a full zone sits several degrees lower...
    expect(full.droop).toBeGreaterThan(empty.droop + 3);
    // ...and climbs more slowly after a setpoint step.
    expect(full.rise).toBeLessThan(empty.rise - 5);
  });
});

describe('inspection per defect class', () => {
  /** Cracked ware (dryer with cool air) or misshapen ware (press far over its force) through station `insp`. */
  const inspect = (defect: 'crack' | 'shape', insp: Step): { found: number; n: number } => {
    const make: Step = defect === 'crack'
      ? { id: 'dry', kind: 'dryer', params: { slots: 40, residence: 300, dryingK: 0.012, airSp: 40 } }
      : { id: 'press', kind: 'press', params: { cycleTime: 0.5, force: 4000, recipeForce: 800 } };
    const w = line([{ id: 'src', kind: 'source', params: { rate: 1800, jitter: 0, slots: 2 } }, make, insp], 0.01);
    runFor(w, 3600);
    let n = 0;
    let found = 0;
    w.drainEvents((e) => {
      if (e.type !== 'part-completed' && e.type !== 'part-scrapped') return;
      const d = Number(e.data.defects);
      if ((d & (defect === 'crack' ? DefectClass.internal : DefectClass.surface)) === 0) return;
      n++;
      if (e.type === 'part-scrapped') found++;
    });
    return { found: found / n, n };
  };
  const cam: Step = { id: 'cam', kind: 'vision', params: { imagesPerMin: 600, imagesPerPart: 2, detectionRate: 0.95, internalDetectionRate: 0.3, falseRejectRate: 0, wearRate: 0 }, reject: 'bin' };

  it('vision finds surface defects at its surface rate and internal cracks at its (lower) internal rate', () => {
    const surface = inspect('shape', cam);
    const internal = inspect('crack', cam);
    expect(surface.n).toBeGreaterThan(350);
    expect(internal.n).toBeGreaterThan(350);
    expect(Math.abs(surface.found - 0.95)).toBeLessThan(4 * Math.sqrt((0.95 * 0.05) / surface.n));
    expect(Math.abs(internal.found - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / internal.n));
  });

  it('a tap test finds the cracks a camera misses', () => {
    const tap: Step = { id: 'insp', kind: 'manual-inspection', params: { operators: 4, secondsPerPart: 4, detectionRate: 0.8, internalDetectionRate: 0.75, falseRejectRate: 0, fatiguePerHour: 0 }, reject: 'bin' };
    const byHand = inspect('crack', tap);
    const byCam = inspect('crack', cam);
    expect(byHand.found).toBeGreaterThan(byCam.found + 0.3);
  });
});

describe('vision capacity is its camera rate', () => {
  const perHour = (imagesPerMin: number, feed: number): number => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: feed, jitter: 0, slots: 4 } },
      { id: 'cam', kind: 'vision', params: { imagesPerMin, imagesPerPart: 6, wearRate: 0 }, reject: 'bin' },
    ], 0.01);
    runFor(w, 600);
    const before = w.read(w.indexOf('cam'), 'inspected');
    runFor(w, 3600);
    return w.read(w.indexOf('cam'), 'inspected') - before;
  };

  it('halving the camera rate halves pieces inspected when vision is the bottleneck, and not when it is not', () => {
    // 60 images/min at 6 per piece: 600 pieces/h against a feed of 2,000/h
    const full = perHour(60, 2000);
    const half = perHour(30, 2000);
    expect(full).toBeGreaterThan(580);
    expect(full).toBeLessThan(620);
    expect(half / full).toBeGreaterThan(0.45);
    expect(half / full).toBeLessThan(0.55);
    // fed 200/h, both cameras keep up: the feed decides
    expect(Math.abs(perHour(60, 200) - perHour(30, 200))).toBeLessThan(5);
  });
});

describe('manual inspection fatigue and breaks', () => {
  it('detects less over a long stretch on task and recovers after a break, which stops the station', () => {
    const w = line([
      { id: 'src', kind: 'source', params: { rate: 3600, jitter: 0, slots: 2 } },
      { id: 'press', kind: 'press', params: { cycleTime: 0.5, force: 4000, recipeForce: 800 } },
      { id: 'insp', kind: 'manual-inspection', params: { operators: 4, secondsPerPart: 3, detectionRate: 0.9, falseRejectRate: 0, fatiguePerHour: 0.2, shiftLength: 8, breakEvery: 2, breakLength: 900 }, reject: 'bin' },
    ], 0.01);
    const s = w.indexOf('insp');
    const counts = (): [number, number] => [w.read(s, 'inspected'), w.read(s, 'rejected')];
    const window = (seconds: number): { rate: number; n: number } => {
      const [i0, r0] = counts();
      runFor(w, seconds);
      const [i1, r1] = counts();
      return { rate: (r1 - r0) / (i1 - i0), n: i1 - i0 };
    };
    runFor(w, 120);
    const fresh = window(900); // 2–17 min on task: ≈ 0.9 · (1 − 0.2 · 0.16) ≈ 0.87
    runFor(w, 5100);
    const tired = window(900); // 1 h 42 – 1 h 57: ≈ 0.9 · (1 − 0.2 · 1.83) ≈ 0.57
    runFor(w, 240); // 2 h 1 min: on the break
    expect(w.read(s, 'onBreak')).toBe(1);
    const [during] = counts();
    runFor(w, 600);
    expect(counts()[0]).toBe(during); // nobody inspects during the break
    runFor(w, 300); // back at 2 h 16 min
    const rested = window(900);
    expect(fresh.n).toBeGreaterThan(800);
    expect(fresh.rate).toBeGreaterThan(0.84);
    expect(tired.rate).toBeLessThan(0.62);
    expect(rested.rate).toBeGreaterThan(0.84);
  });
});
