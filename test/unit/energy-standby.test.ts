/**
 * Energy of a machine that waits, as the model has it (`standbyAfter`): a press fed one part a
 * minute works 10 s of it and waits the rest; Suspended it keeps its hydraulic pack at idle power,
 * until energy standby turns the pack off. The saving comes out of the waiting, not out of a
 * typed figure: no waiting, no saving; a later standby saves less. Bulk time advance and
 * per-tick stepping agree to the byte across the standby moments.
 */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/line/parse.ts';
import { createWorld } from '../../sim/line/build.ts';
import { computeKpis } from '../../sim/core/kpi.ts';
import { State } from '../../sim/plc/packml.ts';
import type { World } from '../../sim/core/world.ts';

const HOURS = 2;

/** The press line with a source of `perHour` parts; the press's standby delay [s] (0: none). */
function line(perHour: number, standbyAfter: number, mode: World['timeAdvance'] = 'next-event'): World {
  const text = `version: 1
id: standby-line
title: { en: "Standby line", zh: "待机线" }
dt: 10 ms
seed: 5
stations:
  - { id: src, kind: source, params: { rate: ${perHour} 1/h, jitter: 0, slots: 2 }, next: press }
  - { id: press, kind: press, params: { cycleTime: 10 s, mtbf: 0, idlePower: 3 kW, strokePower: 22 kW, standbyAfter: ${standbyAfter} s }, next: out }
  - { id: out, kind: sink }
faults: []
`;
  const w = createWorld(parseScenario(text, 'standby-line.yaml'));
  w.timeAdvance = mode;
  return w;
}

/** The press's energy over the run [kWh], and its parts. */
function pressEnergy(perHour: number, standbyAfter: number): { kWh: number; parts: number } {
  const w = line(perHour, standbyAfter);
  w.step(Math.round((HOURS * 3600) / w.dt));
  const s = w.ids.indexOf('press');
  return { kWh: w.st.energy[s]! / 3.6e6, parts: w.st.partsOut[s]! };
}

describe('energy standby of a waiting machine', () => {
  it('Suspended, the press draws its idle power until standby turns it off', () => {
    const w = line(60, 20);
    const s = w.ids.indexOf('press');
    const seen = { idleSuspended: 0, standby: 0 };
    for (let t = 0; t < Math.round(1800 / w.dt); t += 50) {
      w.step(50);
      if (w.st.state[s] !== State.Suspended) continue;
      const since = (w.tick - w.st.stateSince[s]!) * w.dt;
      if (since < 19.5) {
        expect(w.st.power[s]).toBe(3000);
        seen.idleSuspended++;
      } else if (since > 20.5) {
        expect(w.st.power[s]).toBe(0);
        seen.standby++;
      }
    }
    expect(seen.idleSuspended).toBeGreaterThan(100);
    expect(seen.standby).toBeGreaterThan(100);
  });

  it('saves the idle power of the time in standby: more waiting saves more, a later standby less, no waiting nothing', () => {
    // one part a minute: 10 s of strokes, 10 s to suspend, 0.5 s suspending, then 39.5 s Suspended
    const none = pressEnergy(60, 0);
    const at20 = pressEnergy(60, 20);
    const at30 = pressEnergy(60, 30);
    expect(at20.parts).toBe(none.parts);
    expect(none.parts).toBeGreaterThan(100);
    // about 19.5 s of standby a minute at 3 kW: 0.975 kWh an hour
    const saved = none.kWh - at20.kWh;
    expect(saved).toBeGreaterThan(0.9 * HOURS * 0.975);
    expect(saved).toBeLessThan(1.1 * HOURS * 0.975);
    expect(none.kWh - at30.kWh).toBeGreaterThan(0);
    expect(none.kWh - at30.kWh).toBeLessThan(saved);
    // half the parts: more waiting, more saved
    expect(pressEnergy(30, 0).kWh - pressEnergy(30, 20).kWh).toBeGreaterThan(1.5 * saved);
    // fed faster than it works: never Suspended, standby changes nothing
    expect(pressEnergy(720, 20).kWh).toBe(pressEnergy(720, 0).kWh);
  });

  it('stopped or down, the press draws nothing, standby or not', () => {
    const w = line(60, 0);
    const s = w.ids.indexOf('press');
    w.step(Math.round(300 / w.dt));
    w.enqueue({ target: 'press', command: 'stop', source: 'api', principal: 'test' });
    w.step(Math.round(30 / w.dt));
    expect(w.st.state[s]).toBe(State.Stopped);
    expect(w.st.power[s]).toBe(0);
  });

  it('bulk time advance and per-tick stepping agree across the standby moments', () => {
    const bulk = line(60, 20, 'next-event');
    const each = line(60, 20, 'per-tick');
    const n = Math.round(1800 / bulk.dt);
    bulk.step(n);
    each.step(n);
    expect(bulk.eventLogHash()).toBe(each.eventLogHash());
    expect(JSON.stringify(computeKpis(bulk))).toBe(JSON.stringify(computeKpis(each)));
    expect(Buffer.from(bulk.takeSnapshot()).equals(Buffer.from(each.takeSnapshot()))).toBe(true);
  });
});
