import { describe, expect, it } from 'vitest';
import { smallLine, runFor } from './world-helpers.ts';
import { computeKpis } from '../../sim/core/kpi.ts';
import { State } from '../../sim/plc/packml.ts';
import type { SimEvent } from '../../sim/core/events.ts';

function collect(w: ReturnType<typeof smallLine>): SimEvent[] {
  const out: SimEvent[] = [];
  w.drainEvents((e) => out.push(e));
  return out;
}

describe('world', () => {
  it('reads consistently without allocating a result per read, and flags a read it could not make consistent', () => {
    const w = smallLine();
    runFor(w, 3);
    const a = w.readConsistent(() => w.read(0, 'state'));
    expect(a).toMatchObject({ value: State.Execute, consistent: true });
    // the 3D view reads parts every frame through this: the result object is reused
    expect(w.readConsistent(() => 7)).toBe(a);
    expect(a.value).toBe(7);
    w.beginWrite(); // a writer mid-batch: no read can be consistent
    const b = w.readConsistent(() => w.read(0, 'mode'), 5);
    expect(b).toMatchObject({ value: 1, consistent: false });
    w.endWrite();
    expect(w.readConsistent(() => 1).consistent).toBe(true);
  });

  it('starts the line from Stopped through Resetting, Idle and Starting to Execute', () => {
    const w = smallLine();
    runFor(w, 3);
    for (let s = 0; s < w.size; s++) expect(w.st.state[s]).toBe(State.Execute);
    const press = collect(w).filter((e) => e.type === 'state' && e.station === 'press').map((e) => e.data.to);
    expect(press).toEqual(['Resetting', 'Idle', 'Starting', 'Execute']);
  });

  it('moves parts from source to sink and conserves them', () => {
    const w = smallLine();
    runFor(w, 1800);
    const k = computeKpis(w);
    expect(k.shipped).toBeGreaterThan(50);
    let inQueues = 0;
    for (let s = 0; s < w.size; s++) inQueues += w.qLen[s] ?? 0;
    expect(k.created).toBe(k.shipped + k.scrapped + k.wip);
    expect(k.wip).toBe(inQueues);
    // every part in a queue points back at its station
    for (let s = 0; s < w.size; s++) for (let p = w.qHead[s] ?? -1; p >= 0; p = w.parts.next[p] ?? -1) expect(w.parts.station[p]).toBe(s);
  });

  it('gives the same event-log hash for the same seed and a different one for another seed', () => {
    const a = smallLine(7);
    const b = smallLine(7);
    const c = smallLine(8);
    for (const w of [a, b, c]) runFor(w, 3600);
    expect(a.eventLogHash()).toBe(b.eventLogHash());
    expect(a.eventLogHash()).not.toBe(c.eventLogHash());
    expect(a.eventCount).toBeGreaterThan(100);
  });

  it('restores a snapshot and continues exactly as the uninterrupted run', () => {
    // a PLC scan period of 7 ticks: the scan phase must survive the snapshot too
    const slowScan = { press: { scanPeriod: 0.007 } };
    const ref = smallLine(3, slowScan);
    runFor(ref, 1200);
    const w = smallLine(3, slowScan);
    runFor(w, 600);
    const snap = w.takeSnapshot();
    runFor(w, 300); // diverge: these ticks are thrown away
    w.enqueue({ target: 'press', command: 'stop', source: 'hmi', principal: 'op' });
    runFor(w, 10);
    w.restoreSnapshot(snap);
    runFor(w, 600);
    expect(w.tick).toBe(ref.tick);
    expect(w.eventLogHash()).toBe(ref.eventLogHash());
    expect(computeKpis(w)).toEqual(computeKpis(ref));
  });

  it('refuses a snapshot of a different line', () => {
    const w = smallLine();
    const other = smallLine(1, { kiln: { slots: 41 } });
    expect(() => w.restoreSnapshot(other.takeSnapshot())).toThrow(/different|size/);
    expect(() => w.restoreSnapshot(new Uint8Array([1, 2, 3]))).toThrow(/not a Twinline snapshot/);
  });

  it('breaks down machines with the configured MTBF and repairs them', () => {
    // three seeds: the failure count of one short run is too random to bound tightly
    let failures = 0;
    let runHours = 0;
    let repairMin = 0;
    for (const seed of [5, 6, 7]) {
      const w = smallLine(seed, { press: { mtbf: 300, mttr: 20 } });
      runFor(w, 3600);
      const press = computeKpis(w).stations.find((s) => s.id === 'press');
      const ev = collect(w);
      expect(ev.filter((e) => e.type === 'fault' && e.station === 'press').length).toBe(press?.failures);
      expect(ev.some((e) => e.type === 'state' && e.station === 'press' && e.data.to === 'Aborted')).toBe(true);
      expect(computeKpis(w).availability).toBeLessThan(1);
      failures += press?.failures ?? 0;
      runHours += (press?.mtbfH ?? 0) * (press?.failures ?? 0);
      repairMin += (press?.mttrMin ?? 0) * (press?.failures ?? 0);
    }
    // MTBF 300 s = 0.083 h of operation (wear raises the hazard a little), MTTR 20 s = 0.33 min;
    // about 30 failures expected in all, so the bounds are several standard deviations wide
    expect(failures).toBeGreaterThan(15);
    expect(runHours / failures).toBeGreaterThan(0.05);
    expect(runHours / failures).toBeLessThan(0.13);
    expect(repairMin / failures).toBeGreaterThan(0.2);
    expect(repairMin / failures).toBeLessThan(0.55);
  });

  it('accounts OEE as availability × performance × quality', () => {
    const w = smallLine(2);
    runFor(w, 2 * 3600);
    const k = computeKpis(w);
    expect(k.oee).toBeCloseTo(k.availability * k.performance * k.quality, 3);
    expect(k.oee).toBeGreaterThan(0);
    expect(k.oee).toBeLessThanOrEqual(1);
    expect(k.energyKWh).toBeGreaterThan(0);
    expect(k.energyPerGoodPartKWh).toBeCloseTo(k.energyKWh / k.good, 3);
  });

  it('logs periodic KPI snapshots', () => {
    const w = smallLine();
    runFor(w, 600);
    const kpis = collect(w).filter((e) => e.type === 'kpi');
    expect(kpis.length).toBe(10);
    expect(kpis[9]?.data.simHours).toBeCloseTo(600 / 3600, 3);
  });
});
