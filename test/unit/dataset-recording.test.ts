/**
 * The host's dataset records and the export over them, without a server: a real kiln-cell world
 * stepped in-process, its values sampled by the `ValueRecorder` and its events written by the
 * `RunLog`, both rotating at a few kB or less, attack runs in a `CappedLog`, then `exportDataset` reads
 * the rotated files oldest first.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimEvent } from '../../sim/core/events.ts';
import { createWorld } from '../../sim/line/build.ts';
import { parseScenario } from '../../sim/line/parse.ts';
import { CappedLog, RunLog } from '../../sim/host/run-log.ts';
import { describeRun, valueColumns, ValueRecorder } from '../../sim/host/value-recorder.ts';
import { lineInfo } from '../../sim/worker/twin-view.ts';
import { exportDataset } from '../../security/dataset/export.ts';

const work = mkdtempSync(join(tmpdir(), 'twinline-dataset-rec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the attack log', () => {
  it('stops at its cap and says how many runs it left out', () => {
    const file = join(work, 'capped.ndjson');
    const log = new CappedLog(file, 2);
    for (let k = 1; k <= 5; k++) log.write({ run: k });
    log.close();
    log.write({ run: 6 });
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ run: 1 }, { run: 2 }, { truncated: true, more: 3, limit: 2 }]);
  });
});

describe('recorded values and events, rotated, into a dataset', () => {
  it('samples every station\'s fields in one tick, rotates, and the export reads the files oldest first with labels by tick', async () => {
    const file = 'test/fixtures/scenarios/kiln-cell.yaml';
    const spec = parseScenario(readFileSync(file, 'utf8'), file);
    const w = createWorld(spec);
    const dir = join(work, 'run');
    const runLog = new RunLog({ dir, rotateBytes: 1024, keep: 200 });
    const columns = valueColumns(w, lineInfo(spec, w));
    expect(columns.slice(0, 6).map((c) => c.name)).toEqual(['src.state', 'src.mode', 'src.fault', 'src.alarms', 'src.interlock', 'src.activity']);
    expect(columns.find((c) => c.name === 'kiln.power')).toMatchObject({ unit: 'W', access: 'r' });
    describeRun(dir, { scenario: { id: spec.id, title: spec.title.en, file, seed: spec.seed }, speed: 'max', profile: 'open', startedAtMs: 0, dt: w.dt, sampleMs: 1000, columns });
    // the timer is an hour: the test takes every sample itself
    const rec = new ValueRecorder({ dir, reader: w, columns, stationIndex: new Map(spec.stations.map((s, k) => [s.id, k])), everyMs: 3_600_000, rotateBytes: 8192, keep: 50 });
    const attacks = new CappedLog(join(dir, 'attacks.ndjson'));
    const drain = (): void => {
      const evs: SimEvent[] = [];
      w.drainEvents((e) => evs.push(e));
      runLog.onEvents(evs);
    };
    // 60 samples, 10 s of line time apart; an operator's stop in an attack window from 190 s to 290 s
    for (let k = 1; k < 60; k++) {
      const run = { run: 1, attack: 'rest-stop', techniques: ['T0855'], face: 'rest', station: 'kiln', startTick: 190_000 };
      if (k === 20) attacks.write({ event: 'start', ...run, startedAtMs: Date.now(), endTick: null });
      if (k === 21) w.enqueue({ target: 'kiln', command: 'stop', source: 'api', principal: 'anonymous@127.0.0.1', role: 'operator' });
      if (k === 30) attacks.write({ event: 'end', ...run, endTick: w.tick, outcome: 'succeeded' });
      // a trainer's off-spec clay batch at the feed: a disturbance, not an attack
      if (k === 40) w.enqueue({ target: 'src', command: 'disturb', args: { kind: 'material', share: 0.5, duration: 60 }, source: 'api', principal: 'instructor@127.0.0.1', role: 'instructor' });
      w.step(10_000);
      drain();
      rec.sample();
    }
    rec.close();
    attacks.close();
    runLog.close();
    // a host killed mid-write leaves half a line
    appendFileSync(join(dir, 'values.ndjson'), '{"ms":1,"tick":9');
    const files = readdirSync(dir);
    expect(files.filter((f) => /^values\.\d+\.ndjson$/.test(f)).length).toBeGreaterThan(5);
    expect(files.filter((f) => /^events\.\d+\.ndjson$/.test(f)).length).toBeGreaterThan(0);

    const out = join(work, 'out');
    const s = await exportDataset({ dir, out });
    // the first sample (at start) and one per step; the one close() takes at the same tick is left out
    expect(s.rows).toBe(60);
    const rows = readFileSync(join(out, 'dataset.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.tick)).toEqual(Array.from({ length: 60 }, (_, k) => k * 10_000));
    expect(rows.map((r) => r.sim_s)).toEqual(Array.from({ length: 60 }, (_, k) => k * 10));
    // labels by tick: a row covers (previous tick, its tick]; the window is [190 s, 290 s]
    const label = (t: number): unknown => rows.find((r) => r.tick === t)?.label;
    expect(label(180_000)).toBe('normal');
    expect(label(190_000)).toBe('rest-stop');
    expect(rows.find((r) => r.tick === 190_000)?.attack_fraction).toBe(0.0001);
    expect(label(250_000)).toBe('rest-stop');
    expect(label(290_000)).toBe('rest-stop');
    expect(label(300_000)).toBe('normal');
    expect(s.balance).toEqual({ normal: 49, 'rest-stop': 11 });
    // the operator's stop is counted once, in the row that covers it, and the kiln reads Stopped after it
    const stopRow = rows.find((r) => (r.commands_api as number) > 0);
    expect(stopRow).toMatchObject({ tick: 200_000, label: 'rest-stop', commands_api: 1 });
    // and the trainer's disturbance, sent over REST too
    expect(rows.filter((r) => (r.commands_api as number) > 0).map((r) => r.tick)).toEqual([200_000, 390_000]);
    // the disturbance counted once, in the row that covers it, labelled normal (no attack ran then)
    expect(rows.filter((r) => (r.disturbances as number) > 0)).toEqual([expect.objectContaining({ tick: 390_000, label: 'normal', disturbances: 1 })]);
    expect(rows.find((r) => r.tick === 180_000)?.['kiln.state']).not.toBe(2);
    expect(rows.find((r) => r.tick === 220_000)?.['kiln.state']).toBe(2);
    expect(s.problems).toContain('values.ndjson: 1 line(s) not JSON (a partial last line of a host still writing?), skipped');
    expect(s.problems).toContain('1 sample(s) without a newer tick than the one before (repeated, out of order or missing), skipped');
    const card = readFileSync(join(out, 'DATACARD.md'), 'utf8');
    expect(card).toMatch(/In this export: values\.ndjson: 1 line\(s\) not JSON/);
    // what the coded fields' numbers mean, from run.json
    expect(card).toMatch(/^- `state`: 0 Undefined, 1 Clearing, 2 Stopped, .*6 Execute/m);
    expect(card).toMatch(/^- `mode`: 0 Undefined, 1 Production, 2 Maintenance, 3 Manual$/m);
    expect(card).toContain('one tick is 0.001 s of line time');
  });
});
