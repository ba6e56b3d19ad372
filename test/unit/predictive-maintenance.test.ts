/**
 * Predictive maintenance as the model has it (`pdmDetect`, `pdmTime`): a press that wears fast
 * and breaks down often, run for 300 h with and without it, on the same seed. The share of
 * breakdowns it sees coming become planned interventions (fault code `maintenance`, no failure,
 * no breakdown alarm, not in MTTR) that renew the worn parts, so the press breaks down less, is
 * down less and the line makes more; how much follows from the detection share, from the
 * repair time it spares and from the wear it takes off (run to failure, a repair fixes what
 * broke and the press stays worn). The retrofit step (scenarios/retrofits/predictive-maintenance.yaml)
 * sets it on a built-in line's key machines and fits condition monitoring there.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeKpis, type LineKpis } from '../../sim/core/kpi.ts';
import type { SimEvent } from '../../sim/core/events.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { buildRetrofit } from '../../sim/host/retrofits.ts';

const HOURS = 300;

/** A source feeding a wearing press faster than it works; the press's PdM share and its repair time. */
function run(pdmDetect: number, mttr = '2 h'): { k: LineKpis; faults: string[]; repairs: string[]; wearAfterMaintenance: number[] } {
  const text = `version: 1
id: wear-line
title: { en: "Wear line", zh: "磨损线" }
dt: 100 ms
seed: 11
stations:
  - { id: src, kind: source, params: { rate: 720 1/h, jitter: 0, slots: 2 }, next: press }
  - { id: press, kind: press, params: { cycleTime: 10 s, mtbf: 6 h, mttr: ${mttr}, wearRate: 0.05 1/h, pdmDetect: ${pdmDetect}, pdmTime: 15 min }, next: out }
  - { id: out, kind: sink }
faults: []
`;
  const w = createWorld(parseScenario(text, 'wear-line.yaml'));
  const faults: string[] = [];
  const repairs: string[] = [];
  const wearAfterMaintenance: number[] = [];
  const press = w.ids.indexOf('press');
  const chunk = Math.round(600 / w.dt);
  for (let t = 0; t < (HOURS * 3600) / w.dt; t += chunk) {
    w.step(chunk);
    w.drainEvents((e: SimEvent) => {
      if (e.station !== 'press') return;
      const code = (e.data as { code?: string }).code ?? '';
      if (e.type === 'fault') faults.push(code);
      if (e.type === 'repair') {
        repairs.push(code);
        // events of a chunk drain after it: an intervention ending within it is the press's last stop (wear grows slowly after)
        if (code === 'maintenance') wearAfterMaintenance.push(w.st.wear[press]!);
      }
    });
  }
  return { k: computeKpis(w), faults, repairs, wearAfterMaintenance };
}

const pressOf = (k: LineKpis) => k.stations.find((s) => s.id === 'press')!;
const count = (xs: string[], x: string): number => xs.filter((y) => y === x).length;

describe('predictive maintenance', () => {
  const without = run(0);
  const with70 = run(0.7);

  it('turns the share of breakdowns it sees into planned interventions that renew the worn parts', () => {
    expect(count(without.faults, 'maintenance')).toBe(0);
    expect(count(without.faults, 'breakdown')).toBeGreaterThan(20);
    const planned = count(with70.faults, 'maintenance');
    const broke = count(with70.faults, 'breakdown');
    expect(planned).toBeGreaterThan(10);
    // about 70 % of the stops are planned (a binomial share over some 40 stops)
    expect(planned / (planned + broke)).toBeGreaterThan(0.5);
    expect(planned / (planned + broke)).toBeLessThan(0.9);
    // an intervention renews the press; a repair after a breakdown does not (its wear only grows)
    expect(with70.wearAfterMaintenance.length).toBeGreaterThan(0);
    expect(Math.max(...with70.wearAfterMaintenance)).toBeLessThan(0.01);
  });

  it('counts interventions neither as failures nor in MTTR, and the press is down less and the line makes more', () => {
    const a = pressOf(without.k);
    const b = pressOf(with70.k);
    expect(b.failures).toBe(count(with70.faults, 'breakdown'));
    expect(b.failures).toBeLessThan(a.failures * 0.6);
    expect(b.mtbfH!).toBeGreaterThan(a.mtbfH! * 1.5);
    // MTTR is the breakdowns' own (about the 2 h mean), not pulled down by the 15-minute interventions
    expect(b.mttrMin!).toBeGreaterThan(60);
    expect(b.availability).toBeGreaterThan(a.availability + 0.05);
    expect(with70.k.good).toBeGreaterThan(without.k.good * 1.05);
  });

  it('gains more the longer the repairs it spares: with 15-minute repairs only the renewed wear is left of the gain', () => {
    const quick = pressOf(run(0, '15 min').k);
    const quickPdm = pressOf(run(0.7, '15 min').k);
    const slowGain = pressOf(with70.k).availability - pressOf(without.k).availability;
    expect(quickPdm.availability - quick.availability).toBeLessThan(slowGain / 2);
  });

  it('is a retrofit step: the key machines of a built-in line get it, with condition monitoring', () => {
    const file = 'scenarios/ceramic-after.yaml';
    const text = readFileSync(file, 'utf8');
    const built = buildRetrofit(text, parseScenario(text, file), ['predictive-maintenance']);
    const changed = built.applied[0]!.stations;
    expect(changed).toEqual(expect.arrayContaining(['former', 'kiln', 'inspect']));
    for (const s of built.spec.stations) {
      if (changed.includes(s.id)) {
        expect(s.params.pdmDetect, s.id).toBe(0.7);
        expect(s.params.pdmTime, s.id).toBe(900);
        expect(s.systems, s.id).toContain('condition');
      } else {
        expect(s.params.pdmDetect, s.id).toBeUndefined();
      }
    }
  });
});
