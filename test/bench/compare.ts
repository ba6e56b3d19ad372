/**
 * Bench section `compare`: wall time of `twinline compare` on a small case (the ceramic line
 * before and after, 2 seeds each, 0.25 simulated hours at the files' own 1 ms tick) with the
 * worker pool (one thread per core), against the same runs one after another (a pool of
 * one). The ratio is the pool's speed-up; both must give the same numbers. Then the case the
 * target is set for: `twinline compare` of the ceramic line before and after, 10 seeds × 8 h at
 * 1 ms (20 runs) with the pool (target ≤ 60 s on 2 cores), beside the same runs' simulated
 * time per core-second.
 */
import { availableParallelism } from 'node:os';
import { compareScenarios, type CompareOptions } from '../../sim/host/compare.ts';
import { fmt, ratio, type SectionResult } from './common.ts';

const OPTIONS: CompareOptions = { before: 'scenarios/ceramic-before.yaml', after: 'scenarios/ceramic-after.yaml', hours: 0.25, seeds: 2, warmupS: 0, json: true };

/** The `compare` section. */
export async function compareBench(log: (line: string) => void): Promise<SectionResult> {
  const cores = availableParallelism();
  const timed = async (workers: number): Promise<{ s: number; kpis: string }> => {
    const t0 = performance.now();
    const r = await compareScenarios({ ...OPTIONS, workers });
    return { s: (performance.now() - t0) / 1000, kpis: JSON.stringify(r.kpis) };
  };
  const pool = await timed(cores);
  log(`pool of ${cores}: ${fmt(pool.s, 1)} s`);
  const serial = await timed(1);
  log(`one worker: ${fmt(serial.s, 1)} s`);
  const runs = 2 * OPTIONS.seeds;
  log('10 seeds × 8 h, before and after …');
  const t0 = performance.now();
  await compareScenarios({ ...OPTIONS, hours: 8, seeds: 10, workers: cores });
  const bigS = (performance.now() - t0) / 1000;
  const perCore = (20 * 8 * 3600) / (bigS * cores);
  log(`10 seeds × 8 h: ${fmt(bigS, 1)} s`);
  return {
    rows: [
      [`compare ${runs} runs × ${OPTIONS.hours} h, pool of ${cores} [s]`, fmt(pool.s, 1), 'same runs one after another [s]', fmt(serial.s, 1), ratio(pool.s, serial.s)],
      [`compare 10 seeds × 8 h (20 runs), pool of ${cores} [s]`, fmt(bigS, 1), 'target [s]', '60', ratio(bigS, 60)],
      ['  simulated time per core [sim s / wall s]', fmt(perCore), 'needed for the target', fmt((20 * 8 * 3600) / (60 * cores)), ratio(perCore, (20 * 8 * 3600) / (60 * cores))],
    ],
    notes: [
      pool.kpis === serial.kpis ? 'pool and serial runs gave the same KPIs' : 'pool and serial runs gave DIFFERENT KPIs',
      `speed-up ${ratio(serial.s, pool.s)} on ${cores} cores (worker start-up and scenario loading included)`,
    ],
  };
}
