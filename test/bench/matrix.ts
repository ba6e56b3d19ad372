/**
 * Bench section `matrix`: what `twinline security matrix` costs, per profile (open, hardened)
 * on the line it serves by default, against baselines measured in the same run:
 *
 * - the matrix's wall time for the profile (twin start, every attack, the line checked and put
 *   back between attacks, twin stop), beside the same twin's start and stop with no attack;
 * - each attack's duration (its run: connecting, acting, watching the line, reading the audit
 *   trail), beside an idle observer round trip on that twin (read the aimed-at station, then
 *   the event log until it settles: the measuring every attack does, without any attack).
 *
 * The twin runs at the matrix's default speed (10×) and each attack watches 5 s, as
 * `twinline security matrix` does without options.
 */
import { ATTACKS } from '../../security/attacks/index.ts';
import { Observer } from '../../security/attacks/observer.ts';
import { runMatrix } from '../../security/matrix/matrix.ts';
import { builtInProfiles, type MatrixProfile } from '../../security/matrix/profiles.ts';
import { makeHome, removeHome, startTwin } from '../../security/matrix/twin.ts';
import { fmt, quantile, ratio, type BenchRow, type SectionResult } from './common.ts';

const SPEED = 10;
const WATCH_MS = 5000;
const READY_MS = 300_000;
/** idle observer round trips per profile (the median is the baseline) */
const ROUND_TRIPS = 5;
/** the station the attacks aim at on the default line (its first kiln) */
const STATION = 'kiln';

/** The baseline twin: start, `ROUND_TRIPS` idle observer round trips, stop; wall of start + stop and the round trips [ms]. */
async function idleTwin(p: MatrixProfile): Promise<{ startStopMs: number; roundTrips: number[] }> {
  const home = makeHome();
  try {
    const t0 = performance.now();
    const twin = await startTwin({ base: p.base, flags: [...p.flags, '--speed', String(SPEED)], home, readyMs: READY_MS });
    const up = performance.now() - t0;
    const roundTrips: number[] = [];
    let stopMs = 0;
    try {
      for (let k = 0; k < ROUND_TRIPS; k++) {
        const o = await Observer.open(new URL(twin.web), home);
        const t = performance.now();
        await o.station(STATION);
        await o.trail(STATION);
        roundTrips.push(performance.now() - t);
        await o.close();
      }
    } finally {
      const t1 = performance.now();
      await twin.stop();
      stopMs = performance.now() - t1;
    }
    return { startStopMs: up + stopMs, roundTrips };
  } finally {
    removeHome(home);
  }
}

/** The `matrix` section. */
export async function matrixBench(log: (line: string) => void): Promise<SectionResult> {
  const builtIn = builtInProfiles(ATTACKS);
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const p of [builtIn.open, builtIn.hardened]) {
    const idle = await idleTwin(p);
    const rt = quantile([...idle.roundTrips], 0.5);
    log(`${p.name}: idle twin started and stopped in ${fmt(idle.startStopMs / 1000, 1)} s; observer round trips ${idle.roundTrips.map((x) => fmt(x)).join(', ')} ms`);
    const r = await runMatrix({ profiles: [p], attacks: ATTACKS, speed: SPEED, watchMs: WATCH_MS, readyMs: READY_MS, log: () => undefined });
    const run = r.profiles[0]!;
    log(`${p.name}: matrix of ${r.rows.length} attacks in ${fmt(run.wallMs / 1000, 1)} s (twin up in ${fmt(run.startMs / 1000, 1)} s, ${run.twins} twin${run.twins > 1 ? 's' : ''})`);
    rows.push([`matrix wall time, ${p.name}, ${r.rows.length} attacks [s]`, fmt(run.wallMs / 1000, 1), 'the same twin started and stopped, no attack [s]', fmt(idle.startStopMs / 1000, 1), ratio(run.wallMs, idle.startStopMs)]);
    for (const x of r.rows) {
      rows.push([`${x.attack} under ${p.name} (${x.outcome}) [ms]`, fmt(x.durationMs), 'idle observer round trip, median [ms]', fmt(rt), ratio(x.durationMs, rt)]);
    }
    const broken = r.broken.map((x) => x.attack);
    const errors = r.rows.filter((x) => x.outcome === 'error').map((x) => `${x.attack}: ${x.error}`);
    notes.push(`${p.name}: ${r.rows.filter((x) => x.outcome === 'succeeded').length} succeeded, ${r.rows.filter((x) => x.outcome === 'blocked').length} blocked; promise ${broken.length === 0 ? 'held' : `BROKEN by ${broken.join(', ')}`}${errors.length > 0 ? `; could not run: ${errors.join('; ')}` : ''}; the line needed the matrix's help after: ${r.rows.filter((x) => x.lineAfter !== 'running').map((x) => `${x.attack} (${x.lineAfter})`).join(', ') || 'none'}`);
  }
  notes.push(`twin: twinline serve (default line) at ${SPEED}× real time, every face on a free port, a fresh home; each attack watches ${WATCH_MS / 1000} s; attacks on one face are spaced 5.5 s apart (the faces audit a repeated refusal once per 5 s) and that wait is in the wall time, not in an attack's duration`);
  return { rows, notes };
}
