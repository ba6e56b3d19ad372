/**
 * Next-event time advance (sim/core/advance.ts) is exact: every built-in line, stepped with
 * bulk advance and tick by tick ('per-tick'), at its own 1 ms tick, with live commands arriving
 * between step() calls of odd sizes and scheduled ones landing mid-call, ends in the same bytes
 * (the whole world buffer), the same event log and hash, and the same KPIs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/line/parse.ts';
import { createWorld } from '../../sim/line/build.ts';
import { computeKpis } from '../../sim/core/kpi.ts';
import { quietTicks } from '../../sim/core/advance.ts';
import { H } from '../../sim/core/world-layout.ts';
import { Defect } from '../../sim/core/parts.ts';
import type { Command } from '../../sim/core/commands.ts';
import type { World } from '../../sim/core/world.ts';
import type { LineSpec } from '../../sim/line/types.ts';
import type { SimEvent } from '../../sim/core/events.ts';

const LINES = ['ceramic-before', 'ceramic-after', 'steel-ball-before', 'steel-ball-after', 'cable-before', 'cable-after', 'spring-before', 'spring-after', 'toilet-module-before', 'toilet-module-after', 'bearing-before', 'bearing-after'];
/** simulated minutes per line: long enough for faults, repairs and parts through most stations */
const MINUTES = 15;

interface Run {
  events: SimEvent[];
  bytes: Uint8Array;
  hash: string;
  kpis: string;
  /** the longest stretch quietTicks offered at the chunk boundaries (0 per tick) */
  longest: number;
}

/** The same script of step() calls and commands, on a world with the given time advance. */
function run(id: string, mode: World['timeAdvance'], params: Record<string, number> = {}, byKind: Record<string, Record<string, number>> = {}, edit: (spec: LineSpec) => void = () => undefined): Run {
  const file = `scenarios/${id}.yaml`;
  const spec = parseScenario(readFileSync(file, 'utf8'), file);
  edit(spec);
  // e.g. energy standby of Suspended machines: their power drops at a tick nothing else marks
  for (const st of spec.stations) Object.assign(st.params, params, byKind[st.kind] ?? {});
  const w = createWorld(spec);
  w.timeAdvance = mode;
  const ids = spec.stations.map((s) => s.id);
  const mid = ids[Math.floor(ids.length / 2)]!;
  const second = ids[1]!;
  const cmd = (target: string, command: string, args?: Command['args']): Command =>
    ({ target, command, source: 'api', principal: 'test', ...(args !== undefined ? { args } : {}) });
  // live commands land at the start of the step() call after them
  const script: (readonly [number, Command | null])[] = [
    [61_237, cmd(mid, 'stop')],
    [4_001, cmd(mid, 'reset')],
    [2, cmd(mid, 'start')],
    [190_003, cmd(second, 'fault', { duration: 95.5 })],
    [1, null],
    [123_457, cmd('line', 'hold')],
    [30_011, cmd('line', 'unhold')],
    [250_000, cmd(second, 'set', { field: 'mttr', value: 777 })],
  ];
  // a scheduled command lands inside a long step() call
  w.scheduleAt(433_333, cmd(mid, 'fault', { code: 'jam', duration: 42 }));
  const events: SimEvent[] = [];
  let longest = 0;
  const total = Math.round((MINUTES * 60) / spec.dt);
  for (const [n, c] of script) {
    longest = Math.max(longest, quietTicks(w, 1e9, 1e15, (w.hdr[H.nextKpi] ?? 0) - 1 - w.tick));
    w.step(n);
    w.drainEvents((e) => events.push(e));
    if (c !== null) w.enqueue(c);
  }
  w.step(total - w.tick);
  w.drainEvents((e) => events.push(e));
  expect(w.tick).toBe(total);
  return { events, bytes: new Uint8Array(w.takeSnapshot()), hash: w.eventLogHash(), kpis: JSON.stringify(computeKpis(w)), longest };
}

describe('next-event time advance', () => {
  it.each(LINES)('%s: bulk advance and per-tick stepping end in the same state, events and KPIs', (id) => {
    const bulk = run(id, 'next-event');
    const each = run(id, 'per-tick');
    // the script did reach quiet stretches, so bulk advance was in play
    expect(bulk.longest).toBeGreaterThan(10);
    expect(bulk.events.length).toBeGreaterThan(50);
    expect(bulk.events.some((e) => e.type === 'fault')).toBe(true);
    expect(bulk.events.filter((e) => e.type === 'command').length).toBe(8);
    expect(bulk.hash).toBe(each.hash);
    expect(bulk.events).toEqual(each.events);
    expect(bulk.kpis).toBe(each.kpis);
    expect(Buffer.from(bulk.bytes).equals(Buffer.from(each.bytes))).toBe(true);
  }, 300_000);

  it.each(['ceramic-before', 'steel-ball-after'])('%s with energy standby after 20 s Suspended: the same state, events and KPIs', (id) => {
    const bulk = run(id, 'next-event', { standbyAfter: 20 });
    const each = run(id, 'per-tick', { standbyAfter: 20 });
    expect(bulk.longest).toBeGreaterThan(10);
    expect(bulk.hash).toBe(each.hash);
    expect(bulk.kpis).toBe(each.kpis);
    expect(Buffer.from(bulk.bytes).equals(Buffer.from(each.bytes))).toBe(true);
    // standby did happen: less energy than without it
    expect(JSON.parse(bulk.kpis).energyKWh).toBeLessThan(JSON.parse(run(id, 'next-event').kpis).energyKWh);
  }, 300_000);

  it.each(['steel-ball-before', 'cable-before'])('%s with breakdowns noticed on rounds (patrolTime): the same state, events and KPIs', (id) => {
    // machines that break every few minutes, noticed after about two minutes: repairs wait unseen, then for a person
    const params = { patrolTime: 120, mtbf: 300 };
    const bulk = run(id, 'next-event', params);
    const each = run(id, 'per-tick', params);
    expect(bulk.longest).toBeGreaterThan(10);
    expect(bulk.events.filter((e) => e.type === 'fault' && typeof e.data.unnoticedS === 'number').length).toBeGreaterThan(3);
    expect(bulk.hash).toBe(each.hash);
    expect(bulk.kpis).toBe(each.kpis);
    expect(Buffer.from(bulk.bytes).equals(Buffer.from(each.bytes))).toBe(true);
  }, 300_000);

  it.each(['ceramic-before', 'ceramic-after'])('%s with belts that jam every few metres: the same state, events and KPIs', (id) => {
    // queues stand on the belts and parts run up to them; a jam falls inside many of the
    // stretches a belt would move at once, which it then steps tick by tick
    const byKind = { conveyor: { jamsPerKm: 1000, jamClearTime: 10 } };
    const bulk = run(id, 'next-event', {}, byKind);
    const each = run(id, 'per-tick', {}, byKind);
    expect(bulk.longest).toBeGreaterThan(10);
    expect(bulk.events.filter((e) => e.type === 'fault' && e.data.code === 'jam').length).toBeGreaterThan(20);
    expect(bulk.hash).toBe(each.hash);
    expect(bulk.kpis).toBe(each.kpis);
    expect(Buffer.from(bulk.bytes).equals(Buffer.from(each.bytes))).toBe(true);
  }, 300_000);

  it('cable-before with a check by hand every 2 minutes, each holding or waiting for the crew\'s one person: the same state, events and KPIs', () => {
    // a crew of one, whom the final test keeps busy two thirds of the time: checks also wait for them
    const byKind = { extruder: { checkInterval: 120, checkTime: 45 }, 'manual-inspection': { secondsPerPart: 40 } };
    const alone = (spec: LineSpec): void => {
      spec.crews = spec.crews.map((c) => ({ ...c, size: 1 }));
    };
    const bulk = run('cable-before', 'next-event', {}, byKind, alone);
    const each = run('cable-before', 'per-tick', {}, byKind, alone);
    expect(bulk.longest).toBeGreaterThan(10);
    // the checks did take the crew's time
    const ex = JSON.parse(bulk.kpis).labour.stations.find((st: { id: string }) => st.id === 'extruder');
    expect(ex.workedHours).toBeGreaterThan(0.05);
    expect(ex.labourWaitHours).toBeGreaterThan(0.01);
    expect(bulk.events.some((e) => e.type === 'alarm' && e.station === 'extruder' && e.data.code === 'CHECK_WAITING')).toBe(true);
    expect(bulk.hash).toBe(each.hash);
    expect(bulk.kpis).toBe(each.kpis);
    expect(Buffer.from(bulk.bytes).equals(Buffer.from(each.bytes))).toBe(true);
  }, 300_000);

  it.each(['bearing-before', 'bearing-after'])('%s with the chiller tripping and samples every 3rd ring: a containment and hand tests, the same state, events and KPIs', (id) => {
    // a short soak floods the quench with heat and the chiller trips every few minutes, so rings
    // come through soft within the 15 minutes; sampled often, they are found and held
    const byKind = { quench: { soakTime: 60, bathMass: 20, chillerMtbf: 0.02, chillerMttr: 0.2 }, 'release-test': { sampleEvery: 3, testTime: 20 } };
    const bulk = run(id, 'next-event', {}, byKind);
    const each = run(id, 'per-tick', {}, byKind);
    expect(bulk.longest).toBeGreaterThan(10);
    expect(bulk.events.some((e) => e.type === 'alarm' && e.station === 'harden' && e.data.code === 'CHILLER_TRIPPED')).toBe(true);
    expect(bulk.events.filter((e) => e.type === 'part-scrapped' && (Number(e.data.defects) & Defect.hardness) !== 0).length).toBeGreaterThan(0);
    expect(bulk.hash).toBe(each.hash);
    expect(bulk.kpis).toBe(each.kpis);
    expect(Buffer.from(bulk.bytes).equals(Buffer.from(each.bytes))).toBe(true);
  }, 300_000);
});
