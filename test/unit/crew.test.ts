/**
 * Crews: people as resources the simulation schedules (sim/core/crew.ts). A station that
 * needs a person waits for one; labour figures come from the people's simulated work, so a
 * smaller crew slows the line, a removed task removes labour and breaks take people away.
 */
import { describe, expect, it } from 'vitest';
import { World, type StationDef } from '../../sim/core/world.ts';
import { labourKpis, type CrewDef } from '../../sim/core/crew.ts';
import { computeKpis } from '../../sim/core/kpi.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { createWorld } from '../../sim/line/build.ts';
import { TwinlineError } from '../../sim/core/errors.ts';
import { handling, kind } from './world-helpers.ts';

const DT = 0.01;

const st = (id: string, k: string, params: Record<string, number>, next: string | null): StationDef => ({ id, kind: kind(k), params, next, reject: null });

function crew(size: number, skills: CrewDef['skills'], stations: CrewDef['stations'], extra: Partial<CrewDef> = {}): CrewDef {
  return { id: 'crew', size, skills, stations, presence: 86400, shiftLength: 8 * 3600, breaks: [], ...extra };
}

const hours = (w: World, h: number): void => w.step(Math.round((h * 3600) / DT));
const shipped = (w: World): number => w.counters().shipped;

describe('crews: stations wait for people', () => {
  it('output follows the crew size while the crew is the bottleneck (sensitivity)', () => {
    const out = [1, 2, 3].map((size) => {
      const w = handling([crew(size, ['load'], [{ station: 'hand', places: 3 }])]);
      hours(w, 1);
      return shipped(w);
    });
    // 20 s per part per person: ~180, ~360, ~540 parts an hour
    expect(out[0]).toBeGreaterThan(160);
    expect(out[0]).toBeLessThan(185);
    expect(out[1]! / out[0]!).toBeGreaterThan(1.9);
    expect(out[2]! / out[0]!).toBeGreaterThan(2.8);
  });

  it('a crew of nobody stops the station: it waits for labour, counted apart', () => {
    const w = handling([crew(0, ['load'], [{ station: 'hand', places: 1 }])]);
    hours(w, 0.5);
    expect(shipped(w)).toBe(0);
    const s = w.indexOf('hand');
    expect(w.crew.s.labourWaitTicks[s]).toBeGreaterThan(0.9 * (1800 / DT));
    expect(w.read(s, 'alarms') & 1).toBe(1);
    const k = labourKpis(w);
    expect(k.source).toBe('crews');
    expect(k.stations.find((x) => x.id === 'hand')?.labourWaitHours).toBeGreaterThan(0.45);
    expect(k.operatorsNeeded).toBe(0);
  });

  it('two stations sharing one person wait for each other', () => {
    const line = (size: number): World => {
      const w = new World({
        dt: DT,
        seed: 3,
        stations: [
          st('src', 'source', { rate: 3600, jitter: 0, slots: 4, mtbf: 0 }, 'a'),
          st('a', 'manual-station', { secondsPerPart: 20, errorRate: 0, mtbf: 1e9 }, 'b'),
          st('b', 'manual-inspection', { secondsPerPart: 20, detectionRate: 1, falseRejectRate: 0, mtbf: 1e9 }, 'out'),
          st('out', 'sink', {}, null),
        ],
        crews: [crew(size, ['load', 'inspect'], [{ station: 'a', places: 1 }, { station: 'b', places: 1 }])],
      });
      w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'test' });
      hours(w, 1);
      return w;
    };
    const one = line(1);
    const two = line(2);
    // one person does 40 s of work per part, two people 20 s each in parallel
    expect(shipped(one)).toBeLessThan(95);
    expect(shipped(two)).toBeGreaterThan(1.8 * shipped(one));
    const k1 = labourKpis(one);
    expect(k1.crews[0]!.utilisation).toBeGreaterThan(0.95);
    // each station waits while the other has the person: about half an hour of an hour
    expect(k1.crews[0]!.labourWaitHours).toBeGreaterThan(0.3);
    const k2 = labourKpis(two);
    expect(k2.crews[0]!.fte).toBeGreaterThan(1.8);
    expect(k2.operatorsNeeded).toBe(2);
  });

  it('labour hours per part are the task time: worked hours = parts × seconds per part', () => {
    const w = handling([crew(5, ['load'], [{ station: 'hand', places: 2 }])]);
    hours(w, 1);
    const k = labourKpis(w);
    const parts = w.read(w.indexOf('hand'), 'handled');
    // work in progress at the end adds at most one part's time per place
    expect(k.workedHours * 3600).toBeGreaterThanOrEqual(parts * 20 - 1);
    expect(k.workedHours * 3600).toBeLessThan((parts + 2) * 20 + 1);
    expect(k.crews[0]!.fte).toBeCloseTo(2, 1);
    expect(k.operatorsNeeded).toBe(2);
    expect(k.crews[0]!.utilisation).toBeCloseTo(0.4, 1);
  });
});

describe('crews: removing a task removes the person', () => {
  /** source → induction furnace → pouring (by hand or automatic) → sink, one crew for both. */
  function foundry(automatic: number): World {
    const w = new World({
      dt: DT,
      seed: 5,
      stations: [
        st('src', 'source', { rate: 1800, jitter: 0, slots: 5, mtbf: 0 }, 'melt'),
        st('melt', 'induction-furnace', { batch: 10, partMass: 20, mtbf: 1e9 }, 'pour'),
        st('pour', 'pouring', { automatic, manualTime: 120, cycleTime: 30, ladleParts: 10, mtbf: 1e9 }, 'out'),
        st('out', 'sink', {}, null),
      ],
      crews: [crew(4, ['tend', 'pour'], [{ station: 'melt', places: 1 }, { station: 'pour', places: 3 }])],
    });
    w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'test' });
    hours(w, 3);
    return w;
  }

  it('an automatic pouring machine takes the pourers out of the labour figures', () => {
    const hand = labourKpis(foundry(0));
    const auto = labourKpis(foundry(1));
    const pourHand = hand.stations.find((s) => s.id === 'pour')!;
    const pourAuto = auto.stations.find((s) => s.id === 'pour')!;
    expect(pourHand.workedHours).toBeGreaterThan(2);
    expect(pourAuto.workedHours).toBe(0);
    // the melter's tending stays
    expect(auto.stations.find((s) => s.id === 'melt')!.workedHours).toBeGreaterThan(1);
    expect(auto.operatorsNeeded).toBeLessThan(hand.operatorsNeeded);
    expect(auto.workedHours).toBeLessThan(hand.workedHours / 2);
  });

  it('a furnace without its melter does not start a heat', () => {
    const w = new World({
      dt: DT,
      seed: 5,
      stations: [
        st('src', 'source', { rate: 1800, jitter: 0, slots: 5, mtbf: 0 }, 'melt'),
        st('melt', 'induction-furnace', { batch: 5, partMass: 20, mtbf: 1e9 }, 'out'),
        st('out', 'sink', {}, null),
      ],
      crews: [crew(0, ['tend'], [{ station: 'melt', places: 1 }])],
    });
    w.enqueue({ target: 'line', command: 'start', source: 'scenario', principal: 'test' });
    hours(w, 1);
    expect(w.read(w.indexOf('melt'), 'heats')).toBe(0);
    expect(shipped(w)).toBe(0);
  });
});

describe('crews: shift pattern and repairs', () => {
  it('breaks take people away: less present time and less output', () => {
    const plain = handling([crew(2, ['load'], [{ station: 'hand', places: 2 }], { shiftLength: 3600 })]);
    const breaks = handling([crew(2, ['load'], [{ station: 'hand', places: 2 }], { shiftLength: 3600, breaks: [{ at: 1200, length: 900, share: 1 }] })]);
    const relief = handling([crew(2, ['load'], [{ station: 'hand', places: 2 }], { shiftLength: 3600, breaks: [{ at: 1200, length: 900, share: 0.5 }] })]);
    for (const w of [plain, breaks, relief]) hours(w, 2);
    const [p, b, r] = [plain, breaks, relief].map((w) => labourKpis(w).crews[0]!);
    // two 15-minute breaks in two hours: a quarter of the time away
    expect(b!.presentHours).toBeCloseTo(4 * 0.75, 1);
    expect(r!.presentHours).toBeCloseTo(4 * 0.875, 1);
    expect(p!.presentHours).toBeCloseTo(4, 1);
    expect(shipped(breaks)).toBeLessThan(0.8 * shipped(plain));
    expect(shipped(relief)).toBeLessThan(0.93 * shipped(plain));
    expect(shipped(relief)).toBeGreaterThan(shipped(breaks));
  });

  it('off-shift hours leave the station waiting', () => {
    const w = handling([crew(2, ['load'], [{ station: 'hand', places: 2 }], { presence: 3600 })]);
    hours(w, 2);
    const k = labourKpis(w);
    expect(k.crews[0]!.presentHours).toBeCloseTo(2, 1);
    expect(k.stations[0]!.labourWaitHours).toBeGreaterThan(0.9);
  });

  it('a repair takes a person: with nobody free the breakdown lasts longer', () => {
    const repairTime = (size: number): number => {
      const w = handling([crew(size, ['load', 'repair'], [{ station: 'hand', places: 1 }])], { secondsPerPart: 5 });
      w.scheduleAt(Math.round(600 / DT), { target: 'hand', command: 'fault', args: { code: 'breakdown', duration: 300 }, source: 'scenario', principal: 'test' });
      hours(w, 1);
      return (w.read(w.indexOf('hand'), 'repairTicks') * DT);
    };
    expect(repairTime(1)).toBeCloseTo(300, 0);
    // the station's own person holds on to nothing while it is down, so one person is enough;
    // a crew of nobody never repairs it
    expect(repairTime(0)).toBe(0);
  });
});

describe('crews in scenario files', () => {
  const base = (crews: string): string => `version: 1
id: crew-test
title: { en: "t", zh: "t" }
stations:
  - { id: src, kind: source, params: { rate: 1 1/s }, next: hand }
  - { id: hand, kind: manual-station, params: { secondsPerPart: 10 s, operators: 3 }, next: out }
  - { id: out, kind: sink, next: null }
${crews}`;

  it('loads crews with units and runs them', () => {
    const spec = parseScenario(base(`crews:
  - id: handlers
    name: { en: "Handlers", zh: "搬运工" }
    size: 1
    skills: [load]
    stations: [{ station: hand, places: 2 }]
    shift: { hoursPerDay: 16 h, length: 8 h, breaks: [{ at: 4 h, length: 30 min, share: 0.5 }] }
`), 'crew.yaml');
    expect(spec.crews).toEqual([{
      id: 'handlers', name: { en: 'Handlers', zh: '搬运工' }, size: 1, skills: ['load'], stations: [{ station: 'hand', places: 2 }],
      presence: 16 * 3600, shiftLength: 8 * 3600, breaks: [{ at: 4 * 3600, length: 1800, share: 0.5 }],
    }]);
    const w = createWorld({ ...spec, dt: DT });
    hours(w, 0.5);
    const k = computeKpis(w);
    // one person at 10 s a part, not the three the station's operators parameter names
    expect(k.shipped).toBeGreaterThan(150);
    expect(k.shipped).toBeLessThan(185);
    expect(k.operators).toBe(1);
    expect(k.labour.source).toBe('crews');
  });

  it('without crews the operators parameter is the station\'s own team, as before', () => {
    const spec = parseScenario(base(''), 'old.yaml');
    expect(spec.crews).toEqual([]);
    const w = createWorld({ ...spec, dt: DT });
    hours(w, 0.5);
    const k = computeKpis(w);
    // three people at 10 s a part: ~540 parts in half an hour
    expect(k.shipped).toBeGreaterThan(500);
    expect(k.shipped).toBeLessThan(560);
    expect(k.labour.source).toBe('staffing');
    expect(k.operators).toBe(3);
    expect(k.labourHours).toBeCloseTo(1.5, 2);
  });

  it('a crew that can do nothing at a station is an error naming both', () => {
    const bad = () => parseScenario(base(`crews:
  - { id: packers, size: 2, skills: [pack], stations: [hand] }
`), 'bad.yaml');
    expect(bad).toThrow(TwinlineError);
    expect(bad).toThrow(/crew "packers" serves "hand" but can do nothing there: its task is "load"/);
    expect(() => parseScenario(base(`crews:
  - { id: a, size: 1, skills: [load], stations: [nowhere] }
`), 'ref.yaml')).toThrow(/station "nowhere" does not exist/);
    expect(() => parseScenario(base(`crews:
  - { id: a, size: 1, skills: [juggle], stations: [hand] }
`), 'skill.yaml')).toThrow(TwinlineError);
  });

  it('a snapshot keeps who is busy: the restored run goes on identically', () => {
    const a = handling([crew(1, ['load'], [{ station: 'hand', places: 2 }])]);
    hours(a, 0.2);
    const snap = a.takeSnapshot();
    const b = handling([crew(1, ['load'], [{ station: 'hand', places: 2 }])]);
    b.restoreSnapshot(snap);
    hours(a, 0.2);
    hours(b, 0.2);
    expect(b.eventLogHash()).toBe(a.eventLogHash());
    expect(labourKpis(b)).toEqual(labourKpis(a));
  });
});
