/**
 * The SimApi served from a real Node worker thread (comlink over worker_threads, TypeScript
 * loaded in the worker): same results as the main thread, commands, snapshots, real-time
 * pacing and a zero-copy reader over the shared buffer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/line/parse.ts';
import { createWorld } from '../../sim/line/build.ts';
import { spawnNodeSim, loadRemote, type NodeSim } from '../../sim/worker/node-host.ts';
import { openReader, readTick } from '../../sim/worker/reader.ts';
import type { AsyncApi, SimApi } from '../../sim/worker/api.ts';

const FILE = 'worker-line.yaml';
const LINE = `version: 1
id: worker-line
title: { en: "Worker test line", zh: "工作线程测试产线" }
isa95: { enterprise: Twinline, site: Test, area: Workers, line: worker-line }
seed: 5
kpiInterval: 1 min
stations:
  - { id: src, kind: source, name: { en: Source, zh: 上料 }, at: { x: 0, z: 0, rotation: 0 }, params: { rate: 900 1/h, slots: 2 }, next: belt }
  - { id: belt, kind: conveyor, name: { en: Belt, zh: 输送带 }, at: { x: 2 m, z: 0, rotation: 0 }, params: { length: 2 m, speed: 0.5 m/s, mtbf: 10 min, mttr: 20 s }, next: press }
  - { id: press, kind: press, name: { en: Press, zh: 压机 }, at: { x: 4 m, z: 0, rotation: 0 }, params: { cycleTime: 3 s, mtbf: 15 min, mttr: 40 s, transitionTime: 200 ms }, next: kiln }
  - { id: kiln, kind: kiln, name: { en: Kiln, zh: 窑炉 }, at: { x: 8 m, z: 0, rotation: 0 }, params: { slots: 30, residence: 60 s, tau: 30 s }, next: out }
  - { id: out, kind: sink, name: { en: Out, zh: 下料 }, at: { x: 12 m, z: 0, rotation: 0 } }
`;

const MIN = 60_000; // ticks per simulated minute at 1 ms

function mainThreadHash(ticks: number, seed?: number): { hash: string; events: number } {
  const w = createWorld(parseScenario(LINE, FILE), seed !== undefined ? { seed } : {});
  w.step(ticks);
  return { hash: w.eventLogHash(), events: w.eventCount };
}

async function stepInChunks(api: AsyncApi<SimApi>, ticks: number): Promise<void> {
  for (let left = ticks; left > 0; left -= MIN) await api.step(Math.min(MIN, left));
  await api.drainEvents();
}

describe('SimApi in a Node worker thread', () => {
  let sim: NodeSim;

  beforeAll(async () => {
    sim = spawnNodeSim();
  });
  afterAll(async () => {
    await sim.terminate();
  });

  it('gives the same event-log hash as the main thread for the same scenario and seed', async () => {
    const info = await loadRemote(sim.api, LINE, FILE, { seed: 9 });
    expect(info).toMatchObject({ id: 'worker-line', seed: 9, dt: 0.001 });
    expect(info.stations.map((s) => s.kind)).toEqual(['source', 'conveyor', 'press', 'kiln', 'sink']);
    await stepInChunks(sim.api, 10 * MIN);
    const ref = mainThreadHash(10 * MIN, 9);
    const st = await sim.api.state();
    expect(st.tick).toBe(10 * MIN);
    expect(st.events).toBe(ref.events);
    expect(ref.events).toBeGreaterThan(200);
    expect(await sim.api.eventLogHash()).toBe(ref.hash);
    // and another seed really is another run
    expect(mainThreadHash(10 * MIN, 10).hash).not.toBe(ref.hash);
  });

  it('returns every problem of a bad scenario as data, with file and line', async () => {
    const bad = LINE.replace('speed: 0.5 m/s', 'speed: 0.5 kg').replace('next: out', 'next: nowhere');
    const r = await sim.api.load(bad, 'bad.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.code).sort()).toEqual(['BAD_UNIT', 'SCENARIO_REFERENCE']);
    for (const p of r.problems) {
      expect(p.where.file).toBe('bad.yaml');
      expect(p.where.line).toBeGreaterThan(5);
    }
    await expect(loadRemote(sim.api, bad, 'bad.yaml')).rejects.toMatchObject({ name: 'TwinlineError', code: expect.stringMatching(/BAD_UNIT|SCENARIO_REFERENCE/) });
  });

  it('changes PackML states through commands and rejects what PackML forbids', async () => {
    await loadRemote(sim.api, LINE, FILE);
    await sim.api.step(5000);
    await sim.api.drainEvents();
    const press = async (): Promise<string> => (await sim.api.state()).stations.find((s) => s.id === 'press')?.state ?? '?';
    expect(await press()).toBe('Execute');

    const stop = sim.api.send({ target: 'press', command: 'stop', source: 'hmi', principal: 'hmi:operator', role: 'operator' });
    await sim.api.step(1);
    expect(await stop).toEqual({ ok: true });
    expect(await press()).toBe('Stopping');
    await sim.api.step(1000);
    expect(await press()).toBe('Stopped');

    const start = sim.api.send({ target: 'press', command: 'start', source: 'hmi', principal: 'hmi:operator', role: 'operator' });
    await sim.api.step(1);
    expect(await start).toMatchObject({ ok: false, code: 'NOT_ALLOWED' });

    const reset = sim.api.send({ target: 'press', command: 'reset', source: 'opcua', principal: 'opcua:engineer', role: 'engineer' });
    const start2 = sim.api.send({ target: 'press', command: 'start', source: 'opcua', principal: 'opcua:engineer', role: 'engineer' });
    await sim.api.step(1000);
    expect(await reset).toEqual({ ok: true });
    expect(await start2).toMatchObject({ ok: false, code: 'NOT_ALLOWED' }); // still Resetting when it is applied
    const events = await sim.api.drainEvents();
    const pressStates = events.filter((e) => e.type === 'state' && e.station === 'press').map((e) => e.data.to);
    expect(pressStates).toEqual(['Stopping', 'Stopped', 'Resetting', 'Idle']);
    expect(events.filter((e) => e.type === 'rejected').map((e) => e.data.principal)).toEqual(['hmi:operator', 'opcua:engineer']);

    // malformed commands never reach the world
    const bad = await sim.api.send({ target: 'press', command: 'stop', source: 'nobody', principal: 'x' } as never);
    expect(bad).toMatchObject({ ok: false, code: 'BAD_ARGUMENT' });
    expect((await sim.api.commands()).map((c) => c.command)).toEqual(['start', 'stop', 'start', 'reset', 'start']);
  });

  it('replays the logged commands after a restore: the hash chain is the uninterrupted run\'s', async () => {
    await loadRemote(sim.api, LINE, FILE, { seed: 3 });
    await stepInChunks(sim.api, 2 * MIN);
    const snap = await sim.api.snapshot();
    const op = { source: 'api', principal: 'operator@test', role: 'operator' } as const;
    void sim.api.send({ target: 'belt', command: 'set', args: { field: 'speed', value: 0.3 }, ...op });
    await stepInChunks(sim.api, MIN);
    void sim.api.send({ target: 'press', command: 'stop', ...op });
    await stepInChunks(sim.api, 3 * MIN);
    const ref = { hash: await sim.api.eventLogHash(), tick: (await sim.api.state()).tick };
    const logged = await sim.api.commands(0);
    expect(logged.map((c) => c.command)).toEqual(['start', 'set', 'stop']);
    await sim.api.restore(snap);
    // the scenario's own start is before the snapshot (and in its schedule): two are replayed
    expect(await sim.api.replay(logged)).toBe(2);
    await stepInChunks(sim.api, ref.tick - 2 * MIN);
    expect(await sim.api.eventLogHash()).toBe(ref.hash);
    // without the commands the line goes another way
    await sim.api.restore(snap);
    expect(await sim.api.replay([])).toBe(0);
    await stepInChunks(sim.api, ref.tick - 2 * MIN);
    expect(await sim.api.eventLogHash()).not.toBe(ref.hash);
  });

  it('restores a snapshot and continues exactly as an uninterrupted run', async () => {
    await loadRemote(sim.api, LINE, FILE, { seed: 3 });
    await stepInChunks(sim.api, 8 * MIN);
    const snap = await sim.api.snapshot();
    expect(snap.byteLength).toBeGreaterThan(1000);
    // a different future that the restore throws away
    void sim.api.send({ target: 'line', command: 'stop', source: 'attack', principal: 'attack:test', role: 'instructor' });
    await stepInChunks(sim.api, 3 * MIN);
    const diverged = await sim.api.eventLogHash();
    await sim.api.restore(snap);
    expect((await sim.api.state()).tick).toBe(8 * MIN);
    await stepInChunks(sim.api, 8 * MIN);
    const ref = mainThreadHash(16 * MIN, 3);
    const hash = await sim.api.eventLogHash();
    expect(hash).toBe(ref.hash);
    expect(hash).not.toBe(diverged);
    // a damaged snapshot is refused and the line is left as it was
    const broken = snap.slice(0, snap.byteLength - 8);
    await expect(sim.api.restore(broken)).rejects.toThrow(/snapshot size does not match this line/);
    await expect(sim.api.restore(new Uint8Array(40))).rejects.toThrow(/not a Twinline snapshot/);
    expect(await sim.api.eventLogHash()).toBe(hash);
    expect((await sim.api.state()).tick).toBe(16 * MIN);
  });

  it('runs paced in real time, serves calls meanwhile, and readers see the shared buffer', async () => {
    await loadRemote(sim.api, LINE, FILE);
    const view = await sim.api.shared();
    expect(view.buffer).toBeInstanceOf(SharedArrayBuffer);
    const reader = openReader(view);
    await sim.api.setSpeed(1);
    const t0 = performance.now();
    await sim.api.start();
    await new Promise((r) => setTimeout(r, 600));
    // a command while running is applied by the paced loop itself
    const stop = await sim.api.send({ target: 'belt', command: 'stop', source: 'mqtt', principal: 'mqtt:scada', role: 'operator' });
    expect(stop).toEqual({ ok: true });
    const seen = readTick(reader);
    await new Promise((r) => setTimeout(r, 400));
    const st = await sim.api.state();
    await sim.api.pause();
    const wallMs = performance.now() - t0;
    expect(st.running).toBe(true);
    expect(st.stations.find((s) => s.id === 'belt')?.state).toMatch(/Stopping|Stopped/);
    // ≈ 1 tick per ms (generous: two shared cores)
    expect(st.tick).toBeGreaterThan(wallMs * 0.75);
    expect(st.tick).toBeLessThan(wallMs * 1.05);
    expect(seen).toBeGreaterThan(400);
    expect(seen).toBeLessThanOrEqual(st.tick);
    expect(readTick(reader)).toBeGreaterThanOrEqual(st.tick);
    // the reader's view of the state arrays is the writer's memory
    const beltState = reader.readConsistent(() => reader.st.state[reader.indexOf('belt')]).value;
    expect(beltState === 7 || beltState === 2).toBe(true); // Stopping or Stopped
    expect(st.pacing.ticks).toBeGreaterThan(500);
    expect(st.pacing.p50).toBeLessThan(1);
  });

  it('fails calls instead of hanging when the worker dies', async () => {
    const doomed = spawnNodeSim();
    await loadRemote(doomed.api, LINE, FILE);
    await doomed.worker.terminate();
    await expect(doomed.api.state()).rejects.toThrow(/worker exited/);
  });
});
