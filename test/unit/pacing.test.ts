/**
 * Real-time pacing: the pacer's decisions under a fake clock (catch-up in bounded batches,
 * giving up a hopeless schedule, period statistics), then the engine paced against the real
 * wall clock with Atomics.wait.
 */
import { describe, expect, it } from 'vitest';
import { Pacer, PeriodStats, type PaceClock } from '../../sim/worker/pacer.ts';
import { SimEngine } from '../../sim/worker/engine.ts';
import { machineFactor } from '../proc.ts';

const LINE = `version: 1
id: pacing-line
title: { en: "Pacing line", zh: "节拍测试产线" }
isa95: { enterprise: Twinline, site: Test, area: Pacing, line: pacing-line }
stations:
  - { id: src, kind: source, name: { en: Source, zh: 上料 }, at: { x: 0, z: 0, rotation: 0 }, params: { rate: 1200 1/h }, next: belt }
  - { id: belt, kind: conveyor, name: { en: Belt, zh: 输送带 }, at: { x: 2 m, z: 0, rotation: 0 }, params: { length: 3 m, speed: 0.3 m/s }, next: press }
  - { id: press, kind: press, name: { en: Press, zh: 压机 }, at: { x: 5 m, z: 0, rotation: 0 }, params: { cycleTime: 2 s }, next: out }
  - { id: out, kind: sink, name: { en: Out, zh: 下料 }, at: { x: 7 m, z: 0, rotation: 0 } }
`;

/** A clock that moves when slept on, advanced by hand, or read (1 µs per read, like spinning). */
function fakeClock(): PaceClock & { t: number; slept: number[] } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => (c.t += 0.001),
    sleep: (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

describe('Pacer (fake clock)', () => {
  it('sleeps until each tick is due and records the period error', () => {
    const c = fakeClock();
    const p = new Pacer(c);
    p.restart(1);
    expect(p.next(100, 50)).toBe(1);
    expect(c.t).toBeCloseTo(1, 2);
    expect(c.slept[0]).toBeGreaterThan(0.8); // most of the wait blocks, only the tail spins
    c.t += 0.3; // the tick's own work
    expect(p.next(100, 50)).toBe(1);
    expect(c.t).toBeCloseTo(2, 2);
    expect(p.stats.ticks).toBe(1);
    expect(p.stats.max).toBeLessThan(0.01);
  });

  it('returns 0 at the deadline when the next tick is not yet due', () => {
    const c = fakeClock();
    const p = new Pacer(c);
    p.restart(10);
    expect(p.next(4, 50)).toBe(0);
    expect(c.t).toBeCloseTo(4, 2);
    expect(p.next(20, 50)).toBe(1);
    expect(c.t).toBeCloseTo(10, 2);
  });

  it('catches up in bounded batches and reports the lag', () => {
    const c = fakeClock();
    const p = new Pacer(c);
    p.restart(1);
    c.t = 120.5; // stalled: 120 ticks are due
    expect(p.next(1000, 50)).toBe(50);
    expect(p.lagMs).toBeCloseTo(119.5, 2);
    expect(p.next(1000, 50)).toBe(50);
    expect(p.next(1000, 50)).toBe(20);
    expect(p.lagMs).toBeCloseTo(19.5, 1);
    expect(p.next(1000, 50)).toBe(1);
    // back-to-back ticks of a batch count as whole-period errors
    expect(p.stats.max).toBe(1);
    expect(p.slips).toBe(0);
  });

  it('runs a sub-millisecond period in groups, one blocking wake-up a millisecond, without spinning', () => {
    const c = fakeClock();
    const p = new Pacer(c);
    p.restart(0.1); // a 1 ms tick at 10×
    expect(p.next(100, 50)).toBe(10);
    expect(c.t).toBeCloseTo(1, 2);
    // the whole wait blocked: nothing was left to a spin loop
    expect(c.slept.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
    c.t += 0.05;
    expect(p.next(100, 50)).toBe(10);
    expect(c.t).toBeCloseTo(2, 2);
    // the next group is due at 3 ms; at 3.35 ms its ticks and the three due since run
    c.t += 1.35;
    expect(p.next(100, 50)).toBe(13);
    // a group is never larger than the batch the caller takes
    p.restart(0.01);
    expect(p.next(1000, 50)).toBe(50);
  });

  it('gives up a schedule that is hopelessly behind instead of lagging for ever', () => {
    const c = fakeClock();
    const p = new Pacer(c);
    p.restart(1);
    c.t = 5000;
    expect(p.next(6000, 50)).toBe(1);
    expect(p.slips).toBe(1);
    expect(p.lagMs).toBe(0);
    expect(p.next(6000, 50)).toBe(1);
    expect(c.t).toBeCloseTo(5001, 2);
  });
});

describe('PeriodStats', () => {
  it('gives quantiles to the 0.01 ms bin and the exact maximum', () => {
    const s = new PeriodStats();
    for (let k = 0; k < 990; k++) s.record(0.05);
    for (let k = 0; k < 10; k++) s.record(-2.5);
    expect(s.ticks).toBe(1000);
    expect(s.quantile(0.5)).toBeCloseTo(0.06, 6);
    expect(s.quantile(0.99)).toBeCloseTo(0.06, 6);
    expect(s.quantile(0.995)).toBeCloseTo(2.5, 6);
    expect(s.max).toBe(2.5);
    s.reset();
    expect(s.quantile(0.99)).toBe(0);
  });
});

describe('SimEngine real-time pacing (wall clock, Atomics.wait)', () => {
  async function paced(speed: number, ticks: number): Promise<{ wallMs: number; engine: SimEngine }> {
    const engine = new SimEngine({ defer: (fn) => setImmediate(fn) });
    const r = engine.load(LINE, 'pacing-line.yaml');
    expect(r.ok).toBe(true);
    engine.setSpeed(speed);
    const t0 = performance.now();
    engine.start(ticks);
    while (engine.state().running) await new Promise((res) => setTimeout(res, 5));
    return { wallMs: performance.now() - t0, engine };
  }

  it('runs about N ticks in N ms at speed 1', async () => {
    const { wallMs, engine } = await paced(1, 1500);
    const st = engine.state();
    expect(st.tick).toBe(1500);
    // never ahead of the wall clock; within 20 % of it on a machine that gives the thread its
    // core (a loaded one deschedules it, and the pacer catches up in batches or slips)
    const f = machineFactor();
    expect(wallMs).toBeGreaterThan(1500 * 0.8);
    expect(wallMs).toBeLessThan(1500 * 1.2 * f);
    expect(st.pacing.ticks).toBeGreaterThan(1400);
    if (f < 1.5) expect(st.pacing.p50).toBeLessThan(1);
    expect(st.pacing.max).toBeGreaterThanOrEqual(st.pacing.p99);
  });

  it('runs twice as many ticks per ms at speed 2, and none while paused', async () => {
    const { wallMs, engine } = await paced(2, 1600);
    expect(wallMs).toBeGreaterThan(800 * 0.8);
    expect(wallMs).toBeLessThan(800 * 1.2 * machineFactor());
    const tick = engine.state().tick;
    await new Promise((res) => setTimeout(res, 50));
    expect(engine.state().tick).toBe(tick);
  });

  it('rejects nonsense speeds with a clear error', () => {
    const engine = new SimEngine({ defer: (fn) => setImmediate(fn) });
    engine.load(LINE, 'pacing-line.yaml');
    expect(() => engine.setSpeed(-1)).toThrow(/speed must be 'max' or a factor/);
    expect(() => engine.setSpeed(Number.NaN)).toThrow(/speed must be/);
  });
});
